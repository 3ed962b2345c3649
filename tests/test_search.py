"""Full-text search: matching, ranking, highlighting, and the index's upkeep."""

import re

import pytest
import sqlalchemy as sa

from flaskr.db import db
from flaskr.models import Post
from flaskr.services.reading import search as search_module
from tests.conftest import csrf_token_from
from tests.conftest import query_plan
from tests.conftest import recorded_statements
from tests.conftest import TEST_DATABASE_URL
from tests.helpers import add_posts
from tests.helpers import write

needs_sqlite = pytest.mark.skipif(
    TEST_DATABASE_URL is not None, reason="SQLite's full-text index"
)
needs_postgresql = pytest.mark.skipif(
    TEST_DATABASE_URL is None, reason="PostgreSQL's planner"
)


def search(client, text, page=None):
    query = {"q": text} if page is None else {"q": text, "page": page}
    return client.get("/search", query_string=query)


def test_search_finds_ranks_and_highlights(app, client, author):
    write(
        author,
        title="Gardening notes",
        body="Tomatoes like sun. Watering tomatoes daily.",
    )
    write(author, title="Tomato soup", body="A recipe for <soup> with tomatoes")
    write(author, title="Unrelated", body="Nothing to see")
    page = search(client, "tomatoes").get_data(as_text=True)
    titles = re.findall(r'<h2 dir="auto"><a href="[^"]+">(.*?)</a></h2>', page)
    assert titles[0] == "<mark>Tomato</mark> soup"  # a title match ranks first
    assert "Gardening notes" in titles[1]
    assert "Unrelated" not in page
    assert "<mark>" in page
    byline = '<a href="/u/test" dir="auto">test</a></span><span class="meta-date">'
    assert page.count(byline) == 2
    assert "About 2 posts match “tomatoes”" in page
    # Text that looks like a tag is escaped (SQLite) or left out of the
    # snippet (PostgreSQL's ts_headline drops it); it is never markup.
    assert "<soup>" not in page


def test_snippets_and_matches_come_from_the_text_not_the_markdown(client, author):
    write(
        author,
        title="Markup",
        body="I like *python* and `pytest`.\n\n> quoted **python**\n\n"
        "See [the docs](https://docs.example/zanzibar).",
    )
    page = search(client, "python").get_data(as_text=True)
    [snippet] = re.findall(r'<p class="excerpt" dir="auto">(.*?)</p>', page, re.DOTALL)
    words = re.sub(r"</?mark>", "", snippet)
    assert "I like python and pytest." in words
    assert not set("*`>") & set(words.replace("&gt;", ">")), snippet
    # A word only in a link's address is not in the text a reader reads.
    assert "No results" in search(client, "zanzibar").get_data(as_text=True)


def test_search_all_words_must_match(client, author):
    write(author, title="Apples and pears")
    write(author, title="Apples only")
    page = search(client, "apples pears").get_data(as_text=True)
    assert "pears" in page.lower()
    assert "Apples only" not in page


HOSTILE = [
    '"',
    '"unbalanced',
    "((((",
    ")",
    "a AND OR NOT b",
    "NEAR(a b)",
    "title:x",
    "*",
    "-x",
    "a' OR 1=1 --",
    "%_\\",
    "\x00",
    "<script>alert(1)</script>",
    "x" * 10_000,
    " ".join(["word"] * 500),
    "日本語 テキスト",
    "😀",
    "",
    "   ",
]


@pytest.mark.parametrize("text", HOSTILE)
def test_search_survives_any_input(client, author, text):
    write(author, title="Findable word", body="<script> NEAR and OR")
    response = search(client, text)
    assert response.status_code == 200
    body = response.get_data(as_text=True)
    assert "<script>alert" not in body
    assert any(words in body for words in ("No results", "match", "Type words"))


@pytest.mark.parametrize("page", ["0", "51", "x", "-1", "1e9"])
def test_search_page_out_of_range_is_400(client, page):
    assert search(client, "word", page).status_code == 400


def test_search_pages(client, author):
    for number in range(12):
        write(author, title=f"common {number}")
    first = search(client, "common").get_data(as_text=True)
    assert first.count("<article") == 10
    assert "More results" in first
    second = search(client, "common", 2).get_data(as_text=True)
    assert second.count("<article") == 2
    assert "More results" not in second


def test_search_is_a_link_on_every_page_and_a_box_on_its_own(client):
    for path in ("/", "/auth/login", "/1", "/no/such/page"):
        page = client.get(path).get_data(as_text=True)
        assert 'class="header-link search-link" href="/search"' in page, path
    page = search(client, "kept words").get_data(as_text=True)
    assert 'role="search"' in page
    assert 'action="/search"' in page
    assert 'name="q" value="kept words"' in page


def test_deleting_a_post_removes_it_from_search(client, author):
    write(author, title="Ephemeral zebra")
    assert "Ephemeral" in search(client, "zebra").get_data(as_text=True)
    token = csrf_token_from(client, "/2/delete")
    client.post("/2/delete", data={"csrf_token": token})
    assert "No results" in search(client, "zebra").get_data(as_text=True)


def test_editing_a_post_updates_search(client, author):
    write(author, title="Before giraffe")
    write(author, "/2/update", title="After okapi")
    assert "No results" in search(client, "giraffe").get_data(as_text=True)
    assert "okapi" in search(client, "okapi").get_data(as_text=True)


def titles_on(page):
    return re.findall(r'<h2 dir="auto"><a href="[^"]+">(.*?)</a></h2>', page)


def test_search_puts_title_matches_first_however_old(client, author):
    write(author, title="Walrus facts", body="the oldest post")
    for number in range(12):
        write(author, title=f"Notes {number}", body="a walrus in the text")
    first = search(client, "walrus").get_data(as_text=True)
    assert titles_on(first) == [
        "<mark>Walrus</mark> facts",
        *(f"Notes {number}" for number in range(11, 2, -1)),
    ]
    second = search(client, "walrus", 2).get_data(as_text=True)
    assert titles_on(second) == ["Notes 2", "Notes 1", "Notes 0"]
    assert "More results" not in second


def test_search_skips_drafts_and_trash_in_both_groups(client, author):
    for number in range(3):
        write(author, title=f"Walrus {number}")
    for number in range(10):
        write(author, title=f"Notes {number}", body="a walrus in the text")
    write(author, title="Walrus draft", action="draft")  # post 15
    write(author, title="Draft notes", body="walrus", action="draft")
    write(author, title="Walrus trashed")  # post 17
    client.post(
        "/17/delete", data={"csrf_token": csrf_token_from(client, "/17/delete")}
    )
    first = search(client, "walrus").get_data(as_text=True)
    assert titles_on(first) == [
        *(f"<mark>Walrus</mark> {number}" for number in (2, 1, 0)),
        *(f"Notes {number}" for number in range(9, 2, -1)),
    ]
    second = search(client, "walrus", 2).get_data(as_text=True)
    assert titles_on(second) == ["Notes 2", "Notes 1", "Notes 0"]


def test_search_puts_title_matches_first_then_the_newest(client, author):
    write(author, title="Old notes", body="a walrus in the text")
    write(author, title="Walrus facts", body="all about them")
    write(author, title="New notes", body="another walrus mention")
    write(author, title="Newest notes", body="the walrus again")
    page = search(client, "walrus").get_data(as_text=True)
    titles = re.findall(r'<h2 dir="auto"><a href="[^"]+">(.*?)</a></h2>', page)
    assert titles == [
        "<mark>Walrus</mark> facts",
        "Newest notes",
        "New notes",
        "Old notes",
    ]


def test_search_skips_drafts_among_the_newest_matches(client, author):
    for number in range(12):
        write(author, title=f"common public {number}")
    for number in range(6):  # newer than all of them, and not for readers
        write(author, title=f"common draft {number}", action="draft")
    first = search(client, "common").get_data(as_text=True)
    assert first.count("<article") == 10
    assert "</mark> draft" not in first
    assert "More results" in first
    second = search(client, "common", 2).get_data(as_text=True)
    assert second.count("<article") == 2
    assert "</mark> draft" not in second


@needs_sqlite
def test_a_run_of_drafts_costs_few_statements(app, client, author):
    for number in range(2):
        write(author, title=f"Public walrus {number}")
    for number in range(60):  # newer than both, and not for readers
        write(author, title=f"Draft walrus {number}", action="draft")
    with recorded_statements(app) as statements:
        page = search(client, "walrus").get_data(as_text=True)
    assert titles_on(page) == [f"Public <mark>walrus</mark> {n}" for n in (1, 0)]
    # 11 ids, then 22, then 44: three checks reach past 60 drafts.
    checks = [s for s, _ in statements if "post.published IS NOT NULL" in s]
    assert len(checks) == 3


def test_title_matches_that_fill_the_page_are_all_it_reads(app, client, author):
    """The list of other matches is not read when titles fill the page."""
    for number in range(12):
        write(author, title=f"Walrus {number}", body="a walrus in the text too")
    with recorded_statements(app) as statements:
        page = search(client, "walrus").get_data(as_text=True)
    assert titles_on(page)[0] == "<mark>Walrus</mark> 11"
    assert "More results" in page
    if not TEST_DATABASE_URL:
        # The count for "about N posts" is one statement of its own.
        text_searches = [
            s for s, _ in statements if s.startswith("SELECT rowid FROM post_fts ")
        ]
        assert text_searches == [], text_searches
        return
    [(statement, parameters)] = [
        (s, p) for s, p in statements if s.startswith("WITH rare_in_titles")
    ]
    with app.app_context():
        connection = db.session.connection()
        plan = connection.exec_driver_sql(f"EXPLAIN ANALYZE {statement}", parameters)
        steps = [row[0] for row in plan]
    walks = [step for step in steps if "Scan" in step and " on post " in step]
    # The newest titles are read; the walk for the other matches never starts.
    assert any("never executed" in step for step in walks), steps
    assert not all("never executed" in step for step in walks), steps


def test_the_row_past_the_page_gets_no_highlights(app, client, author):
    """The eleventh result only tells that a next page exists: no snippet is
    made for it."""
    for number in range(12):
        write(author, title=f"Walrus {number}", body="a walrus in the text too")
    with recorded_statements(app) as statements:
        page = search(client, "walrus").get_data(as_text=True)
    assert len(titles_on(page)) == 10
    assert "More results" in page
    if not TEST_DATABASE_URL:
        [marked] = [p for s, p in statements if "snippet(post_fts" in s]
        # After the markers (twice), the query and the id range: the ids, the
        # page's ten and not the eleventh.
        ids = marked[7:]
        assert len(ids) == 10, marked
        return
    [(statement, parameters)] = [
        (s, p) for s, p in statements if s.startswith("WITH rare_in_titles")
    ]
    with app.app_context():
        rows = db.session.connection().exec_driver_sql(statement, parameters).all()
    assert len(rows) == 11
    assert all(row.title and row.snippet for row in rows[:10])
    assert rows[10].title is None and rows[10].snippet is None


@pytest.fixture
def count_limit(monkeypatch):
    """Matches counted before the page says "more than", made small."""

    def set_limit(limit):
        from flaskr.blueprints.blog import browse

        monkeypatch.setattr(search_module, "COUNT_LIMIT", limit)
        monkeypatch.setattr(browse, "COUNT_LIMIT", limit)

    return set_limit


def test_search_counts_up_to_the_limit_then_says_more_than(client, author, count_limit):
    count_limit(4)
    for number in range(4):
        write(author, title=f"Narwhal {number}", body="tusks")
    page = search(client, "narwhal").get_data(as_text=True)
    assert "About 4 posts match “narwhal”" in page
    write(author, title="Narwhal 4", body="tusks")
    page = search(client, "narwhal").get_data(as_text=True)
    assert "More than 4 posts match “narwhal”" in page
    assert "About" not in page


def count_statements(statements):
    return [s for s, _ in statements if s.startswith("SELECT count(*)")]


@needs_postgresql
def test_a_query_expected_to_pass_the_limit_is_not_counted(app, client, count_limit):
    """The planner's estimate says "more than" without reading the matches;
    a query it expects to stay under the limit is counted."""
    count_limit(10)
    add_posts(app, 40)  # each titled "post N", with "body N" for text
    with app.app_context():
        db.session.execute(sa.text("ANALYZE post"))
        db.session.commit()
    with recorded_statements(app) as statements:
        page = search(client, "post").get_data(as_text=True)
    assert "More than 10 posts match “post”" in page
    assert count_statements(statements) == []
    with recorded_statements(app) as statements:
        page = search(client, "post 7").get_data(as_text=True)
    assert "One post matches “post 7”" in page
    assert len(count_statements(statements)) == 1


@needs_postgresql
def test_the_count_reads_the_full_text_index_not_the_table(app, client, author):
    write(author, title="Counted capybara")
    with recorded_statements(app) as statements:
        page = search(client, "capybara").get_data(as_text=True)
    assert "One post matches “capybara”" in page
    [(statement, parameters)] = [
        (s, p) for s, p in statements if s.startswith("SELECT count(*)")
    ]
    plan = query_plan(app, statement, parameters)
    assert any("Bitmap Index Scan on ix_post_search_vector" in s for s in plan), plan
    assert not any("Seq Scan on post" in step for step in plan), plan


def title_lists_run(app, statements):
    """Whether the search walked the newest titles and whether it looked its
    title matches up in their index: each list waits behind a one-time filter
    on ``rare_in_titles``, the walk's negated."""
    [(statement, parameters)] = [
        (s, p) for s, p in statements if s.startswith("WITH rare_in_titles")
    ]
    with app.app_context():
        plan = db.session.connection().exec_driver_sql(
            f"EXPLAIN ANALYZE {statement}", parameters
        )
        steps = [row[0] for row in plan]
    ran = {}
    for number, step in enumerate(steps):
        condition = step.partition("One-Time Filter: ")[2]
        if not condition or "<" in condition:  # the other matches' filter
            continue
        scan = next(later for later in steps[number:] if " on post " in later)
        name = "walked" if condition.startswith("(NOT ") else "looked_up"
        ran[name] = "never executed" not in scan
    return ran


@needs_postgresql
def test_a_word_rare_in_titles_is_looked_up_not_walked_for(app, client, author):
    """Walking the newest titles for a word few titles have would read them
    all: its title matches come from the titles' full-text index instead."""
    add_posts(app, 30)  # titled "post N": "post" is common in titles
    with app.app_context():
        db.session.execute(sa.text("ANALYZE post"))
        db.session.commit()
    write(author, title="Walrus old", body="tusks")
    write(author, title="Notes", body="a walrus in the text")
    write(author, title="Walrus new", body="tusks")
    with recorded_statements(app) as statements:
        page = search(client, "walrus").get_data(as_text=True)
    assert titles_on(page) == [
        "<mark>Walrus</mark> new",
        "<mark>Walrus</mark> old",
        "Notes",
    ]
    assert title_lists_run(app, statements) == {"walked": False, "looked_up": True}
    with recorded_statements(app) as statements:
        page = search(client, "post").get_data(as_text=True)
    assert titles_on(page)[0] == "<mark>post</mark> 29"
    assert title_lists_run(app, statements) == {"walked": True, "looked_up": False}


@needs_postgresql
def test_the_common_title_words_are_read_once_in_a_while(app, client, monkeypatch):
    def statistics_reads(statements):
        return [s for s, _ in statements if "FROM pg_stats" in s]

    with recorded_statements(app) as statements:
        search(client, "walrus")
        search(client, "narwhal")
    assert len(statistics_reads(statements)) == 1
    monkeypatch.setattr(search_module, "COMMON_TITLE_WORDS_SECONDS", 0)
    with recorded_statements(app) as statements:
        search(client, "walrus")
    assert len(statistics_reads(statements)) == 1


def index_pieces(app):
    """How many segments SQLite's full-text index is in."""
    with app.app_context():
        return db.session.scalar(
            sa.text("SELECT count(DISTINCT segid) FROM post_fts_idx")
        )


@needs_sqlite
def test_optimize_search_merges_the_index(app, client, author, runner):
    for number in range(2):  # each post is its own commit, so its own piece
        write(author, title=f"Merged marmot {number}")
    assert index_pieces(app) > 1
    result = runner.invoke(args=["optimize-search"])
    assert result.exit_code == 0, result.output
    assert "Merged the search index" in result.output
    assert index_pieces(app) == 1
    page = search(client, "marmot").get_data(as_text=True)
    assert page.count("<article") == 2
    write(author, title="Marmot after the merge")
    assert search(client, "marmot").get_data(as_text=True).count("<article") == 3


@needs_sqlite
def test_optimize_search_steps_on_whichever_connection(app, monkeypatch):
    with app.app_context():
        # Each post its own commit, so its own piece; enough text for the
        # merge to take many steps of one page.
        for number in range(40):
            db.session.add(
                Post(
                    author_id=1,
                    title=f"Stepped stoat {number}",
                    body=" ".join(f"w{number}x{word}" for word in range(400)),
                )
            )
            db.session.commit()
    assert index_pieces(app) > 1
    monkeypatch.setattr(search_module, "MERGE_STEP_PAGES", 1)
    with app.app_context():
        # Two connections in the pool, so that the steps take turns on them.
        first, second = db.engine.connect(), db.engine.connect()
        first.close()
        second.close()
        steps = search_module.optimize_search_index()
    assert steps > 3
    assert index_pieces(app) == 1


def test_optimize_search_on_any_database(runner):
    result = runner.invoke(args=["optimize-search"])
    assert result.exit_code == 0, result.output
    expected = "Nothing to do" if TEST_DATABASE_URL else "Merged the search index"
    assert expected in result.output
