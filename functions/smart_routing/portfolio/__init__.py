"""TODO: portfolio."""
