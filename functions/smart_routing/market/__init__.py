"""TODO: market."""
