"""Adapters that need no account and no network: the embedded defaults."""
