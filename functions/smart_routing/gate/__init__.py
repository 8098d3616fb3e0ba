"""TODO: gate."""
