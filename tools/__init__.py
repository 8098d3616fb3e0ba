"""Developer tools: the emulator harness and client used by the tests and `make demo`."""
