"""What a writer controls of a post's publication: its summary and address."""

from __future__ import annotations

from urllib.parse import quote

import pytest
from flask import url_for

from flaskr.services.content.rules import slug_problem
from flaskr.services.content.rules import slugify
from tests.conftest import csrf_token_from
from tests.helpers import newest
from tests.helpers import post_row
from tests.helpers import write_in_editor


@pytest.mark.parametrize(
    ("title", "slug"),
    [
        ("Café au lait!", "cafe-au-lait"),
        ("  Hello,   World  ", "hello-world"),
        ("¡!¿?", "post"),
        ("Ünïcödé — and ASCII", "unicode-and-ascii"),
        ("word " * 40, "-".join(["word"] * 15)),
        ("x" * 200, "x" * 74),
        ("Ça va", "ca-va"),
        ("Straße, Øresund", "strasse-oresund"),
        ("Привет, мир", "привет-мир"),
        ("Йога и ёжик", "йога-и-ёжик"),  # Cyrillic letters keep their marks
        ("Καλημέρα κόσμε", "καλημέρα-κόσμε"),
        ("שָׁלוֹם עוֹלָם", "שָׁלוֹם-עוֹלָם"),
        ("مرحبا بالعالم", "مرحبا-بالعالم"),
        ("你好，世界", "你好-世界"),
        ("日本語のブログ", "日本語のブログ"),
        ("한국어 블로그", "한국어-블로그"),
        ("हिन्दी ब्लॉग", "हिन्दी-ब्लॉग"),  # vowel signs stay in the word
        ("Ｆｕｌｌ ｗｉｄｔｈ ２０２６", "full-width-2026"),
        ("🎉🎉", "post"),
    ],
)
def test_slugify(title, slug):
    assert slugify(title) == slug
    assert slug_problem(slug) is None, "an address made is one a writer may type"


@pytest.mark.parametrize(
    ("title", "slug"),
    [("Привет, мир", "привет-мир"), ("שלום עולם", "שלום-עולם"), ("你好", "你好")],
)
def test_a_title_in_another_script_keeps_its_letters_in_the_address(
    app, author, title, slug
):
    write_in_editor(author, title=title)
    write_in_editor(author, title=title)
    first, second = post_row(app, newest(app) - 1), post_row(app, newest(app))
    assert (first.slug, second.slug) == (slug, f"{slug}-2")
    with app.test_request_context():
        address = url_for("blog.post_by_slug", slug=second.slug)
    assert address.isascii() and address == f"/p/{quote(slug)}-2"
    page = app.test_client().get(address)
    assert page.status_code == 200
    assert f">{title}</h1>" in page.get_data(as_text=True)
    assert app.test_client().get(f"/p/{quote(slug)}-3").status_code == 404


def test_an_address_in_another_script_can_be_chosen(app, author):
    write_in_editor(author, title="Anything", slug="мой-адрес")
    assert post_row(app, newest(app)).slug == "мой-адрес"
    assert app.test_client().get(f"/p/{quote('мой-адрес')}").status_code == 200
    response = write_in_editor(author, title="Again", slug="мой-адрес")
    assert response.status_code == 422
    assert "Another post has the address" in response.get_data(as_text=True)


def test_a_new_post_gets_an_address_from_its_title(app, author):
    write_in_editor(author, title="Hello, Flaskr")
    write_in_editor(author, title="hello flaskr")
    first, second = post_row(app, newest(app) - 1), post_row(app, newest(app))
    assert (first.slug, second.slug) == ("hello-flaskr", "hello-flaskr-2")
    page = app.test_client().get("/p/hello-flaskr-2")
    assert page.status_code == 200
    assert b'<h1 id="post-title" dir="auto">hello flaskr</h1>' in page.data
    assert b'<link rel="canonical" href="http://localhost/' in page.data
    assert app.test_client().get("/p/nothing-here").status_code == 404


def test_a_draft_at_its_address_is_only_for_its_author(app, author):
    write_in_editor(author, action="draft", title="Secret plans")
    assert author.get("/p/secret-plans").status_code == 200
    assert app.test_client().get("/p/secret-plans").status_code == 404


def test_a_chosen_address_is_kept_and_can_change(app, author):
    write_in_editor(author, title="Long title", slug="short")
    post_id = newest(app)
    assert post_row(app, post_id).slug == "short"
    response = write_in_editor(
        author, f"/{post_id}/update", action="save", slug="shorter"
    )
    assert response.status_code == 302
    assert post_row(app, post_id).slug == "shorter"
    assert app.test_client().get("/p/short").status_code == 404
    # Empty keeps the address the post has.
    write_in_editor(
        author, f"/{post_id}/update", action="save", title="New title", slug=""
    )
    assert post_row(app, post_id).slug == "shorter"


@pytest.mark.parametrize(
    ("slug", "message"),
    [
        ("Capitals", "only lower-case letters"),
        ("two--hyphens", "only lower-case letters"),
        ("-edge", "only lower-case letters"),
        ("sp ace", "only lower-case letters"),
        ("x" * 81, "at most 80 characters"),
        ("nul\x00", "only lower-case letters"),
        ("Привет", "only lower-case letters"),
        ("café", "Latin ones without accents"),
        ("a_b", "only lower-case letters"),
    ],
)
def test_a_bad_address_is_refused(app, author, slug, message):
    before = newest(app)
    response = write_in_editor(author, slug=slug)
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert newest(app) == before


def test_an_address_another_post_has_is_refused_whole(app, author):
    write_in_editor(author, title="First", slug="taken")
    write_in_editor(author, title="Second")
    second = newest(app)
    before = post_row(app, second)
    response = write_in_editor(
        author, f"/{second}/update", action="save", title="Changed", slug="taken"
    )
    assert response.status_code == 422
    assert "Another post has the address" in response.get_data(as_text=True)
    after = post_row(app, second)
    assert (after.title, after.slug, after.version) == (
        before.title,
        before.slug,
        before.version,
    )
    # The form keeps what the writer typed, and saves once the address is free.
    assert 'value="Changed"' in response.get_data(as_text=True)
    response = write_in_editor(
        author, f"/{second}/update", action="save", title="Changed"
    )
    assert response.status_code == 302
    count = newest(app)
    response = write_in_editor(author, title="Third", slug="taken")
    assert response.status_code == 422
    assert newest(app) == count


def test_a_summary_is_what_lists_feeds_and_previews_show(app, author):
    write_in_editor(author, title="Summed up", summary="  In   short: it works. ")
    post_id = newest(app)
    assert post_row(app, post_id).excerpt == "In short: it works."
    reader = app.test_client()
    assert b"In short: it works." in reader.get("/").data
    assert b"In short: it works." in reader.get("/feed.atom").data
    assert b'content="In short: it works."' in reader.get("/p/summed-up").data
    # Without one, the start of the text again.
    write_in_editor(author, f"/{post_id}/update", action="save", title="Summed up")
    assert post_row(app, post_id).excerpt.startswith("The body of the post")


def test_a_long_summary_is_refused(app, author):
    before = newest(app)
    response = write_in_editor(author, summary="x" * 301)
    assert response.status_code == 422
    assert "at most 300 characters" in response.get_data(as_text=True)
    assert newest(app) == before


def test_render_posts_keeps_the_summary(app, author, runner):
    write_in_editor(author, title="Kept", summary="My own words.")
    runner.invoke(args=["render-posts"])
    assert post_row(app, newest(app)).excerpt == "My own words."


# Unpublishing.

PUBLIC_PLACES = [
    "/",
    "/tag/unpublishable",
    "/u/test",
    "/feed.atom",
    "/feed.rss",
    "/u/test/feed.atom",
    "/tag/unpublishable/feed.atom",
    "/search?q=unpublishable",
]


def shows(page, post_id):
    """Whether a page shows the post: its title, a link to it, or in a
    sitemap its URL."""
    return any(
        marker in page.data
        for marker in (
            b"Unpublishable words",
            f'href="/{post_id}"'.encode(),
            f"/{post_id}</loc>".encode(),
            b'href="/p/unpublishable-words"',
            b"/p/unpublishable-words</loc>",
        )
    )


def unpublish(client, post_id, token=None):
    token = token or csrf_token_from(client, f"/{post_id}/update")
    return client.post(f"/{post_id}/unpublish", data={"unpublish-csrf_token": token})


def test_unpublish_takes_a_post_off_every_public_page(app, author):
    write_in_editor(author, title="Unpublishable words", tags="unpublishable")
    post_id = newest(app)
    reader = app.test_client()
    places = [*PUBLIC_PLACES, f"/{post_id}", "/p/unpublishable-words", "/sitemap-0.xml"]
    for path in places:
        reader.get(path)  # asked twice: kept by the page cache
        assert shows(reader.get(path), post_id), path
    edit_form_token = csrf_token_from(author, f"/{post_id}/update")

    response = unpublish(author, post_id)
    assert response.status_code == 302
    assert post_row(app, post_id).published is None
    for path in places:
        assert not shows(reader.get(path), post_id), path
    assert b"Unpublishable words" in author.get("/drafts").data
    assert author.get(f"/{post_id}", follow_redirects=True).status_code == 200

    # An edit form opened while it was published cannot publish it again.
    response = author.post(
        f"/{post_id}/update",
        data={
            "title": "Unpublishable words",
            "body": "x",
            "tags": "",
            "action": "save",
            "version": "1",
            "csrf_token": edit_form_token,
        },
    )
    assert response.status_code == 409
    assert post_row(app, post_id).published is None


def test_unpublish_is_a_post_by_the_author_with_a_token(app, author):
    write_in_editor(author, title="Stays")
    post_id = newest(app)
    assert author.get(f"/{post_id}/unpublish").status_code == 405
    response = author.post(f"/{post_id}/unpublish", data={})
    assert response.status_code == 400
    other = app.test_client()
    from tests.conftest import AuthActions

    AuthActions(other).login("other", "other")
    token = csrf_token_from(other, "/")
    assert unpublish(other, post_id, token).status_code == 403
    assert post_row(app, post_id).published is not None
    # A draft stays a draft.
    unpublish(author, post_id)
    response = unpublish(author, post_id)
    assert response.status_code == 302
    assert "a draft already" in author.get(f"/{post_id}/update").get_data(True)


def test_publishing_again_dates_the_post_anew(app, author):
    write_in_editor(author, title="Again")
    post_id = newest(app)
    first = post_row(app, post_id).published
    unpublish(author, post_id)
    write_in_editor(author, f"/{post_id}/update", action="publish", title="Again")
    assert post_row(app, post_id).published > first
