"""Post pages, Markdown, drafts, tags, author pages and search."""

import re

import pytest
import sqlalchemy as sa

from flaskr.db import db
from flaskr.models import Post
from flaskr.models import PostTag
from flaskr.posts import normalize_tag
from flaskr.posts import parse_tags
from tests.conftest import AuthActions
from tests.conftest import csrf_token_from


def write(client, path="/create", **fields):
    """Submit the post form at ``path`` (action: publish, draft, save, preview)."""
    data = {"title": "A title", "body": "", "tags": "", **fields}
    data["csrf_token"] = csrf_token_from(client, path)
    return client.post(path, data=data)


@pytest.fixture
def author(client, auth):
    auth.login()
    return client


def test_post_page(client, author):
    response = write(
        author,
        title="Hello *there*",
        body="# Big\n\nSome **bold** text",
        tags="Python, web dev",
    )
    assert response.headers["Location"] == "/2"
    page = client.get("/2").get_data(as_text=True)
    assert "<h1>Hello *there*</h1>" in page
    assert "<h2>Big</h2>" in page
    assert "<strong>bold</strong>" in page
    assert 'href="/u/test">test</a>' in page
    assert 'href="/tag/python">#python</a>' in page
    assert 'href="/tag/web-dev">#web-dev</a>' in page
    assert '<link rel="canonical" href="http://localhost/2">' in page
    assert '<meta property="og:title" content="Hello *there*">' in page
    assert '<meta property="og:description" content="Big Some bold text">' in page
    assert '<meta property="og:url" content="http://localhost/2">' in page


def test_index_links_titles_and_shows_excerpts(client, author):
    write(author, title="Long one", body="word " * 200)
    page = client.get("/").get_data(as_text=True)
    assert '<a href="/2">Long one</a>' in page
    assert "word word" in page
    assert "word " * 200 not in page
    assert "…" in page
    assert 'Read more<span class="visually-hidden"> of “Long one”</span>' in page


def test_unknown_post_is_404(client):
    assert client.get("/999").status_code == 404
    assert client.get("/99999999999999999999").status_code == 404


def test_edit_shows_the_markdown_source(client, author):
    write(author, title="Source", body="*stars* stay", tags="b, a")
    page = client.get("/2/update").get_data(as_text=True)
    assert "*stars* stay</textarea>" in page
    assert 'value="a, b"' in page


def test_preview_saves_nothing(client, author, app):
    response = write(author, title="Preview me", body="**bold**", action="preview")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "Preview (not saved yet)" in page
    assert "<strong>bold</strong>" in page
    assert "**bold**</textarea>" in page
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Post)) == 1

    update = write(author, "/1/update", title="Changed", body="_new_", action="preview")
    assert "<em>new</em>" in update.get_data(as_text=True)
    assert b"test title" in client.get("/1").data


def test_preview_shows_errors(author):
    response = write(author, title="", body="x", action="preview")
    assert response.status_code == 422
    assert b"Title is required." in response.data
    assert b"Preview (not saved yet)" not in response.data


DRAFT_TITLE = "Secret draft"


@pytest.fixture
def draft(app, author):
    write(
        author,
        title=DRAFT_TITLE,
        body="draftword inside",
        tags="hidden-tag",
        action="draft",
    )
    with app.app_context():
        post = db.session.scalars(
            sa.select(Post).where(Post.title == DRAFT_TITLE)
        ).one()
        assert post.published is None
        return post.id


def test_drafts_are_visible_to_their_author_only(app, client, draft):
    assert b"Draft" in client.get(f"/{draft}").data
    assert DRAFT_TITLE.encode() in client.get("/drafts").data
    assert DRAFT_TITLE.encode() not in client.get("/").data

    stranger = app.test_client()
    other = app.test_client()
    AuthActions(other).login("other", "other")
    for reader in (stranger, other):
        assert reader.get(f"/{draft}").status_code == 404
        for path in (
            "/",
            "/u/test",
            "/search?q=draftword",
            "/feed.atom",
            "/feed.rss",
            "/u/test/feed.atom",
            "/sitemap-0.xml",
        ):
            response = reader.get(path)
            assert response.status_code == 200, path
            assert DRAFT_TITLE.encode() not in response.data, path
            assert f"/{draft}<".encode() not in response.data, path
        assert reader.get("/tag/hidden-tag").status_code == 404
        assert reader.get("/tag/hidden-tag/feed.atom").status_code == 404
    assert DRAFT_TITLE.encode() not in other.get("/drafts").data


def test_publishing_a_draft_dates_it_now(app, client, draft):
    with app.app_context():
        created = db.session.get(Post, draft).created
    response = write(
        client,
        f"/{draft}/update",
        title=DRAFT_TITLE,
        body="now out",
        tags="hidden-tag",
        action="publish",
    )
    assert response.headers["Location"] == f"/{draft}"
    with app.app_context():
        post = db.session.get(Post, draft)
        assert post.published is not None and post.published > created
        links = db.session.scalars(
            sa.select(PostTag).where(PostTag.post_id == draft)
        ).all()
        assert [link.published for link in links] == [post.published]
    stranger = app.test_client()
    assert DRAFT_TITLE.encode() in stranger.get("/").data
    assert stranger.get("/tag/hidden-tag").status_code == 200
    assert DRAFT_TITLE.encode() not in client.get("/drafts").data


def test_saving_a_draft_keeps_it_a_draft(app, client, draft):
    write(client, f"/{draft}/update", title="Still secret", action="draft")
    with app.app_context():
        assert db.session.get(Post, draft).published is None


@pytest.mark.parametrize(
    ("text", "tags"),
    [
        ("Python, Flask", ["python", "flask"]),
        ("  web dev ,, WEB   DEV, web_dev ", ["web-dev"]),
        ("C++, c#, .NET", ["c", "net"]),
        ("Ünïcode, 日本語", ["ünïcode", "日本語"]),
        (",,, ,", []),
        ("a-b--c", ["a-b-c"]),
    ],
)
def test_tag_normalization(text, tags):
    assert parse_tags(text) == tags


def test_normalize_tag_keeps_only_letters_digits_and_hyphens():
    assert normalize_tag("  Hello, World!  ") == "hello-world"
    assert re.fullmatch(r"[\w-]+", normalize_tag("x<script>y")) is not None


@pytest.mark.parametrize(
    ("tags", "message"),
    [
        (", ".join(f"t{n}" for n in range(11)), b"at most 10 tags"),
        ("x" * 41, b"at most 40 characters"),
    ],
)
def test_tag_limits(app, author, tags, message):
    response = write(author, tags=tags)
    assert response.status_code == 422
    assert message in response.data


def test_tag_page_and_links(app, client, author):
    for number in range(12):
        write(
            author,
            title=f"tagged {number}",
            tags="news, other" if number % 2 else "news",
        )
    page = client.get("/tag/news").get_data(as_text=True)
    assert "Posts tagged #news" in page
    assert len(re.findall(r"<h2><a href=\"/\d+\">tagged \d+</a></h2>", page)) == 10
    older = re.search(r'href="(/tag/news\?before=[^"]+)"', page).group(1)
    rest = client.get(older).get_data(as_text=True)
    assert len(re.findall(r"<h2><a href=\"/\d+\">tagged \d+</a></h2>", rest)) == 2
    assert client.get("/tag/other").get_data(as_text=True).count("<article") == 6
    assert 'href="/tag/news/feed.atom"' in page


def test_retagging_removes_old_tags(app, author):
    write(author, title="retag", tags="one, two")
    write(author, "/2/update", title="retag", tags="two, three")
    with app.app_context():
        assert db.session.get(Post, 2).tag_names == ["three", "two"]
    assert author.get("/tag/one").status_code == 404


def test_unknown_tag_and_user_are_404(client):
    assert client.get("/tag/nothing").status_code == 404
    assert client.get("/tag/nothing/feed.atom").status_code == 404
    assert client.get("/u/nobody").status_code == 404
    assert client.get("/u/nobody/feed.atom").status_code == 404


def test_author_page(client, author):
    write(author, title="by test")
    page = client.get("/u/test").get_data(as_text=True)
    assert "Posts by test" in page
    assert "by test</a></h2>" in page
    assert "test title" in page
    assert "test title" not in client.get("/u/other").get_data(as_text=True)
    response = client.get("/u/TEST")
    assert response.status_code == 301
    assert response.headers["Location"] == "/u/test"


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
    titles = re.findall(r'<h2><a href="/\d+">(.*?)</a></h2>', page)
    assert titles[0] == "<mark>Tomato</mark> soup"  # a title match ranks first
    assert "Gardening notes" in titles[1]
    assert "Unrelated" not in page
    assert "<mark>" in page
    # Text that looks like a tag is escaped (SQLite) or left out of the
    # snippet (PostgreSQL's ts_headline drops it); it is never markup.
    assert "<soup>" not in page


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
    assert ("No results" in body) or ("Results for" in body) or ("Type words" in body)


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


def test_search_box_on_every_page(client):
    for path in ("/", "/auth/login", "/1", "/no/such/page"):
        page = client.get(path).get_data(as_text=True)
        assert 'role="search"' in page, path
        assert 'action="/search"' in page, path


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


def test_search_ranks_only_the_most_recent_matches(app_with):
    app = app_with(SEARCH_WINDOW=3)
    client = app.test_client()
    AuthActions(client).login()
    for number in range(5):
        write(client, title=f"Window walrus {number}")
    page = search(client, "walrus").get_data(as_text=True)
    found = sorted(re.findall(r"walrus</mark> (\d)", page))
    assert found == ["2", "3", "4"]


def test_search_puts_title_matches_first_then_the_newest(client, author):
    write(author, title="Old notes", body="a walrus in the text")
    write(author, title="Walrus facts", body="all about them")
    write(author, title="New notes", body="another walrus mention")
    write(author, title="Newest notes", body="the walrus again")
    page = search(client, "walrus").get_data(as_text=True)
    titles = re.findall(r'<h2><a href="/\d+">(.*?)</a></h2>', page)
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
