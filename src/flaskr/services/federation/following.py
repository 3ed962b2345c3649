"""This site's users following remote actors: ``Follow`` sent, ``Accept`` or
``Reject`` received; the followed actors' posts as they arrive, and replies
to them sent as ``Note`` objects."""

from __future__ import annotations

import typing as t

from flaskr.models import RemoteActor

Activity = dict[str, t.Any]


def receive_accept(actor: RemoteActor, activity: Activity) -> None:
    raise NotImplementedError


def receive_reject(actor: RemoteActor, activity: Activity) -> None:
    raise NotImplementedError


def receive_post(actor: RemoteActor, activity: Activity) -> None:
    """A ``Create`` or ``Update`` of a post by an actor someone here follows
    is kept (anything else is dropped)."""
    raise NotImplementedError


def receive_delete(actor: RemoteActor, activity: Activity) -> bool:
    """A ``Delete`` of one of ``actor``'s kept posts removes it."""
    raise NotImplementedError
