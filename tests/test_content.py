"""Post pages, Markdown, drafts, tags and author pages."""

import re

import pytest
import sqlalchemy as sa

from flaskr.db import db
from flaskr.models import Post
from flaskr.models import PostTag
from flaskr.services.content.rules import normalize_tag
from flaskr.services.content.rules import parse_tags
from tests.conftest import AuthActions
from tests.helpers import write


def test_post_page(client, author):
    response = write(
        author,
        title="Hello *there*",
        body="# Big\n\nSome **bold** text",
        tags="Python, web dev",
    )
    assert response.headers["Location"] == "/p/hello-there"
    page = client.get("/p/hello-there").get_data(as_text=True)
    assert '<h1 id="post-title" dir="auto">Hello *there*</h1>' in page
    assert '<h2 id="big">Big</h2>' in page
    assert "<strong>bold</strong>" in page
    assert 'href="/u/test" dir="auto">test</a>' in page
    assert 'href="/tag/python" dir="auto">#python</a>' in page
    assert 'href="/tag/web-dev" dir="auto">#web-dev</a>' in page
    assert '<link rel="canonical" href="http://localhost/p/hello-there">' in page
    assert '<meta property="og:title" content="Hello *there*">' in page
    assert '<meta property="og:description" content="Big Some bold text">' in page
    assert '<meta property="og:url" content="http://localhost/p/hello-there">' in page


def test_index_links_titles_and_shows_excerpts(client, author):
    write(author, title="Long one", body="word " * 200)
    page = client.get("/").get_data(as_text=True)
    assert '<a href="/p/long-one">Long one</a>' in page
    assert "word word" in page
    assert "word " * 200 not in page
    assert "…" in page
    # The title is a card's one link to the post: no "Read more" repeats it.
    assert page.count('href="/p/long-one"') == 1
    assert "Read more" not in page


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
    # The preview pane is there for the script's toggle, hidden: no preview
    # of a post that cannot be saved.
    assert b'id="preview" aria-labelledby="preview-heading" tabindex="-1" hidden>' in (
        response.data
    )


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
    assert b"Draft" in client.get(f"/{draft}", follow_redirects=True).data
    assert DRAFT_TITLE.encode() in client.get("/drafts").data
    assert DRAFT_TITLE.encode() not in client.get("/").data

    stranger = app.test_client()
    other = app.test_client()
    AuthActions(other).login("other", "other")
    for reader in (stranger, other):
        assert reader.get(f"/{draft}").status_code == 404
        assert reader.get("/p/secret-draft").status_code == 404
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
    assert response.headers["Location"] == "/p/secret-draft"
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
    assert (
        len(re.findall(r"<h2[^>]*><a href=\"/p/tagged-\d+\">tagged \d+</a></h2>", page))
        == 10
    )
    older = re.search(r'href="(/tag/news\?before=[^"]+)"', page).group(1)
    rest = client.get(older).get_data(as_text=True)
    assert (
        len(re.findall(r"<h2[^>]*><a href=\"/p/tagged-\d+\">tagged \d+</a></h2>", rest))
        == 2
    )
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
