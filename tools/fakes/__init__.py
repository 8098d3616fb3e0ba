"""Loopback fakes of the venues' REST APIs, for the real client libraries to talk to."""
