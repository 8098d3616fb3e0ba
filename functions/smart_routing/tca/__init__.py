"""Transaction cost analysis of a tenant's day: the daily roll-up of decisions, orders and
trades. May import: domain, market, portfolio, execution (decision records)."""
