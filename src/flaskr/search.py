"""Full-text search of published posts.

SQLite uses the FTS5 table ``post_fts``, PostgreSQL the ``search_vector``
column; both are made and kept up to date by migration 0004. What the visitor
typed never reaches either as query syntax: it is cut into words, and each word
is searched for as plain text (all of them must match), so quotes, operators and
unbalanced parentheses are only punctuation.
"""

from __future__ import annotations

import dataclasses
import re

import sqlalchemy as sa
from markupsafe import escape
from markupsafe import Markup

from .db import db
from .models import Post
from .posts import WITHOUT_TEXT

MAX_QUERY_LENGTH = 200
MAX_TERMS = 10
MAX_PAGE = 50
#: Private-use characters that mark matches until the text is escaped.
_START, _STOP = "\ue000", "\ue001"
_WORD = re.compile(r"[^\W_]+")

# Only the most recent ``window`` matches are ranked: finding them follows the
# index in id order and stops, where ranking every match of a common word in a
# large blog would read and score them all.
_SQLITE_SEARCH = sa.text(
    "SELECT post.id,"
    " highlight(post_fts, 0, :start, :stop) AS title,"
    " snippet(post_fts, 1, :start, :stop, '…', 24) AS snippet"
    " FROM post_fts JOIN post ON post.id = post_fts.rowid"
    " WHERE post_fts MATCH :query"
    " AND post_fts.rowid >= COALESCE(("
    "  SELECT rowid FROM post_fts WHERE post_fts MATCH :query"
    "  ORDER BY rowid DESC LIMIT 1 OFFSET :window - 1), 0)"
    " AND post.published IS NOT NULL AND post.deleted IS NULL"
    " ORDER BY bm25(post_fts, 10.0, 1.0), post.id DESC"
    " LIMIT :limit OFFSET :offset"
)

_POSTGRESQL_SEARCH = sa.text(
    "WITH recent AS ("
    "  SELECT post.id FROM post, plainto_tsquery('english', :query) AS query"
    "  WHERE post.search_vector @@ query AND post.published IS NOT NULL"
    "  AND post.deleted IS NULL"
    "  ORDER BY post.id DESC LIMIT :window),"
    " matches AS ("
    "  SELECT post.id, post.title, post.body,"
    "   ts_rank(post.search_vector, query) AS rank, query"
    "  FROM recent JOIN post ON post.id = recent.id,"
    "   plainto_tsquery('english', :query) AS query"
    "  ORDER BY rank DESC, post.id DESC"
    "  LIMIT :limit OFFSET :offset)"
    " SELECT id,"
    " ts_headline('english', title, query, :title_options) AS title,"
    " ts_headline('english', body, query, :snippet_options) AS snippet"
    " FROM matches ORDER BY rank DESC, id DESC"
)


@dataclasses.dataclass(frozen=True)
class Hit:
    post: Post
    #: The title and a piece of the text, escaped, with matches in ``<mark>``.
    title: Markup
    snippet: Markup


@dataclasses.dataclass(frozen=True)
class SearchPage:
    hits: list[Hit]
    page: int
    has_next: bool


def search_terms(text: str) -> list[str]:
    """The words of ``text`` that are searched for."""
    return _WORD.findall(text[:MAX_QUERY_LENGTH])[:MAX_TERMS]


def _highlighted(text: str) -> Markup:
    marked = str(escape(text))
    # Safe: the text is escaped, and only our own markers become tags.
    return Markup(marked.replace(_START, "<mark>").replace(_STOP, "</mark>"))  # noqa: S704


def search_posts(text: str, page: int, per_page: int, window: int) -> SearchPage:
    """One page of the published posts matching every word of ``text``, best
    match first among the ``window`` most recent matches. Nothing matches a
    text without words."""
    terms = search_terms(text)
    if not terms:
        return SearchPage(hits=[], page=page, has_next=False)
    limits = {
        "limit": per_page + 1,
        "offset": (page - 1) * per_page,
        "window": window,
    }
    if db.session.get_bind().dialect.name == "postgresql":
        markers = f'StartSel="{_START}", StopSel="{_STOP}"'
        rows = db.session.execute(
            _POSTGRESQL_SEARCH,
            {
                "query": " ".join(terms),
                "title_options": f"{markers}, HighlightAll=true",
                "snippet_options": f"{markers}, MaxWords=30, MinWords=12",
                **limits,
            },
        ).all()
    else:
        fts_query = " ".join(f'"{term}"' for term in terms)
        rows = db.session.execute(
            _SQLITE_SEARCH,
            {"query": fts_query, "start": _START, "stop": _STOP, **limits},
        ).all()
    has_next = len(rows) > per_page
    rows = rows[:per_page]
    posts = {
        post.id: post
        for post in db.session.scalars(
            sa.select(Post)
            .options(*WITHOUT_TEXT)
            .where(Post.id.in_([row.id for row in rows]))
        ).unique()
    }
    hits = [
        Hit(posts[row.id], _highlighted(row.title), _highlighted(row.snippet))
        for row in rows
        if row.id in posts
    ]
    return SearchPage(hits=hits, page=page, has_next=has_next)
