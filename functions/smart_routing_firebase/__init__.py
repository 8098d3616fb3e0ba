"""Firebase adapters and handlers for the smart routing core.

Modules load on first use from the function that needs them, so a cold start pays only for
what that function runs.
"""
