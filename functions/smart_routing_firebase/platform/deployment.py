"""Deployment settings that main.py and the tools share. Imports nothing, so the tools can
read them without loading the Firebase SDK."""

REGION = "us-central1"
