"""Grow a seeded PostgreSQL benchmark database to more posts by copying the
ones it has, in SQL (``bench/run`` uses it past ``GROW_FROM`` posts).

``flask seed-demo`` writes each post, tag, like and comment as a row whose
triggers update the site's counts (the site version, the writer's and the
tags' post counts, the archive's months, the post's reaction stamp) in the
same transaction. On PostgreSQL that is right for a site and slow for a bulk
load: every batch updates the same few rows thousands of times, and a million
posts took hours on this machine. Here the posts ``1..N`` that seed-demo wrote
(the oldest part of its timeline, which ends now) are copied, with their tags,
likes and comments, to ids ``N+1..`` and later times, until the timeline
reaches the present; the triggers are off while rows are copied, and every
count they keep is then set from the rows in a few statements. The copies
have the same authors, words, tags and reactions as the originals, so lists,
searches and the mix see the same distributions as with a seed of that size.
"""

from __future__ import annotations

import datetime as dt
import time
import typing as t

#: Posts seed-demo writes before the rest are copied.
GROW_FROM = 200_000

#: The tables whose rows are copied with the posts, and their user triggers.
TABLES = ("post", "post_tag", "post_like", "comment")

#: Columns of ``post`` copied as they are (all but the id, the two times that
#: move, and the generated vectors).
_POST_COLUMNS = (
    "author_id, updated, title, body, body_html, excerpt, deleted, like_count,"
    " comment_count, version, body_text, summary, slug, word_count,"
    " reactions_version, withheld, comments_open, review_requested,"
    " mail_subscribers, fediverse_likes, fediverse_shares"
)

_COPY = [
    "INSERT INTO post (id, created, published, {columns})"
    " SELECT id + %(shift)s, created + %(later)s, published + %(later)s, {columns}"
    " FROM post WHERE id <= %(count)s AND id + %(shift)s <= %(target)s",
    "INSERT INTO post_tag (post_id, tag_id, published)"
    " SELECT post_id + %(shift)s, tag_id, published + %(later)s FROM post_tag"
    " WHERE post_id <= %(count)s AND post_id + %(shift)s <= %(target)s",
    "INSERT INTO post_like (post_id, user_id, created)"
    " SELECT post_id + %(shift)s, user_id, created + %(later)s FROM post_like"
    " WHERE post_id <= %(count)s AND post_id + %(shift)s <= %(target)s",
    "INSERT INTO comment (post_id, author_id, body, created)"
    " SELECT post_id + %(shift)s, author_id, body, created + %(later)s FROM comment"
    " WHERE post_id <= %(count)s AND post_id + %(shift)s <= %(target)s",
]

#: If the copies ran past the present (the seed's own timeline ended now),
#: everything moves back so that the newest post is as old as it was.
_BACK = "SELECT greatest(max(published) - %(newest)s, interval '0') FROM post"
_SHIFT = [
    "UPDATE post SET created = created - %(back)s, published = published - %(back)s",
    "UPDATE post_tag SET published = published - %(back)s",
    "UPDATE post_like SET created = created - %(back)s",
    "UPDATE comment SET created = created - %(back)s",
]

#: What the triggers would have kept, set from the rows.
_RECOUNT = [
    'UPDATE "user" SET post_count = coalesce((SELECT count(*) FROM post'
    ' WHERE post.author_id = "user".id AND post.published IS NOT NULL'
    " AND post.deleted IS NULL), 0)",
    "UPDATE tag SET post_count = coalesce((SELECT count(*) FROM post_tag"
    " JOIN post ON post.id = post_tag.post_id WHERE post_tag.tag_id = tag.id"
    " AND post.published IS NOT NULL AND post.deleted IS NULL), 0)",
    "DELETE FROM archive_month",
    "INSERT INTO archive_month (month, post_count)"
    " SELECT CAST(to_char(published AT TIME ZONE 'UTC', 'YYYYMM') AS INTEGER), count(*)"
    " FROM post WHERE published IS NOT NULL AND deleted IS NULL GROUP BY 1",
    "UPDATE site_version SET value = value + 1, post_count = (SELECT count(*)"
    " FROM post WHERE published IS NOT NULL AND deleted IS NULL) WHERE id = 1",
    "SELECT setval(pg_get_serial_sequence('post', 'id'), (SELECT max(id) FROM post))",
    "SELECT setval(pg_get_serial_sequence('comment', 'id'),"
    " (SELECT max(id) FROM comment))",
]


def grow(connection: t.Any, target: int) -> int:
    """Copy the posts of the database ``connection`` (psycopg, autocommit) is
    on until it has ``target``; return how many were added. The indexes of
    ``post`` are dropped while rows are copied and made again after."""
    count = connection.execute("SELECT count(*) FROM post").fetchone()[0]
    if count >= target:
        return 0
    assert count == connection.execute("SELECT max(id) FROM post").fetchone()[0]
    started = time.monotonic()
    indexes = connection.execute(
        "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'post'"
        " AND indexname <> 'pk_post'"
    ).fetchall()
    with connection.transaction():
        for table in TABLES:
            connection.execute(f"ALTER TABLE {table} DISABLE TRIGGER USER")
        for name, _ in indexes:
            connection.execute(f'DROP INDEX "{name}"')
        newest = connection.execute("SELECT max(published) FROM post").fetchone()[0]
        copies = 1
        while count * copies < target:
            shift = count * copies
            values: dict[str, t.Any] = {
                "shift": shift,
                "count": count,
                "target": target,
                # The copy comes after the original by the span it fills.
                "later": dt.timedelta(minutes=3 * shift),
            }
            for statement in _COPY:
                connection.execute(statement.format(columns=_POST_COLUMNS), values)
            copies += 1
        back = connection.execute(_BACK, {"newest": newest}).fetchone()[0]
        if back:
            for statement in _SHIFT:
                connection.execute(statement, {"back": back})
        for _, definition in indexes:
            connection.execute(definition)
        for statement in _RECOUNT:
            connection.execute(statement)
        for table in TABLES:
            connection.execute(f"ALTER TABLE {table} ENABLE TRIGGER USER")
    added = connection.execute("SELECT count(*) FROM post").fetchone()[0] - count
    print(f"grew the database by {added:,} posts in {time.monotonic() - started:.0f} s")
    return int(added)
