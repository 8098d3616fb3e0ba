"""TODO: tca."""
