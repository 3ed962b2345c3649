import re

import pytest
import sqlalchemy as sa

from flaskr.db import db
from flaskr.models import Post
from flaskr.models import User
from tests.conftest import csrf_token_from


def snapshot(app):
    with app.app_context():
        users = db.session.execute(sa.select(User.username, User.password_hash)).all()
        posts = db.session.execute(sa.select(Post.title, Post.body)).all()
    return users, posts


FORMS = [
    ("/auth/register", {"username": "new", "password": "a long new password"}),
    ("/auth/login", {"username": "test", "password": "test"}),
    ("/auth/logout", {}),
    ("/create", {"title": "new", "body": "new"}),
    ("/1/update", {"title": "changed", "body": "changed"}),
    ("/1/delete", {}),
]


@pytest.mark.parametrize(("path", "data"), FORMS)
@pytest.mark.parametrize("token", [None, "", "not-a-token"])
def test_form_without_valid_token_is_refused(client, auth, app, path, data, token):
    auth.login()
    before = snapshot(app)
    if token is not None:
        data = {**data, "csrf_token": token}
    response = client.post(path, data=data)
    assert response.status_code == 400
    assert b"nothing was changed" in response.data
    assert b"Traceback" not in response.data
    assert snapshot(app) == before
    assert b"Log out" in client.get("/").data  # still logged in


def test_token_of_another_session_is_refused(app, client, auth):
    other = app.test_client()
    stolen = csrf_token_from(other, "/auth/login")
    response = client.post(
        "/auth/login",
        data={"username": "test", "password": "test", "csrf_token": stolen},
    )
    assert response.status_code == 400


def test_every_form_carries_a_token(client, auth):
    auth.login()
    for path in [
        "/auth/register",
        "/auth/login",
        "/auth/logout",
        "/create",
        "/1/update",
        "/1/delete",
    ]:
        page = client.get(path).get_data(as_text=True)
        posting = page.count('method="post"')
        assert posting >= 1, path
        assert posting == len(re.findall(r'name="[^"]*csrf_token"', page)), path
