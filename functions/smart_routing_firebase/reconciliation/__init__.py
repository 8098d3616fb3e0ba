"""Making the records agree with the venues: venue fills into the ledger (venue_fills, reading
from the cursor in fill_cursor, finding their orders in fill_matching, writing in
fill_commits, keeping what cannot be placed in held_fills), paper working orders, unknown and
working orders refreshed, one new order at a time (one_order), limit expiry, drift,
markouts. May import: the core, venues, stores, platform."""
