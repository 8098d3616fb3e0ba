"""Making the records agree with the venues: venue fills into the ledger, paper working orders,
unknown and working orders refreshed, limit expiry, drift, markouts. May import: the core,
stores, platform."""
