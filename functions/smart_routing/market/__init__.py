"""What the market says: quotes and bars, spread and book depth, trading sessions and the
trading calendar, currency conversion, bar statistics. May import: domain."""
