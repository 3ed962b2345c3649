"""A post's revisions: listing them, comparing two, restoring one.

Each save keeps one (``posts._record_revision``, in the save's transaction),
up to ``REVISIONS_KEPT`` a post. A comparison is the standard library's
``difflib``, line by line for the text, so it reads like a review: what was
taken out, what was put in, and the unchanged lines around them.
"""

from __future__ import annotations

import dataclasses
import difflib
import typing as t

import sqlalchemy as sa

from flaskr.db import db
from flaskr.models import Post
from flaskr.models import PostRevision
from flaskr.services.posts import parse_tags
from flaskr.services.posts import update_post

#: Unchanged lines shown around each change.
CONTEXT_LINES = 3


def revisions_of(post: Post) -> list[PostRevision]:
    """The post's revisions, newest first."""
    query = (
        sa.select(PostRevision)
        .where(PostRevision.post_id == post.id)
        .order_by(PostRevision.id.desc())
    )
    return list(db.session.scalars(query))


def get_revision(post: Post, revision_id: int) -> PostRevision | None:
    """One of the post's revisions; ``None`` for another post's or none."""
    return db.session.scalar(
        sa.select(PostRevision).where(
            PostRevision.id == revision_id, PostRevision.post_id == post.id
        )
    )


@dataclasses.dataclass(frozen=True)
class Line:
    #: ``"removed"``, ``"added"``, ``"same"`` or ``"gap"`` (lines left out).
    kind: str
    text: str


@dataclasses.dataclass(frozen=True)
class Change:
    """A one-line part (title, summary, tags) before and after."""

    name: str
    before: str
    after: str


@dataclasses.dataclass(frozen=True)
class Comparison:
    older: PostRevision
    newer: PostRevision
    changes: list[Change]
    #: The text's lines that changed, with some unchanged ones around them.
    lines: list[Line]

    @property
    def same(self) -> bool:
        return not self.changes and not self.lines


def _line_diff(before: str, after: str) -> list[Line]:
    lines: list[Line] = []
    old, new = before.splitlines(), after.splitlines()
    matcher = difflib.SequenceMatcher(a=old, b=new, autojunk=False)
    for number, group in enumerate(matcher.get_grouped_opcodes(CONTEXT_LINES)):
        if number:
            lines.append(Line("gap", "…"))
        for tag, a_start, a_end, b_start, b_end in group:
            if tag == "equal":
                lines += [Line("same", x) for x in old[a_start:a_end]]
                continue
            lines += [Line("removed", x) for x in old[a_start:a_end]]
            lines += [Line("added", x) for x in new[b_start:b_end]]
    return lines


def compare(older: PostRevision, newer: PostRevision) -> Comparison:
    """What changed from ``older`` to ``newer``."""
    parts: list[tuple[str, t.Callable[[PostRevision], str]]] = [
        ("Title", lambda r: r.title),
        ("Summary", lambda r: r.summary),
        ("Tags", lambda r: r.tags),
    ]
    changes = [
        Change(name, part(older), part(newer))
        for name, part in parts
        if part(older) != part(newer)
    ]
    return Comparison(older, newer, changes, _line_diff(older.body, newer.body))


def restore(post: Post, revision: PostRevision, *, opened_at: int | None) -> None:
    """Save the post with the revision's title, text, summary and tags: a new
    revision, so the restore itself can be undone. The slug, image and
    publication stay as they are.

    :raise PostChanged: the post was saved since ``opened_at``.
    """
    update_post(
        post,
        revision.title,
        revision.body,
        tags=parse_tags(revision.tags),
        summary=revision.summary,
        opened_at=opened_at,
    )
