"""Imports from other engines, from small fixture files written here
(tests/data/imports): Jekyll and Hugo Markdown, Ghost, WordPress, WriteFreely."""

import datetime as dt
import io
import re
import zipfile
from pathlib import Path

import pytest
import sqlalchemy as sa

from flaskr.db import db
from flaskr.models import Post
from flaskr.models import User
from flaskr.services.portability.foreign import open_source
from flaskr.services.portability.imports import ArchiveRefused
from flaskr.services.portability.imports import import_from
from tests.helpers import assert_counts_match_rows

DATA = Path(__file__).parent / "data" / "imports"


def imported(app, name, **options):
    with app.app_context():
        writer = options.pop("writer", None)
        user = db.session.scalar(sa.select(User).where(User.username == writer))
        return import_from(open_source(DATA / name), writer=user, **options)


def post_by_slug(app, slug):
    with app.app_context():
        post = db.session.scalar(sa.select(Post).where(Post.slug == slug))
        assert post is not None, slug
        return {
            "title": post.title,
            "author": post.author_name,
            "published": post.published,
            "updated": post.updated,
            "summary": post.summary,
            "tags": post.tag_names,
            "body": post.body,
            "html": post.body_html,
        }


def test_jekyll_and_hugo_markdown(app):
    report = imported(app, "markdown", writer="test")
    assert report.created["post"] == 3
    [(item, reason)] = report.failed
    assert (
        item.endswith("2020-05-05-no-front-matter.md") and reason == "no front matter"
    )
    jekyll = post_by_slug(app, "hello-jekyll")
    assert jekyll["title"] == "Hello from Jekyll"
    assert jekyll["published"] == dt.datetime(2020, 1, 2, 9, 30, tzinfo=dt.UTC)
    assert jekyll["tags"] == ["journal", "notes", "travel"]
    assert jekyll["summary"] == "A first post, carried over."
    assert "<em>Markdown</em>" in jekyll["html"] and jekyll["author"] == "test"
    # Its picture from the folder is in the library now, shown from there;
    # the one on the old site is left as a link.
    assert report.created["picture"] == 1
    assert re.search(
        r"!\[A red dot\]\(/media/[A-Za-z0-9_-]{22}\.webp\)", jekyll["body"]
    )
    assert "(https://old.example/pic.png)" in jekyll["body"]
    with app.app_context():
        cover = db.session.scalar(
            sa.select(Post).where(Post.slug == "hello-jekyll")
        ).image
        assert cover is not None and (cover.width, cover.height) == (24, 16)
    hugo = post_by_slug(app, "hugo-post")
    assert hugo["published"] == dt.datetime(2021, 3, 4, 5, 6, 7, tzinfo=dt.UTC)
    assert hugo["tags"] == ["hugo"]
    assert post_by_slug(app, "unfinished-thoughts")["published"] is None  # _drafts
    # Again: nothing new.
    again = imported(app, "markdown", writer="test")
    assert sum(again.created.values()) == 0 and again.skipped["post"] == 3
    assert again.skipped["picture"] == 1


def test_markdown_needs_a_writer(app):
    report = imported(app, "markdown")
    assert report.created["post"] == 0
    assert "--writer" in dict(report.failed)["post _posts/2020-01-02-hello-jekyll.md"]


def test_markdown_in_a_zip(app, tmp_path):
    archive = tmp_path / "site.zip"
    with zipfile.ZipFile(archive, "w") as files:
        for path in (DATA / "markdown").rglob("*"):
            if path.is_file():
                files.write(path, path.relative_to(DATA / "markdown"))
    with app.app_context():
        report = import_from(open_source(archive), writer=db.session.get(User, 1))
    assert report.created["post"] == 3 and report.created["picture"] == 1


def test_ghost(app):
    report = imported(app, "ghost.json")
    assert report.failed == []
    assert report.created == {"writer": 1, "post": 2}
    welcome = post_by_slug(app, "welcome-to-ghost")
    assert welcome["author"] == "grace"
    assert welcome["body"] == "Hello **Ghost** readers."  # the Markdown card
    assert welcome["tags"] == ["getting-started", "news"]
    assert welcome["summary"] == "The first one."
    assert welcome["published"] == dt.datetime(2019, 2, 1, 10, tzinfo=dt.UTC)
    draft = post_by_slug(app, "draft-in-html")
    assert draft["published"] is None
    assert draft["body"].startswith("## Plans")
    assert "[link](https://example.org)" in draft["body"]
    with app.app_context():
        grace = db.session.scalar(sa.select(User).where(User.username == "grace"))
        assert grace.display_name == "Grace Ghost" and grace.bio == "Writes things."
        assert db.session.scalar(sa.select(Post).where(Post.slug == "about")) is None
        assert_counts_match_rows()
    assert sum(imported(app, "ghost.json").created.values()) == 0


def test_wordpress(app):
    report = imported(app, "wordpress.xml")
    assert report.failed == []
    assert report.created == {"writer": 1, "post": 2}
    hello = post_by_slug(app, "hello-world")
    assert hello["author"] == "wendy"
    assert hello["published"] == dt.datetime(2018, 6, 1, 8, tzinfo=dt.UTC)
    assert hello["tags"] == ["greetings"]
    assert hello["summary"] == "The very first post."
    assert "Welcome to **WordPress**." in hello["body"]
    assert "<blockquote>" in hello["html"]
    draft = post_by_slug(app, "still-writing")  # made from the title
    assert draft["published"] is None and draft["tags"] == ["drafts"]
    assert sum(imported(app, "wordpress.xml").created.values()) == 0


def test_writefreely(app):
    report = imported(app, "writefreely.json")
    assert report.failed == []
    assert report.created == {"writer": 1, "post": 3}
    first = post_by_slug(app, "my-first-post")
    assert first["published"] == dt.datetime(2019, 4, 2, 12, tzinfo=dt.UTC)
    assert first["updated"] == dt.datetime(2019, 4, 3, 12, tzinfo=dt.UTC)
    assert first["tags"] == ["writing"]
    untitled = post_by_slug(app, "untitled-thoughts")
    assert untitled["title"] == "A heading as the first line"
    assert post_by_slug(app, "an-anonymous-draft")["published"] is None


def test_hostile_xml_is_refused(app, tmp_path):
    bomb = tmp_path / "laughs.xml"
    bomb.write_text(
        '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
        '<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>'
        "<rss><channel>&lol2;</channel></rss>"
    )
    with app.app_context(), pytest.raises(ArchiveRefused, match="not a WordPress"):
        open_source(bomb)
    external = tmp_path / "external.xml"
    external.write_text(
        '<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
        "<rss><channel><title>&x;</title></channel></rss>"
    )
    with app.app_context(), pytest.raises(ArchiveRefused):
        open_source(external)


@pytest.mark.parametrize(
    "content",
    [b"not json at all", b"[1, 2]", b'{"db": []}', b'{"username": 5, "posts": []}'],
)
def test_unknown_files_are_refused(app, tmp_path, content):
    path = tmp_path / "thing.json"
    path.write_bytes(content)
    with app.app_context(), pytest.raises(ArchiveRefused):
        open_source(path)


def test_the_command_reads_every_format(app, runner):
    result = runner.invoke(args=["import", str(DATA / "ghost.json"), "--dry-run"])
    assert result.exit_code == 0, result.output
    assert "post: 2 created" in result.output
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Post)) == 1
    result = runner.invoke(args=["import", str(DATA / "markdown")])
    assert result.exit_code == 1  # every post names no writer
    assert "--writer" in result.output
    result = runner.invoke(args=["import", str(DATA / "wordpress.xml")])
    assert result.exit_code == 0, result.output
    assert io.StringIO(result.output).read().count("failed: 0") == 1


def markdown_zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as files:
        for path in (DATA / "markdown").rglob("*.md"):
            files.write(path, path.relative_to(DATA / "markdown"))
    return buffer.getvalue()


def upload(client, data: bytes, name="blog.zip"):
    from tests.conftest import csrf_token_from

    return client.post(
        "/auth/account/import",
        data={
            "import-csrf_token": csrf_token_from(client, "/auth/account"),
            "import-archive": (io.BytesIO(data), name),
        },
        content_type="multipart/form-data",
        follow_redirects=True,
    )


def test_a_writer_imports_their_zip_from_the_account_page(app):
    from tests.conftest import AuthActions

    client = app.test_client()
    AuthActions(client).login("other", "other")
    page = upload(client, markdown_zip()).get_data(as_text=True)
    assert "Imported 3 posts and 0 pictures; 0 were here already." in page  # .md only
    assert (
        "Not imported: post _posts/2020-05-05-no-front-matter.md: no front matter"
        in page
    )
    assert post_by_slug(app, "hello-jekyll")["author"] == "other"
    again = upload(client, markdown_zip()).get_data(as_text=True)
    assert "Imported 0 posts and 0 pictures; 3 were here already." in again
    # Their own download comes back as nothing new.
    download = client.get("/auth/account/export").get_data()
    assert "Imported 0 posts" in upload(client, download).get_data(as_text=True)


def test_the_account_page_refuses_what_is_not_a_zip(app):
    from tests.conftest import AuthActions

    client = app.test_client()
    AuthActions(client).login()
    refused = upload(client, b"not a zip", "notes.txt")
    assert refused.status_code == 422
    assert "This is not a zip file." in refused.get_data(as_text=True)
    too_large = client.post(
        "/auth/account/import",
        data=b"x" * (app.config["MAX_CONTENT_LENGTH"] + 6_000_000),
        content_type="multipart/form-data; boundary=x",
    )
    assert too_large.status_code == 413
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Post)) == 1
