"""Replay: what smart routing would have saved, measured on recorded quotes.

`python -m smart_routing replay --quotes QUOTES.csv --orders ORDERS.csv` replays each order
under the `market`, `wait` and `limit` policies (docs/replay.md). Pure: no Firebase, and only
the command imports it (it loads pyarrow and numpy). May import: domain, market, gate,
config.
"""
