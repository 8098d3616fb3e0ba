"""Real venues behind the core's ports: Alpaca (alpaca-py) for equities, crypto and options,
OANDA (oandapyV20) for forex, in one package each; beside them what they share (http,
settings, fill entries, instrument specs, quote sources, the class router, recording) and the
wiring that picks a venue or paper per asset class. Their client libraries load only when a
venue is configured. May import: the core, never the Firebase side."""
