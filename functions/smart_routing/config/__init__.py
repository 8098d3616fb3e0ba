"""Settings from the environment, checked at start-up (a bad value is an error): the engine's
(engine_config), the session table's overrides (session_overrides), and reading one variable
(environment), which the venues' settings use too. May import: domain, market, gate,
portfolio."""
