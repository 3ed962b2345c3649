"""Replies to this site's posts as comments by remote authors, held or shown
by the moderation rules; likes and boosts counted on the posts; their
``Undo`` and ``Delete``."""

from __future__ import annotations

import typing as t

from flaskr.models import RemoteActor

Activity = dict[str, t.Any]


def receive_note(actor: RemoteActor, activity: Activity) -> bool:
    """A ``Create`` or ``Update`` of a ``Note`` replying to one of this
    site's posts becomes (or edits) a comment; whether it was such a reply."""
    raise NotImplementedError


def receive_delete(actor: RemoteActor, activity: Activity) -> bool:
    """A ``Delete`` of one of ``actor``'s comments here removes it; whether
    it named one."""
    raise NotImplementedError


def receive_like(actor: RemoteActor, activity: Activity) -> None:
    raise NotImplementedError


def receive_announce(actor: RemoteActor, activity: Activity) -> None:
    raise NotImplementedError


def receive_undo(actor: RemoteActor, activity: Activity) -> None:
    """``Undo`` of a ``Like`` or an ``Announce``."""
    raise NotImplementedError


def forget_actor(actor: RemoteActor) -> None:
    """``actor`` was deleted: its comments, reactions and follows go."""
    raise NotImplementedError
