"""A post's revisions: listing them, comparing two, restoring one.

Each save keeps one (``posts._record_revision``, in the save's transaction),
up to ``REVISIONS_KEPT`` a post. A comparison is the standard library's
``difflib``, line by line for the text, so it reads like a review: what was
taken out, what was put in, and the unchanged lines around them. A line
changed in place (one taken out where one was put in) also says which words
changed, so a fixed typo does not read as a rewritten paragraph.
"""

from __future__ import annotations

import dataclasses
import difflib
import re
import typing as t

import sqlalchemy as sa

from flaskr.db import db
from flaskr.models import Post
from flaskr.models import PostRevision
from flaskr.models import User
from flaskr.services.content.rules import parse_tags
from flaskr.services.content.writing import update_post

#: Unchanged lines shown around each change.
CONTEXT_LINES = 3
#: Lines longer than this many words are marked changed whole: comparing
#: words costs time that grows with the square of their number.
WORD_DIFF_MAX_WORDS = 2_000
#: Words, runs of spaces, and each other character on its own.
_TOKEN = re.compile(r"\w+|\s+|[^\w\s]")


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
class Piece:
    """A run of a changed line's text, and whether it is what changed."""

    text: str
    changed: bool


@dataclasses.dataclass(frozen=True)
class Line:
    #: ``"removed"``, ``"added"``, ``"same"`` or ``"gap"`` (lines left out).
    kind: str
    text: str
    #: A removed or added line's text in runs, the changed words marked;
    #: one changed run for a line with no counterpart.
    pieces: tuple[Piece, ...] = ()


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


def _whole(text: str) -> tuple[Piece, ...]:
    return (Piece(text, True),) if text else ()


def _joined(pieces: list[Piece]) -> tuple[Piece, ...]:
    """``pieces`` with neighbours of the same kind run together."""
    runs: list[Piece] = []
    for piece in pieces:
        if not piece.text:
            continue
        if runs and runs[-1].changed == piece.changed:
            runs[-1] = Piece(runs[-1].text + piece.text, piece.changed)
        else:
            runs.append(piece)
    return tuple(runs)


def word_diff(before: str, after: str) -> tuple[tuple[Piece, ...], tuple[Piece, ...]]:
    """The two versions of a line, each in runs with the words marked that
    the other does not have."""
    old, new = _TOKEN.findall(before), _TOKEN.findall(after)
    if max(len(old), len(new)) > WORD_DIFF_MAX_WORDS:
        return _whole(before), _whole(after)
    matcher = difflib.SequenceMatcher(a=old, b=new, autojunk=False)
    removed: list[Piece] = []
    added: list[Piece] = []
    for tag, a_start, a_end, b_start, b_end in matcher.get_opcodes():
        same = tag == "equal"
        removed.append(Piece("".join(old[a_start:a_end]), not same))
        added.append(Piece("".join(new[b_start:b_end]), not same))
    return _joined(removed), _joined(added)


def _changed_lines(old: list[str], new: list[str]) -> list[Line]:
    """Lines taken out, then lines put in; those changed in place (paired in
    order) with their changed words marked."""
    paired = min(len(old), len(new))
    removed = [Line("removed", text, _whole(text)) for text in old]
    added = [Line("added", text, _whole(text)) for text in new]
    for index in range(paired):
        before, after = word_diff(old[index], new[index])
        # A line with nothing in common with its counterpart stays whole.
        if any(not piece.changed and piece.text.strip() for piece in before):
            removed[index] = Line("removed", old[index], before)
            added[index] = Line("added", new[index], after)
    return removed + added


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
            lines += _changed_lines(old[a_start:a_end], new[b_start:b_end])
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


def restore(
    actor: User, post: Post, revision: PostRevision, *, opened_at: int | None
) -> None:
    """Save the post with the revision's title, text, summary and tags: a new
    revision, so the restore itself can be undone. The slug, image and
    publication stay as they are.

    :raise NotAllowed: ``actor`` may not change the post.
    :raise PostChanged: the post was saved since ``opened_at``.
    """
    update_post(
        actor,
        post,
        revision.title,
        revision.body,
        tags=parse_tags(revision.tags),
        summary=revision.summary,
        opened_at=opened_at,
    )
