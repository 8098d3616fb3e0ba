"""Enqueueing a task on one of our task-queue functions under a deterministic id: Cloud Tasks
refuses a second task with an id it has seen (for about an hour after the first ran; the
emulator for as long as it runs), so whoever enqueues the same work again adds nothing."""

from __future__ import annotations

import os
from typing import Any

from smart_routing import logs
from smart_routing_firebase.platform.deployment import REGION

ENQUEUED, ALREADY_ENQUEUED = "enqueued", "already_enqueued"


class MalformedTask(ValueError):
    """A task whose data is not one our functions enqueue: no delivery of it can run."""


def refuse_malformed(function: str, exc: MalformedTask) -> str:
    """Log why a task was refused, at ERROR; the reason, for the answer. The task function
    then answers 2xx: Cloud Tasks retries any other answer, and no retry of this one helps."""
    reason = logs.redact(str(exc))
    logs.log_event(logs.LogEvent.TASK_REFUSED, severity="ERROR", function=function, error=reason)
    return reason


def enqueue(function: str, payload: dict[str, Any], task_id: str, delay_s: int = 0) -> str:
    """Enqueue `payload` (the task function's `data`) under `task_id`: ENQUEUED, or
    ALREADY_ENQUEUED when the queue already holds or has run a task with that id. Raises on
    any other failure. Task queue ids (the function's name) take no "_"."""
    from firebase_admin import exceptions, functions

    from smart_routing_firebase.platform.app import initialize

    queue = functions.task_queue(f"locations/{REGION}/functions/{function}", app=initialize())
    try:
        # firebase-admin sends the body as given; the task function reads its "data".
        queue.enqueue(
            {"data": payload},
            functions.TaskOptions(schedule_delay_seconds=delay_s, task_id=task_id),
        )
    except (exceptions.AlreadyExistsError, exceptions.ConflictError):
        return ALREADY_ENQUEUED
    except ValueError as exc:
        # The emulator answers a named task with a name firebase-admin cannot parse, after
        # creating the task (firebase-tools 13.35.1).
        if not (_emulated() and "Invalid resource name format" in str(exc)):
            raise
    return ENQUEUED


def _emulated() -> bool:
    return bool(os.environ.get("CLOUD_TASKS_EMULATOR_HOST"))
