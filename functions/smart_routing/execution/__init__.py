"""TODO: execution."""
