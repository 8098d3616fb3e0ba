"""TODO: domain."""
