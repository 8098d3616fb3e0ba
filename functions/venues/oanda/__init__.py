"""OANDA through oandapyV20 for forex: the client and its 429 retry (client), OANDA's names,
times and amounts (formats), prices and candles (market_data), the account's instruments
(instruments), orders and the account (broker), and ORDER_FILL transactions for the
reconciler (fills). May import: the core, oandapyV20, the shared venue modules (http,
settings, fill_entries, instrument_specs)."""
