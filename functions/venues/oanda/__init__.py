"""OANDA through oandapyV20 for forex: prices, candles, instruments and orders (trading), and
ORDER_FILL transactions for the reconciler (fills). May import: the core, oandapyV20, the
shared venue modules (http, settings, fill_entries, instrument_specs)."""
