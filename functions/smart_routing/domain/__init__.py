"""The trading vocabulary: assets and symbols, instruments and their grids, money, orders,
fills, signals, slippage against arrival, trading states, ids and errors. May import: the
standard library and pydantic only."""
