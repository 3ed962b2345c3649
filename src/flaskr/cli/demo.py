"""``flask --app flaskr seed-demo``: fill the database with a realistic blog.

Built for speed, so that a million posts take minutes: a few hundred Markdown
bodies are made and rendered once and shared by many posts, ids are assigned
here, and rows go in by thousands per statement. Demo users all have the
password ``demo password``, hashed once.
"""

from __future__ import annotations

import datetime as dt
import random
import typing as t

import click
import sqlalchemy as sa
from flask import current_app
from flask.cli import with_appcontext

from flaskr.db import db
from flaskr.db import utcnow
from flaskr.models import Comment
from flaskr.models import Follow
from flaskr.models import Like
from flaskr.models import Post
from flaskr.models import PostTag
from flaskr.models import Tag
from flaskr.models import User
from flaskr.models import username_key
from flaskr.services.accounts.passwords import Passwords
from flaskr.services.base import markdown
from flaskr.services.reading.search import optimize_search_index

DEMO_PASSWORD = "demo password"  # noqa: S105 (documented, for demo data only)
BATCH = 5_000
BODY_VARIANTS = 300

WORDS = (  # noqa: SIM905 (easier to read and edit as text)
    "garden morning river coffee notebook winter summer travel bicycle "
    "kitchen recipe bread window letter city mountain forest library music "
    "piano guitar evening light shadow harbor island bridge station train "
    "market street friend family teacher student lesson project python "
    "flask database server design pattern error test release update "
    "feature question answer idea story memory photo camera paint color "
    "paper pencil map journey weekend holiday rain snow wind sun moon star "
    "ocean beach field flower tree bird quiet simple small bright early "
    "late slow quick careful honest happy learn write read build fix share "
    "plan walk cook grow listen watch think "
).split()
TAGS = (  # noqa: SIM905 (easier to read and edit as text)
    "python flask web travel food books music photography gardening "
    "cycling cooking design testing databases security writing learning "
    "family weekend notes "
).split()


def _sentence(rng: random.Random, low: int = 6, high: int = 16) -> str:
    words = rng.choices(WORDS, k=rng.randint(low, high))
    return " ".join(words).capitalize() + "."


def _body(rng: random.Random) -> str:
    """A Markdown text with a little of everything a post might have."""
    parts = [" ".join(_sentence(rng) for _ in range(rng.randint(2, 5)))]
    for _ in range(rng.randint(0, 3)):
        kind = rng.random()
        if kind < 0.2:
            parts.append(f"## {_sentence(rng, 2, 5).rstrip('.')}")
        elif kind < 0.4:
            parts.append("\n".join(f"- {_sentence(rng, 2, 6)}" for _ in range(3)))
        elif kind < 0.5:
            parts.append(f"```\n{rng.choice(WORDS)} = {rng.randint(1, 99)}\n```")
        elif kind < 0.6:
            parts.append(f"> {_sentence(rng)}")
        else:
            word = rng.choice(WORDS)
            parts.append(
                f"{_sentence(rng)} *{word}* and [a link](https://example.org/{word})."
            )
    return "\n\n".join(parts)


def _insert(model: type[t.Any], rows: list[dict[str, t.Any]]) -> None:
    if rows:
        db.session.execute(sa.insert(model.__table__), rows)


def _ensure_users(count: int) -> list[int]:
    passwords: Passwords = current_app.extensions["flaskr.services.accounts.passwords"]
    names = [f"demo{number}" for number in range(1, count + 1)]
    existing = set(
        db.session.scalars(
            sa.select(User.username_key).where(User.username_key.in_(names))
        )
    )
    password_hash = passwords.hash(DEMO_PASSWORD)
    now = utcnow()
    bio = "A demo writer. Flaskr's code: https://github.com/pallets/flask"
    _insert(
        User,
        [
            {
                "username": name,
                "username_key": username_key(name),
                # Confirmed addresses, so API clients can log in (by address).
                "email": f"{name}@example.org",
                "email_key": f"{name}@example.org",
                "password_hash": password_hash,
                "created": now,
                "display_name": f"Demo Writer {name.removeprefix('demo')}",
                "bio": bio,
                "bio_html": markdown.render_light(bio),
            }
            for name in names
            if name not in existing
        ],
    )
    query = sa.select(User.id).where(User.username_key.in_(names)).order_by(User.id)
    return list(db.session.scalars(query))


def _ensure_tags() -> list[int]:
    existing = set(db.session.scalars(sa.select(Tag.name).where(Tag.name.in_(TAGS))))
    _insert(Tag, [{"name": name} for name in TAGS if name not in existing])
    return list(db.session.scalars(sa.select(Tag.id).where(Tag.name.in_(TAGS))))


#: Writers each other demo user follows, at most.
OTHER_FOLLOWS = 10


def _ensure_follows(user_ids: list[int], first_follows: int, rng: random.Random) -> int:
    """Make the first demo user follow ``first_follows`` writers, and each
    other demo user who follows no demo writer yet a few; return how many
    follows were added. Follows already there (a demo user's, or anyone's
    on a site in use) stay and are not made twice."""
    existing: set[tuple[int, int]] = set()
    for start in range(0, len(user_ids), BATCH):  # within SQLite's parameters
        query = sa.select(Follow.follower_id, Follow.followed_id).where(
            Follow.follower_id.in_(user_ids[start : start + BATCH])
        )
        existing.update((row[0], row[1]) for row in db.session.execute(query))
    wanted = [(user_ids[0], followed) for followed in user_ids[1 : first_follows + 1]]
    following = {follower for follower, _ in existing}
    for follower in user_ids[1:]:
        if follower in following:
            continue
        others = rng.sample(
            user_ids, k=min(len(user_ids), rng.randint(0, OTHER_FOLLOWS))
        )
        wanted += [(follower, followed) for followed in others if followed != follower]
    now = utcnow()
    rows = [
        {"follower_id": follower, "followed_id": followed, "created": now}
        for follower, followed in dict.fromkeys(wanted)
        if (follower, followed) not in existing
    ]
    for start in range(0, len(rows), BATCH):
        _insert(Follow, rows[start : start + BATCH])
    return len(rows)


def seed(
    posts: int, users: int, rng: random.Random, first_follows: int = 0
) -> t.Iterator[int]:
    """Add ``users`` demo users (if missing) who follow each other, and ``posts``
    posts with tags, likes and comments; yield the number of posts written
    after each batch.

    :param first_follows: how many writers ``demo1`` follows.
    """
    user_ids = _ensure_users(users)
    tag_ids = _ensure_tags()
    _ensure_follows(user_ids, first_follows, rng)
    db.session.commit()
    bodies = []
    for _ in range(BODY_VARIANTS):
        body = _body(rng)
        text = markdown.plain_text(body)
        bodies.append((body, markdown.render(body), text, markdown.shorten(text)))

    next_id = (db.session.scalar(sa.select(sa.func.max(Post.id))) or 0) + 1
    newest = utcnow()
    for start in range(0, posts, BATCH):
        post_rows, tag_rows, like_rows, comment_rows = [], [], [], []
        for offset in range(min(BATCH, posts - start)):
            post_id = next_id + start + offset
            # Oldest first, a few minutes apart, ending now.
            published = newest - dt.timedelta(minutes=3 * (posts - start - offset))
            body, body_html, body_text, excerpt = rng.choice(bodies)
            likers = rng.sample(
                user_ids, k=min(len(user_ids), rng.choice((0, 0, 1, 2, 5)))
            )
            comments = rng.choice((0, 0, 0, 1, 2))
            post_rows.append(
                {
                    "id": post_id,
                    "author_id": rng.choice(user_ids),
                    "created": published,
                    "published": published,
                    "title": _sentence(rng, 3, 8).rstrip("."),
                    "body": body,
                    "body_html": body_html,
                    "body_text": body_text,
                    "excerpt": excerpt,
                    "word_count": len(body_text.split()),
                    "like_count": len(likers),
                    "comment_count": comments,
                }
            )
            for tag_id in rng.sample(tag_ids, k=rng.randint(0, 3)):
                tag_rows.append(
                    {"post_id": post_id, "tag_id": tag_id, "published": published}
                )
            like_rows += [
                {"post_id": post_id, "user_id": user_id, "created": published}
                for user_id in likers
            ]
            comment_rows += [
                {
                    "post_id": post_id,
                    "author_id": rng.choice(user_ids),
                    "body": _sentence(rng),
                    "created": published + dt.timedelta(minutes=1 + number),
                }
                for number in range(comments)
            ]
        _insert(Post, post_rows)
        _insert(PostTag, tag_rows)
        _insert(Like, like_rows)
        _insert(Comment, comment_rows)
        db.session.commit()
        yield len(post_rows)

    if db.engine.dialect.name == "postgresql":
        db.session.execute(
            sa.text(
                "SELECT setval(pg_get_serial_sequence('post', 'id'),"
                " (SELECT MAX(id) FROM post))"
            )
        )
        db.session.commit()


@click.command("seed-demo")
@click.option(
    "--posts", type=click.IntRange(0, 10_000_000), default=1_000, show_default=True
)
@click.option(
    "--users",
    type=click.IntRange(1, 100_000),
    default=None,
    help="Demo users (demo1, demo2, …); default: one per 100 posts, at least 10.",
)
@click.option(
    "--seed", "seed_value", type=int, default=1, show_default=True, help="Random seed."
)
@click.option(
    "--follows",
    type=click.IntRange(0, 100_000),
    default=1_000,
    show_default=True,
    help="Writers demo1 follows (at most all the others); the others follow"
    f" up to {OTHER_FOLLOWS} each. Follows already there are kept.",
)
@with_appcontext
def seed_demo_command(
    posts: int, users: int | None, seed_value: int, follows: int
) -> None:
    """Fill the database with demo users who follow each other, and posts
    (with tags, likes, comments)."""
    users = users or max(10, posts // 100)
    rng = random.Random(seed_value)  # noqa: S311 (demo data, not secrets)
    with click.progressbar(length=posts, label=f"Writing {posts:,} posts") as bar:
        for written in seed(posts, users, rng, follows):
            bar.update(written)
    # Thousands of posts a commit leave the search index in many pieces.
    if optimize_search_index():
        click.echo("Merged the search index.")
    click.echo(
        f"Added {posts:,} posts by {users:,} demo users (password: {DEMO_PASSWORD!r})."
    )
