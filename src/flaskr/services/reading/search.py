"""Full-text search of published posts.

SQLite uses the FTS5 table ``post_fts``, PostgreSQL the ``search_vector``
column; both are made and kept up to date by the migrations (0004, and 0010,
which moved them from the Markdown source to ``post.body_text``, the text the
reader reads: snippets show no Markdown). What the visitor
typed never reaches either as query syntax: it is cut into words, and each word
is searched for as plain text (all of them must match), so quotes, operators and
unbalanced parentheses are only punctuation.
"""

from __future__ import annotations

import contextlib
import dataclasses
import re
import time
import typing as t

import sqlalchemy as sa
from flask import current_app
from markupsafe import escape
from markupsafe import Markup

from flaskr.db import db
from flaskr.db import utcnow
from flaskr.models import Post
from flaskr.models import User

MAX_QUERY_LENGTH = 200
MAX_TERMS = 10
MAX_PAGE = 50
#: Private-use characters that mark matches until the text is escaped.
_START, _STOP = "\ue000", "\ue001"
_WORD = re.compile(r"[^\W_]+")

# Ranking: posts with every word in the title first, then the other matches,
# newest first in each group. (Relevance scores were dropped: SQLite's bm25
# counts every match of each word in the whole blog to weigh it, which grows
# with the blog; bench/README.md has the figures.) Titles have an index of
# their own (migration 0007), so finding the newest title matches reads only
# titles, however common the words are in the text. On PostgreSQL the public
# posts' title vectors are also kept in order of id (0008): that walk reads no
# post rows.
#
# On SQLite each list is read only as far as the page needs, and the ids are
# checked against ``post`` (drafts and trashed posts are in the index too) a
# batch at a time. Then highlights and snippets are made for the page's posts
# only, in one walk of the index over their id range (asking FTS5 for each id
# on its own restarts the query each time).
_SQLITE_TITLE_MATCHES = sa.text(
    "SELECT rowid FROM post_title_fts WHERE post_title_fts MATCH :query"
    " ORDER BY rowid DESC"
)
_SQLITE_MATCHES = sa.text(
    "SELECT rowid FROM post_fts WHERE post_fts MATCH :query ORDER BY rowid DESC"
)

_SQLITE_MARKED = sa.text(
    "SELECT rowid AS id,"
    " highlight(post_fts, 0, :start, :stop) AS title,"
    " snippet(post_fts, 1, :start, :stop, '…', 24) AS snippet"
    " FROM post_fts WHERE post_fts MATCH :query"
    " AND rowid >= :first AND rowid <= :last AND +rowid IN :ids"
).bindparams(sa.bindparam("ids", expanding=True))

# On PostgreSQL the newest title matches are walked for in the public titles'
# index (``walked``), which stops as soon as the page is full. For a word
# that is rare in titles that walk would read every title before giving up,
# and the planner cannot tell: its guess for a word outside the most common
# ones that ANALYZE lists is a fixed share of the titles. So a query with
# such a word (``rare_in_titles``) takes its few title matches from the
# titles' full-text index and sorts them (``looked_up``); a listed word's
# matches can be too many for that. Without statistics, the walk.
_POSTGRESQL_SEARCH = sa.text(
    "WITH rare_in_titles AS MATERIALIZED ("
    "  SELECT coalesce(NOT tsvector_to_array(to_tsvector('english', :query))"
    "  <@ CAST(:common_title_words AS text[]), false) AS yes),"
    " walked AS ("
    "  SELECT post.id FROM post"
    "  WHERE NOT (SELECT yes FROM rare_in_titles)"
    "  AND post.title_vector @@ plainto_tsquery('english', :query)"
    "  AND post.published IS NOT NULL AND post.published <= :now"
    "  AND post.deleted IS NULL AND NOT post.withheld"
    "  ORDER BY post.id DESC LIMIT :wanted),"
    " looked_up AS MATERIALIZED ("
    "  SELECT post.id FROM post"
    "  WHERE (SELECT yes FROM rare_in_titles)"
    "  AND post.title_vector @@ plainto_tsquery('english', :query)"
    "  AND post.published IS NOT NULL AND post.published <= :now"
    "  AND post.deleted IS NULL AND NOT post.withheld),"
    " titled AS ("
    "  SELECT id FROM walked UNION ALL"
    "  (SELECT id FROM looked_up ORDER BY id DESC LIMIT :wanted)),"
    # Read only when the title matches do not fill the page (a one-time test).
    " others AS ("
    "  SELECT post.id FROM post"
    "  WHERE (SELECT count(*) FROM titled) < :wanted"
    "  AND post.search_vector @@ plainto_tsquery('english', :query)"
    "  AND NOT post.title_vector @@ plainto_tsquery('english', :query)"
    "  AND post.published IS NOT NULL AND post.published <= :now"
    "  AND post.deleted IS NULL AND NOT post.withheld"
    "  ORDER BY post.id DESC LIMIT :wanted),"
    " ranked AS ("
    "  SELECT id, 0 AS tier FROM titled UNION ALL SELECT id, 1 FROM others"
    "  ORDER BY tier, id DESC LIMIT :limit OFFSET :offset),"
    # The last row, there only to tell whether a next page exists, gets no
    # headlines: they cost more the longer the post.
    " shown AS ("
    "  SELECT id, tier, row_number() OVER (ORDER BY tier, id DESC) <= :shown"
    "  AS on_page FROM ranked)"
    " SELECT post.id, post.slug, post.published, post.updated,"
    ' "user".username AS author_name, "user".display_name AS author_display_name,'
    ' "user".avatar_id AS author_avatar_id, false AS is_draft,'
    " CASE WHEN shown.on_page THEN ts_headline('english', post.title,"
    "  plainto_tsquery('english', :query), :title_options) END AS title,"
    " CASE WHEN shown.on_page THEN ts_headline('english', post.body_text,"
    "  plainto_tsquery('english', :query), :snippet_options) END AS snippet"
    " FROM shown JOIN post ON post.id = shown.id"
    ' LEFT JOIN "user" ON "user".id = post.author_id'
    " ORDER BY shown.tier, post.id DESC"
)


if t.TYPE_CHECKING:
    #: A row of any columns.
    AnyRow = sa.Row[*tuple[t.Any, ...]]


@dataclasses.dataclass(frozen=True)
class Hit:
    #: What the result's link and byline show: ``id``, ``slug``, ``author_name``,
    #: ``author_display_name``, ``author_avatar_id``, ``published``,
    #: ``updated`` and ``is_draft``, named as on :class:`Post`.
    post: AnyRow
    #: The title and a piece of the text, escaped, with matches in ``<mark>``.
    title: Markup
    snippet: Markup


@dataclasses.dataclass(frozen=True)
class SearchPage:
    hits: list[Hit]
    page: int
    has_next: bool
    #: How many posts match, counted up to ``COUNT_LIMIT`` (then "more than");
    #: on SQLite drafts and trashed posts are counted too, so it is "about".
    about: int = 0


#: Matches counted for "about N posts"; past it the page says "more than".
#: Counting reads a post for each match (on PostgreSQL a table page), so the
#: cap bounds what a search below it costs.
COUNT_LIMIT = 1_000

# On PostgreSQL counting a common word's matches, even only up to the limit,
# reads a table page for each match (to see it is public and not deleted): a
# heap of pages on a large blog, and planned as a walk of the whole table when
# the planner expects the limit to come soon. So the planner is asked first:
# its estimate comes from the statistics ANALYZE keeps of the most common
# words, costs no read of the table, and when it says the limit would be
# passed the page says "more than" without counting. Only a query the
# statistics call rarer is counted, from the full-text index.
_POSTGRESQL_COUNT_SQL = (
    "SELECT count(*) FROM (SELECT 1 FROM post"
    " WHERE post.search_vector @@ plainto_tsquery('english', :query)"
    " AND post.published IS NOT NULL AND post.published <= :now"
    " AND post.deleted IS NULL AND NOT post.withheld LIMIT :limit) AS matches"
)
_POSTGRESQL_COUNT = sa.text(_POSTGRESQL_COUNT_SQL)
_POSTGRESQL_ESTIMATE = sa.text("EXPLAIN (FORMAT JSON) " + _POSTGRESQL_COUNT_SQL)
_SQLITE_COUNT = sa.text(
    "SELECT count(*) FROM (SELECT rowid FROM post_fts WHERE post_fts MATCH :query"
    " LIMIT :limit)"
)


def _fts_query(terms: list[str]) -> str:
    """``terms`` as an FTS5 query: each a quoted string, all of them needed."""
    return " ".join(f'"{term}"' for term in terms)


def _postgresql_count(query: str) -> int:
    """How many public posts match ``query``, up to ``COUNT_LIMIT + 1``: that
    many without counting when the planner expects more."""
    values = {"query": query, "now": utcnow(), "limit": COUNT_LIMIT + 1}
    [plan] = db.session.scalars(_POSTGRESQL_ESTIMATE, values)
    step = plan[0]["Plan"]
    while step["Node Type"] != "Limit":
        [step] = step["Plans"]
    # The limit's estimate is the matches expected, or the limit if fewer.
    if step["Plan Rows"] > COUNT_LIMIT:
        return COUNT_LIMIT + 1
    return db.session.scalar(_POSTGRESQL_COUNT, values) or 0


def _count_matches(terms: list[str]) -> int:
    """How many posts match ``terms``, up to ``COUNT_LIMIT + 1``."""
    if db.session.get_bind().dialect.name == "postgresql":
        return _postgresql_count(" ".join(terms))
    values = {"query": _fts_query(terms), "limit": COUNT_LIMIT + 1}
    return db.session.scalar(_SQLITE_COUNT, values) or 0


def search_terms(text: str) -> list[str]:
    """The words of ``text`` that are searched for."""
    return _WORD.findall(text[:MAX_QUERY_LENGTH])[:MAX_TERMS]


def _highlighted(text: str) -> Markup:
    marked = str(escape(text))
    # Safe: the text is escaped, and only our own markers become tags.
    return Markup(marked.replace(_START, "<mark>").replace(_STOP, "</mark>"))  # noqa: S704


#: Bylines of those of ``ids`` that anyone may read. Rows, not ORM objects: a
#: results page only shows them, and loading ten posts through the ORM cost
#: more than finding them. Built once, like the statements above: building it
#: cost a search more than running it (the ids are expanded at each run).
_PUBLIC_BYLINES = (
    sa.select(
        Post.id,
        Post.slug,
        Post.published,
        Post.updated,
        User.username.label("author_name"),
        User.display_name.label("author_display_name"),
        User.avatar_id.label("author_avatar_id"),
        sa.false().label("is_draft"),
    )
    .outerjoin(User, User.id == Post.author_id)
    .where(Post.id.in_(sa.bindparam("ids", expanding=True)), Post.is_public)
)


def _hit(byline: AnyRow, title: str, snippet: str) -> Hit:
    """A result: its byline, and its title and snippet with markers."""
    return Hit(byline, _highlighted(title), _highlighted(snippet))


def _in_batches(
    statement: sa.TextClause, query: str, size: int
) -> t.Generator[t.Sequence[int], None, None]:
    """The ids ``statement`` finds, read only as far as the caller goes: first
    ``size`` of them, then twice as many each time (so a long run of drafts
    costs a few more statements, not one per page of them)."""
    result = db.session.scalars(statement, {"query": query})
    try:
        while batch := result.fetchmany(size):
            yield batch
            size *= 2
    finally:
        result.close()


def _sqlite_ranked_ids(
    fts_query: str, size: int
) -> t.Generator[t.Sequence[int], None, None]:
    """Batches of the matching posts' ids, best first: every word in the
    title, then the rest; newest first in each. Drafts and trash included."""
    in_title: set[int] = set()
    for batch in _in_batches(_SQLITE_TITLE_MATCHES, fts_query, size):
        in_title.update(batch)
        yield batch
    for batch in _in_batches(_SQLITE_MATCHES, fts_query, size):
        yield [post_id for post_id in batch if post_id not in in_title]


def _sqlite_search(terms: list[str], page: int, per_page: int) -> SearchPage:
    """One page of results on SQLite, in rank order."""
    fts_query = _fts_query(terms)
    offset = (page - 1) * per_page
    wanted = offset + per_page + 1  # one more: is there a next page?
    public: dict[int, AnyRow] = {}  # in rank order
    with contextlib.closing(_sqlite_ranked_ids(fts_query, wanted)) as batches:
        for batch in batches:
            if batch:
                rows = db.session.execute(_PUBLIC_BYLINES, {"ids": batch})
                bylines = {row.id: row for row in rows}
                public.update((id_, bylines[id_]) for id_ in batch if id_ in bylines)
            if len(public) >= wanted:
                break
    shown = list(public.values())[offset:wanted]
    has_next = len(shown) > per_page
    shown = shown[:per_page]
    if not shown:
        return SearchPage(hits=[], page=page, has_next=has_next)
    ids = [row.id for row in shown]
    marked = db.session.execute(
        _SQLITE_MARKED,
        {
            "query": fts_query,
            "start": _START,
            "stop": _STOP,
            "first": min(ids),
            "last": max(ids),
            "ids": ids,
        },
    )
    by_id = {row.id: row for row in marked}
    hits = [
        _hit(row, by_id[row.id].title, by_id[row.id].snippet)
        for row in shown
        if row.id in by_id
    ]
    return SearchPage(hits=hits, page=page, has_next=has_next)


#: The most common title words ANALYZE lists in ``post.title_vector``'s
#: statistics (``None`` before the first ANALYZE).
_COMMON_TITLE_WORDS = sa.text(
    "SELECT most_common_elems::text FROM pg_stats"
    " WHERE schemaname = current_schema() AND tablename = 'post'"
    " AND attname = 'title_vector' AND NOT inherited"
)
#: ``app.extensions`` key: the common title words, and when they were read.
_COMMON_TITLE_WORDS_KEY = "flaskr.search.common_title_words"
#: How long a process keeps the common title words before reading them again.
#: They change only when ANALYZE runs; reading them in every search would
#: add the planning of a view over several catalogs to each one.
COMMON_TITLE_WORDS_SECONDS = 600.0


def _common_title_words() -> str | None:
    """The lexemes PostgreSQL's statistics list as the most common in titles,
    as an array's text (the statement reads it back as one), read at most once
    per ``COMMON_TITLE_WORDS_SECONDS`` in each process."""
    now = time.monotonic()
    kept = current_app.extensions.get(_COMMON_TITLE_WORDS_KEY)
    if kept is None or now - kept[1] >= COMMON_TITLE_WORDS_SECONDS:
        kept = (db.session.scalar(_COMMON_TITLE_WORDS), now)
        current_app.extensions[_COMMON_TITLE_WORDS_KEY] = kept
    words: str | None = kept[0]
    return words


def _postgresql_search(terms: list[str], page: int, per_page: int) -> SearchPage:
    """One page of results on PostgreSQL, in rank order."""
    markers = f'StartSel="{_START}", StopSel="{_STOP}"'
    offset = (page - 1) * per_page
    rows = db.session.execute(
        _POSTGRESQL_SEARCH,
        {
            "query": " ".join(terms),
            "common_title_words": _common_title_words(),
            "offset": offset,
            "limit": per_page + 1,  # one more: is there a next page?
            "wanted": offset + per_page + 1,
            "shown": per_page,
            "title_options": f"{markers}, HighlightAll=true",
            "snippet_options": f"{markers}, MaxWords=30, MinWords=12",
            "now": utcnow(),
        },
    ).all()
    hits = [_hit(row, row.title, row.snippet) for row in rows[:per_page]]
    return SearchPage(hits=hits, page=page, has_next=len(rows) > per_page)


def search_posts(text: str, page: int, per_page: int) -> SearchPage:
    """One page of the published posts matching every word of ``text``: those
    with every word in the title first, newest first in each group. Nothing
    matches a text without words."""
    terms = search_terms(text)
    if not terms:
        return SearchPage(hits=[], page=page, has_next=False)
    if db.session.get_bind().dialect.name == "postgresql":
        found = _postgresql_search(terms, page, per_page)
    else:
        found = _sqlite_search(terms, page, per_page)
    if not found.hits:
        return found
    return dataclasses.replace(found, about=_count_matches(terms))


#: A merge step for each of SQLite's full-text tables: see
#: :func:`optimize_search_index`.
_SQLITE_MERGE_STEPS = [
    sa.text("INSERT INTO post_fts (post_fts, rank) VALUES ('merge', :pages)"),
    sa.text(
        "INSERT INTO post_title_fts (post_title_fts, rank) VALUES ('merge', :pages)"
    ),
]
#: How many pages of index one merge step writes before it commits, so that
#: writers wait for one step at most, not for the whole merge (bench/README.md
#: has its timings).
MERGE_STEP_PAGES = 500


def optimize_search_index() -> int:
    """Merge SQLite's full-text index into one piece, committing after each
    step; return the number of steps (0 on PostgreSQL, whose index needs
    nothing of the kind).

    Each write adds a small piece ("segment") to the index, and SQLite merges
    them only as far as a handful per level: a search then walks every piece.
    Merged, a common-word search reads much less (bench/README.md).
    """
    if db.session.get_bind().dialect.name != "sqlite":
        return 0
    steps = 0
    for merge in _SQLITE_MERGE_STEPS:
        while True:
            # Each step may get another of the pool's connections: ask this one.
            connection = db.session.connection().connection.driver_connection
            assert connection is not None  # a live connection has a driver's
            before = connection.total_changes
            # A negative number merges whatever is there, level or not.
            db.session.execute(merge, {"pages": -MERGE_STEP_PAGES})
            changed = connection.total_changes - before
            db.session.commit()
            steps += 1
            # SQLite's documented test: fewer than two rows changed means
            # there was nothing left to merge.
            if changed < 2:
                break
    return steps
