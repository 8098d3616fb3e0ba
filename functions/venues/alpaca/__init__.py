"""Alpaca through alpaca-py: quotes, bars, books, instruments and orders (trading), and FILL
activities for the reconciler (fills). May import: the core, alpaca-py, the shared venue
modules (http, settings, fill_entries, instrument_specs)."""
