"""The archive format Flaskr exports and imports (``flaskr-export``): its
name and version, and the shape of each JSON record and of a post's front
matter.

The exporter writes these shapes and the other engines' readers
(``foreign.py``) build them; the importer never trusts them, since a file
may hold anything: it reads every record as :data:`Fields` and checks each
field before use.
"""

from __future__ import annotations

import typing as t

FORMAT = "flaskr-export"
FORMAT_VERSION = 1

#: A record as read from a file nobody vouches for: each value is checked.
Fields = t.Mapping[str, object]


class ProfileRecord(t.TypedDict, total=False):
    """A writer in ``profiles.json``; never a password hash. Flaskr writes
    every field; other engines' readers give what they have."""

    username: t.Required[str]
    display_name: str | None
    bio: str
    website: str | None
    created: str | None
    #: The profile picture's file in the archive.
    avatar: str | None


class PictureRecord(t.TypedDict):
    """A library picture in ``images.json``."""

    file: str
    key: str
    alt: str
    owner: str | None


class PostMatter(t.TypedDict, total=False):
    """A post file's front matter (``posts/<slug>.md``)."""

    title: str | None
    slug: str
    summary: str
    author: str | None
    created: str | None
    updated: str | None
    #: ``published``, ``draft`` or ``scheduled``.
    state: str
    published: str | None
    tags: list[str]
    #: The cover picture's file, relative to the post file, and its alt text.
    image: str
    image_alt: str


class CommentRecord(t.TypedDict):
    """A comment in ``comments.json``, on the post with that slug."""

    post: str
    author: str | None
    body: str
    created: str | None
    edited: str | None
    #: A fediverse reply's author (``@user@host``), who has no account here:
    #: ``author`` is then ``None``, and an import keeps it without an author.
    remote_author: t.NotRequired[str]


class LikeRecord(t.TypedDict):
    post: str
    user: str
    created: str | None


class FollowRecord(t.TypedDict):
    follower: str
    followed: str
    created: str | None


class AuditRecord(t.TypedDict):
    """A decision in ``audit.json`` (the site's export only): who decided
    what about whom, when and why; names as they were then."""

    created: str | None
    actor: str
    action: str
    subject: str
    post_id: int | None
    comment_id: int | None
    detail: str


class SubscriberRecord(t.TypedDict):
    """A reader who follows by mail, in ``subscribers.json`` (the site's
    export only). ``confirmed`` is ``None`` while the address has not
    confirmed: such an address was never mailed a post."""

    email: str
    created: str | None
    confirmed: str | None
    #: ``each`` (a mail per post) or ``weekly`` (a digest).
    cadence: str
    #: Usernames of the writers it follows; ``None`` stands for the site.
    follows: list[str | None]
    #: The account that subscribed with its confirmed address, if any.
    account: str | None


#: Any record of the export's JSON files.
Record = (
    ProfileRecord
    | PictureRecord
    | CommentRecord
    | LikeRecord
    | FollowRecord
    | AuditRecord
    | SubscriberRecord
)
