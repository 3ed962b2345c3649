"""Remote actors following this site's writers: ``Follow``, ``Accept`` (now,
or when the writer approves), ``Undo``; the writer's list of them, and
removing one."""

from __future__ import annotations

import typing as t

from flaskr.models import RemoteActor


def receive_follow(actor: RemoteActor, activity: dict[str, t.Any]) -> None:
    """``actor`` asks to follow the writer ``activity["object"]`` names."""
    raise NotImplementedError


def receive_undo_follow(actor: RemoteActor, activity: dict[str, t.Any]) -> None:
    """``actor`` stops following (or withdraws its request)."""
    raise NotImplementedError
