"""The firebase_admin app and the Firestore client, initialized once per instance (however
many request threads ask first)."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

import firebase_admin
from firebase_admin import credentials

from smart_routing_firebase.platform.once import once

if TYPE_CHECKING:
    from google.cloud.firestore import Client

_EMULATOR_HOSTS = ("FIRESTORE_EMULATOR_HOST", "FIREBASE_AUTH_EMULATOR_HOST")


class _AnonymousCredential(credentials.Base):
    """Emulators take no credentials; without this, firestore.client() looks for real ones."""

    def get_credential(self):  # google.auth credentials
        from google.auth.credentials import AnonymousCredentials

        return AnonymousCredentials()


def project_id() -> str | None:
    return os.environ.get("GCLOUD_PROJECT") or os.environ.get("GOOGLE_CLOUD_PROJECT")


def is_emulated() -> bool:
    return any(os.environ.get(name) for name in _EMULATOR_HOSTS)


@once
def initialize() -> firebase_admin.App:
    """The default app: anonymous credentials against the emulators, default ones in the cloud.
    One already initialized in this process (a test's, say) is used as it is."""
    try:
        return firebase_admin.get_app()
    except ValueError:
        pass
    if is_emulated():
        return firebase_admin.initialize_app(
            _AnonymousCredential(), options={"projectId": project_id()}
        )
    return firebase_admin.initialize_app()


@once
def firestore_client() -> Client:
    from firebase_admin import firestore

    return firestore.client(initialize())
