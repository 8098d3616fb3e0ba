"""Real venues behind the core's ports: Alpaca (alpaca-py) for equities, crypto and options,
OANDA (oandapyV20) for forex. Their client libraries load only when a venue is configured."""
