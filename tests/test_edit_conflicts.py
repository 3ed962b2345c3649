"""Saves of one post from two tabs: each is applied whole or refused whole, in
order, and a refused writer keeps their text. Runs on both databases (the
PostgreSQL leg runs the whole suite against PostgreSQL)."""

import re
import threading

import pytest

from flaskr.db import db
from flaskr.models import Post
from flaskr.services.base.errors import PostChanged
from tests.conftest import csrf_token_from

VERSION_FIELD = re.compile(rb'name="version" type="hidden" value="(\d+)"')


def opened_version(client, post_id=1):
    page = client.get(f"/{post_id}/update").data
    match = VERSION_FIELD.search(page)
    assert match, "the edit form carries the post's version"
    return match.group(1).decode()


def save(client, token, number, version, action="save"):
    data = {
        "csrf_token": token,
        "title": f"title {number}",
        "body": f"body {number}",
        "tags": f"t{number}a, shared, t{number}b",
        "image_alt": "",
        "action": action,
    }
    if version is not None:
        data["version"] = version
    return client.post("/1/update", data=data)


def saved(app):
    with app.app_context():
        post = db.session.get(Post, 1)
        return post.title, post.body, set(post.tag_names), post.version


def whole_save(number):
    return f"title {number}", f"body {number}", {f"t{number}a", "shared", f"t{number}b"}


def test_a_save_over_a_newer_version_is_refused_and_keeps_the_text(app, author):
    token = csrf_token_from(author, "/1/update")
    first_tab = opened_version(author)
    second_tab = opened_version(author)
    assert save(author, token, 1, first_tab).status_code == 302

    response = save(author, token, 2, second_tab)
    assert response.status_code == 409
    page = response.get_data(as_text=True)
    assert "This post changed since you opened it" in page
    assert 'value="title 2"' in page and "body 2</textarea>" in page
    assert saved(app)[:3] == whole_save(1)

    # Saving again from the conflict page is a choice: it replaces the post.
    newer = VERSION_FIELD.search(response.data).group(1).decode()
    assert int(newer) == int(first_tab) + 1
    assert save(author, token, 2, newer).status_code == 302
    assert saved(app) == (*whole_save(2), int(first_tab) + 2)


def test_a_preview_keeps_the_version_the_form_was_opened_at(app, author):
    token = csrf_token_from(author, "/1/update")
    opened = opened_version(author)
    assert save(author, token, 1, opened).status_code == 302
    preview = save(author, token, 2, opened, action="preview")
    assert VERSION_FIELD.search(preview.data).group(1).decode() == opened


@pytest.mark.parametrize("bad", ["x", "0", "-1", "9" * 30])
def test_a_version_flaskr_did_not_write_is_a_400(app, author, bad):
    token = csrf_token_from(author, "/1/update")
    assert save(author, token, 1, bad).status_code == 400
    assert saved(app)[0] == "test title"


def concurrent_saves(app, author, versions):
    """Save post 1 from one thread per entry of ``versions``, all at once."""
    cookie = author.get_cookie("flaskr_session").value
    token = csrf_token_from(author, "/1/update")
    barrier = threading.Barrier(len(versions))
    statuses = {}

    def save_in_a_tab(number, version):
        client = app.test_client()
        client.set_cookie("flaskr_session", cookie)
        barrier.wait()
        statuses[number] = save(client, token, number, version).status_code

    threads = [
        threading.Thread(target=save_in_a_tab, args=(number, version))
        for number, version in enumerate(versions)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return statuses


def test_concurrent_saves_of_one_version_let_exactly_one_through(app, author):
    opened = opened_version(author)
    statuses = concurrent_saves(app, author, [opened] * 8)
    winners = [number for number, status in statuses.items() if status == 302]
    assert len(winners) == 1, statuses
    assert sorted(statuses.values()) == [302] + [409] * 7
    assert saved(app) == (*whole_save(winners[0]), int(opened) + 1)


def test_concurrent_saves_without_a_version_are_each_whole(app, author):
    statuses = concurrent_saves(app, author, [None] * 8)
    assert set(statuses.values()) <= {302, 409}, statuses
    title, body, tags, version = saved(app)
    number = int(title.removeprefix("title "))
    assert (title, body, tags) == whole_save(number)
    assert statuses[number] == 302


def test_a_post_changed_that_no_view_catches_is_a_409_page(app):
    def save_elsewhere():
        raise PostChanged()

    app.add_url_rule("/_test/post-changed", view_func=save_elsewhere)
    response = app.test_client().get("/_test/post-changed")
    assert response.status_code == 409
    assert b"This post changed since you opened it" in response.data
