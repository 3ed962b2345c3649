"""Forms read what was sent, and only that: a text field left out of the
request is refused like an empty one, and a file sent where text belongs is a
400, on every form."""

import io

import pytest

from flaskr.db import db
from flaskr.models import Post
from tests.conftest import csrf_token_from

POST_FIELDS = {"title": "new title", "body": "new body", "tags": "a", "image_alt": ""}

#: (path, the page its token comes from, fields a good request sends).
FORMS = [
    ("/create", "/create", POST_FIELDS),
    ("/1/update", "/1/update", POST_FIELDS),
    ("/1/comments", "/1", {"body": "a comment"}),
    (
        "/auth/account/password",
        "/auth/account",
        {
            "password-current_password": "test",
            "password-new_password": "a long new password",
        },
    ),
    (
        "/auth/account/delete",
        "/auth/account",
        {"delete-password": "test", "delete-posts": "keep"},
    ),
]
LOGGED_OUT_FORMS = [
    ("/auth/register", {"username": "newcomer", "password": "a long password"}),
    ("/auth/login", {"username": "test", "password": "test"}),
]
#: Fields that may not be empty (a post's body may be: it is refused nowhere).
REQUIRED = {"title", "username", "password", "delete-password"}
REQUIRED |= {"password-current_password", "password-new_password"}


def sending(fields, token, **changes):
    data = {"csrf_token": token, **fields, **changes}
    return {name: value for name, value in data.items() if value is not None}


def test_an_update_without_a_title_keeps_nothing_and_says_why(app, author):
    token = csrf_token_from(author, "/1/update")
    data = sending(POST_FIELDS, token, title=None)
    response = author.post("/1/update", data=data)
    assert response.status_code == 422
    assert b"Title is required." in response.data
    with app.app_context():
        post = db.session.get(Post, 1)
        assert (post.title, post.body) == ("test title", "test\nbody")


@pytest.mark.parametrize(
    ("path", "page", "fields", "name"),
    [(p, g, f, n) for p, g, f in FORMS for n in f if n in REQUIRED]
    + [("/1/comments", "/1", {"body": "a comment"}, "body")],
)
def test_a_missing_required_field_is_refused(author, path, page, fields, name):
    token = csrf_token_from(author, page)
    response = author.post(path, data=sending(fields, token, **{name: None}))
    assert response.status_code == 422, (path, name)


@pytest.mark.parametrize(
    ("path", "fields", "name"),
    [(p, f, n) for p, f in LOGGED_OUT_FORMS for n in f if n in REQUIRED],
)
def test_a_missing_field_is_refused_when_logged_out(client, path, fields, name):
    token = csrf_token_from(client, path)
    response = client.post(path, data=sending(fields, token, **{name: None}))
    assert response.status_code == 422, (path, name)
    assert b"is required." in response.data


def as_file(data, name):
    return {**data, name: (io.BytesIO(b"text"), "note.txt")}


@pytest.mark.parametrize(
    ("path", "page", "fields", "name"),
    [(p, g, f, n) for p, g, f in FORMS for n in f if n != "delete-posts"],
)
def test_a_file_where_text_belongs_is_a_400(app, author, path, page, fields, name):
    token = csrf_token_from(author, page)
    response = author.post(path, data=as_file(sending(fields, token), name))
    assert response.status_code == 400, (path, name)
    assert b"A file was sent where text belongs." in response.data
    with app.app_context():
        assert db.session.get(Post, 1).title == "test title"


@pytest.mark.parametrize(
    ("path", "fields", "name"), [(p, f, n) for p, f in LOGGED_OUT_FORMS for n in f]
)
def test_a_file_where_text_belongs_is_a_400_logged_out(client, path, fields, name):
    token = csrf_token_from(client, path)
    response = client.post(path, data=as_file(sending(fields, token), name))
    assert response.status_code == 400, (path, name)
