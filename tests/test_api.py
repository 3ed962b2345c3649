"""The JSON API at /api: RealWorld's operations over Flaskr's services, tokens
and their revocation, CORS, errors, paging and counts."""

import datetime as dt
import json
import re

import pytest
import sqlalchemy as sa

from flaskr.db import db
from flaskr.db import utcnow
from flaskr.models import ApiToken
from flaskr.models import Post
from flaskr.models import User
from flaskr.services.accounts import recovery
from flaskr.services.accounts.directory import find_user
from flaskr.services.accounts.sessions import purge_expired_sessions
from flaskr.services.content.writing import create_post
from tests.conftest import assert_reads_index_in_order
from tests.conftest import AuthActions
from tests.conftest import csrf_token_from
from tests.conftest import make_post
from tests.conftest import recorded_statements
from tests.helpers import database_rows

PASSWORD = "correct horse battery"


def register(client, username="ada", email=None, password=PASSWORD):
    email = email or f"{username}@example.org"
    user = {"username": username, "email": email, "password": password}
    return client.post("/api/users", json={"user": user})


def token_of(client, username="ada", **kwargs):
    response = register(client, username, **kwargs)
    assert response.status_code == 201, response.json
    return response.json["user"]["token"]


def auth(token, scheme="Token"):
    return {"Authorization": f"{scheme} {token}"}


def write(client, token, **fields):
    article = {"title": "A title", "description": "", "body": "Text", **fields}
    return client.post("/api/articles", headers=auth(token), json={"article": article})


def test_register_log_in_and_read_the_current_user(client):
    response = register(client)
    assert response.status_code == 201
    user = response.json["user"]
    assert set(user) == {"email", "token", "username", "bio", "image"}
    assert user["username"] == "ada"
    assert user["email"] == "ada@example.org"  # waiting for its link, shown
    assert user["image"].endswith("/static/avatar.svg")
    login = client.post(
        "/api/users/login",
        json={"user": {"email": "ada@example.org", "password": PASSWORD}},
    )
    assert login.status_code == 200
    token = login.json["user"]["token"]
    assert token != user["token"]  # each login its own token
    for scheme in ("Token", "Bearer", "token"):
        current = client.get("/api/user", headers=auth(token, scheme))
        assert current.status_code == 200
        assert current.json["user"]["token"] == token


def test_registration_keeps_the_sites_rules(client):
    # RealWorld's GenericErrorModel: every message under "body", led by its
    # field when the message does not start with it.
    assert register(client, "test").json == {
        "errors": {"body": ["username: User test is already registered."]}
    }
    weak = register(client, "bob", password="password")
    assert weak.status_code == 422
    [message] = weak.json["errors"]["body"]
    assert message.startswith("password: This password is one of the most commonly")
    bad = register(client, "b o b", email="not an address", password="x")
    assert bad.status_code == 422
    assert bad.json["errors"].keys() == {"body"}
    fields = [message.split()[0].rstrip(":") for message in bad.json["errors"]["body"]]
    assert fields == ["Username", "Password", "email"]
    missing = client.post("/api/users", json={"user": {"username": "bob"}})
    assert missing.json == {
        "errors": {"body": ["Password is required.", "Email is required."]}
    }
    assert client.post("/api/users", data="not json").status_code == 422
    assert client.post("/api/users", json=["user"]).json == {
        "errors": {"body": ['Send a JSON object with an object "user" in it.']}
    }
    with client.application.app_context():
        assert find_user("bob") is None


def test_wrong_login_is_401_and_locks_out_like_the_html_login(app_with):
    app = app_with(RATELIMIT_ENABLED=True, LOGIN_ADDRESS_LIMITS="1000 per minute")
    client = app.test_client()
    token_of(client)
    wrong = {"user": {"email": "ada@example.org", "password": "wrong password!"}}
    response = client.post("/api/users/login", json=wrong)
    assert response.status_code == 401
    assert response.json == {"errors": {"body": ["Incorrect email or password."]}}
    for _ in range(4):
        client.post("/api/users/login", json=wrong)
    right = {"user": {"email": "ada@example.org", "password": PASSWORD}}
    locked = client.post("/api/users/login", json=right)
    assert locked.status_code == 429
    assert int(locked.headers["Retry-After"]) > 0
    assert "Too many failed attempts" in locked.json["errors"]["body"][0]
    # The HTML login by username meets the same lockout.
    page = AuthActions(app.test_client()).login("ada", PASSWORD)
    assert page.status_code == 429


def test_a_confirmed_address_beats_a_claim_on_it(client, app):
    token_of(client, "ada", email="shared@example.org")
    token_of(client, "bob", email="shared@example.org")
    with app.app_context():
        ada = find_user("ada")
        ada.email, ada.email_key = "shared@example.org", "shared@example.org"
        db.session.commit()
    login = client.post(
        "/api/users/login",
        json={"user": {"email": "shared@example.org", "password": PASSWORD}},
    )
    assert login.json["user"]["username"] == "ada"


def test_tokens_are_stored_hashed_and_expire(app_with):
    app = app_with(API_TOKEN_LIFETIME=dt.timedelta(days=1))
    client = app.test_client()
    token = token_of(client)
    with app.app_context():
        [record] = db.session.scalars(sa.select(ApiToken))
        assert token not in record.id
        record.expires = utcnow() - dt.timedelta(seconds=1)
        db.session.commit()
    expired = client.get("/api/user", headers=auth(token))
    assert expired.status_code == 401
    assert expired.headers["WWW-Authenticate"].startswith("Token")
    assert client.get("/api/user", headers=auth("made-up")).status_code == 401
    assert (
        client.get("/api/user", headers={"Authorization": "Basic x"}).status_code == 401
    )
    # A bad token is refused even where a visitor may read.
    assert client.get("/api/articles", headers=auth("made-up")).status_code == 401


def html_login(app, username="ada"):
    browser = app.test_client()
    AuthActions(browser).login(username, PASSWORD)
    return browser


def test_the_account_page_lists_and_revokes_tokens(client, app):
    token = token_of(client)
    browser = html_login(app)
    page = browser.get("/auth/account").get_data(as_text=True)
    assert "API token" in page
    with app.app_context():
        [record] = db.session.scalars(sa.select(ApiToken))
        record_id = record.id
    browser.post(
        "/auth/account/sessions/end",
        data={
            "end-session": record_id,
            "end-csrf_token": csrf_token_from(browser, "/auth/account"),
        },
    )
    assert client.get("/api/user", headers=auth(token)).status_code == 401


def test_logging_out_everywhere_ends_tokens(client, app):
    token = token_of(client)
    browser = html_login(app)
    browser.post(
        "/auth/account/sessions/end-others",
        data={"sessions-csrf_token": csrf_token_from(browser, "/auth/account")},
    )
    assert client.get("/api/user", headers=auth(token)).status_code == 401


def test_a_new_password_ends_other_tokens_but_not_the_one_asking(client):
    first, second = token_of(client), None
    login = {"user": {"email": "ada@example.org", "password": PASSWORD}}
    second = client.post("/api/users/login", json=login).json["user"]["token"]
    change = {"user": {"password": "a whole new passphrase"}}
    refused = client.put("/api/user", headers=auth(second), json=change)
    assert refused.status_code == 422
    assert refused.json["errors"]["body"] == [
        "currentPassword: Enter your current password to change your username"
        " or password."
    ]
    change["user"]["currentPassword"] = "not it at all"
    assert client.put("/api/user", headers=auth(second), json=change).status_code == 422
    change["user"]["currentPassword"] = PASSWORD
    assert client.put("/api/user", headers=auth(second), json=change).status_code == 200
    assert client.get("/api/user", headers=auth(first)).status_code == 401
    assert client.get("/api/user", headers=auth(second)).status_code == 200


def test_a_password_reset_ends_every_token(client, app):
    token = token_of(client)
    links = []
    with app.app_context():
        ada = find_user("ada")
        ada.email, ada.email_key = "ada@example.org", "ada@example.org"
        db.session.commit()
        recovery.request_password_reset("ada", links.append)
        recovery.reset_password(links[0], "a whole new passphrase")
    assert client.get("/api/user", headers=auth(token)).status_code == 401


def test_the_api_ignores_the_session_cookie(client, app):
    token_of(client)
    browser = html_login(app)
    assert browser.get("/auth/account").status_code == 200  # logged in there
    assert browser.get("/api/user").status_code == 401
    article = {"article": {"title": "T", "description": "", "body": "B"}}
    assert browser.post("/api/articles", json=article).status_code == 401
    # ... and needs no CSRF token when a token is sent.
    assert write(browser, token_of(client, "bob")).status_code == 201


def test_update_user_checks_everything_before_changing_anything(client, app):
    token = token_of(client)
    token_of(client, "bob")
    response = client.put(
        "/api/user",
        headers=auth(token),
        json={
            "user": {
                "username": "bob",
                "bio": "x" * 5000,
                "currentPassword": PASSWORD,
            }
        },
    )
    assert response.status_code == 422
    assert response.json == {
        "errors": {"body": ["bio: A bio must be at most 500 characters long."]}
    }
    with app.app_context():
        assert find_user("ada").bio == ""
    renamed = client.put(
        "/api/user",
        headers=auth(token),
        json={"user": {"username": "ada2", "currentPassword": PASSWORD, "bio": "Hi"}},
    )
    assert renamed.json["user"]["username"] == "ada2"
    assert renamed.json["user"]["bio"] == "Hi"
    foreign = client.put(
        "/api/user",
        headers=auth(token),
        json={"user": {"image": "https://example.org/me.png"}},
    )
    [message] = foreign.json["errors"]["body"]
    assert message.startswith("image: Flaskr does not fetch pictures")
    same = client.put(
        "/api/user",
        headers=auth(token),
        json={
            "user": {"image": renamed.json["user"]["image"], "email": "ada@example.org"}
        },
    )
    assert same.status_code == 200


def test_a_refused_account_update_leaves_the_database_as_it_was(client, app):
    # Issue 33: a new name with an address another account has was refused
    # with a 422 after the rename had been committed.
    token = token_of(client)
    token_of(client, "bob")
    with app.app_context():
        bob = find_user("bob")
        bob.email, bob.email_key = "bob@example.org", "bob@example.org"
        db.session.commit()
        before = database_rows()
    change = {
        "username": "ada2",
        "email": "BOB@example.org",
        "password": "a whole new passphrase",
        "currentPassword": PASSWORD,
        "bio": "Hi",
        "image": "",
    }
    response = client.put("/api/user", headers=auth(token), json={"user": change})
    assert response.status_code == 422
    assert response.json == {
        "errors": {"body": ["email: Another account uses that address."]}
    }
    with app.app_context():
        assert database_rows() == before
    assert (
        client.get("/api/user", headers=auth(token)).json["user"]["username"] == "ada"
    )


def test_articles_create_read_update_delete(client, app):
    token = token_of(client)
    created = write(
        client,
        token,
        title="How to train your dragon",
        description="Ever wonder how?",
        body="Very *carefully*.",
        tagList=["training", "Dragons"],
    )
    assert created.status_code == 201
    article = created.json["article"]
    assert article["slug"] == "how-to-train-your-dragon"
    assert article["tagList"] == ["dragons", "training"]
    assert article["bodyHtml"] == "<p>Very <em>carefully</em>.</p>\n"
    assert article["createdAt"].endswith("Z") and "." in article["createdAt"]
    slug = article["slug"]
    other = token_of(client, "bob")
    forbidden = client.put(
        f"/api/articles/{slug}", headers=auth(other), json={"article": {"body": "x"}}
    )
    assert forbidden.status_code == 403
    updated = client.put(
        f"/api/articles/{slug}",
        headers=auth(token),
        json={"article": {"body": "With two hands", "title": "New title"}},
    )
    assert updated.json["article"]["body"] == "With two hands"
    assert updated.json["article"]["slug"] == slug  # addresses keep working
    assert (
        client.delete(f"/api/articles/{slug}", headers=auth(other)).status_code == 403
    )
    assert (
        client.delete(f"/api/articles/{slug}", headers=auth(token)).status_code == 204
    )
    assert client.get(f"/api/articles/{slug}").status_code == 404
    with app.app_context():
        assert db.session.scalar(sa.select(Post.deleted).where(Post.slug == slug))


def test_article_rules_are_the_post_forms(client):
    token = token_of(client)
    assert write(client, token, title="").json == {
        "errors": {"body": ["Title is required."]}
    }
    no_body = client.post(
        "/api/articles", headers=auth(token), json={"article": {"title": "T"}}
    )
    assert no_body.status_code == 422
    too_many = write(client, token, tagList=[f"t{n}" for n in range(50)])
    [message] = too_many.json["errors"]["body"]
    assert message.startswith("tagList: ") and "at most" in message
    assert write(client, token, tagList="a, b").status_code == 422
    assert write(client, token, slug="Not A Slug").status_code == 422
    assert write(client, token, slug="feed").status_code == 422
    assert write(client, token, published="yes").status_code == 422
    assert write(client, token, slug="mine").status_code == 201
    taken = write(client, token, slug="mine")
    [message] = taken.json["errors"]["body"]
    assert message.startswith("slug: Another post has the address mine.")


def test_drafts_are_their_authors_only(client):
    token = token_of(client)
    draft = write(client, token, title="Secret", published=False).json["article"]
    assert draft["published"] is False and draft["publishedAt"] is None
    slug = draft["slug"]
    assert client.get(f"/api/articles/{slug}").status_code == 404
    assert client.get(f"/api/articles/{slug}", headers=auth(token)).status_code == 200
    listed = client.get("/api/articles").json
    assert slug not in [a["slug"] for a in listed["articles"]]
    mine = client.get("/api/user/drafts", headers=auth(token)).json
    assert [a["slug"] for a in mine["articles"]] == [slug]
    other = token_of(client, "bob")
    assert (
        client.post(f"/api/articles/{slug}/favorite", headers=auth(other)).status_code
        == 404
    )
    published = client.put(
        f"/api/articles/{slug}",
        headers=auth(token),
        json={"article": {"published": True}},
    )
    assert published.json["article"]["published"] is True
    assert client.get(f"/api/articles/{slug}").status_code == 200


def test_lists_filter_page_and_count(client, app):
    token = token_of(client)
    bob = token_of(client, "bob")
    for number in range(5):
        write(client, token, title=f"Ada {number}", tagList=["python"])
    for number in range(3):
        write(client, bob, title=f"Bob {number}")
    everything = client.get("/api/articles").json
    assert everything["articlesCount"] == 9  # with the tutorial's test post
    assert "body" not in everything["articles"][0]
    by_ada = client.get("/api/articles?author=ada").json
    assert by_ada["articlesCount"] == 5
    assert {a["author"]["username"] for a in by_ada["articles"]} == {"ada"}
    tagged = client.get("/api/articles?tag=python&author=ada").json
    assert tagged["articlesCount"] == 5
    assert client.get("/api/articles?tag=nothing").json == {
        "articles": [],
        "articlesCount": 0,
        "next": None,
    }
    assert client.get("/api/articles?author=nobody").json["articlesCount"] == 0
    # Pages by offset and by the next link meet without gaps or overlaps.
    first = client.get("/api/articles?limit=4").json
    second = client.get("/api/articles?limit=4&offset=4").json
    following = client.get(first["next"]).json
    assert [a["slug"] for a in second["articles"]] == [
        a["slug"] for a in following["articles"]
    ]
    seen = [a["slug"] for a in first["articles"] + second["articles"]]
    assert len(set(seen)) == 8
    assert client.get("/api/articles?limit=101").status_code == 422
    assert client.get("/api/articles?limit=0").status_code == 422
    assert client.get("/api/articles?offset=10001").status_code == 422
    assert client.get("/api/articles?offset=-1").status_code == 422
    assert client.get("/api/articles?before=nonsense").status_code == 422
    found = client.get("/api/articles?q=Bob").json
    assert {a["title"] for a in found["articles"]} == {"Bob 0", "Bob 1", "Bob 2"}
    assert client.get("/api/articles?q=Bob&tag=python").status_code == 422


def test_favorites_are_likes(client):
    token = token_of(client)
    slug = write(client, token).json["article"]["slug"]
    for _ in range(2):  # twice: still one like
        liked = client.post(f"/api/articles/{slug}/favorite", headers=auth(token))
        assert liked.json["article"]["favorited"] is True
        assert liked.json["article"]["favoritesCount"] == 1
    listed = client.get("/api/articles?favorited=ada", headers=auth(token)).json
    assert [a["slug"] for a in listed["articles"]] == [slug]
    assert listed["articlesCount"] == 1
    assert listed["articles"][0]["favorited"] is True
    unliked = client.delete(f"/api/articles/{slug}/favorite", headers=auth(token))
    assert unliked.json["article"]["favorited"] is False
    assert unliked.json["article"]["favoritesCount"] == 0
    assert (
        client.post("/api/articles/nothing/favorite", headers=auth(token)).status_code
        == 404
    )


def test_comments(client):
    token, bob = token_of(client), token_of(client, "bob")
    slug = write(client, token).json["article"]["slug"]
    added = client.post(
        f"/api/articles/{slug}/comments",
        headers=auth(bob),
        json={"comment": {"body": "Thank *you*"}},
    )
    assert added.status_code == 200
    comment = added.json["comment"]
    assert comment["author"]["username"] == "bob"
    assert comment["bodyHtml"] == "<p>Thank <em>you</em></p>\n"
    listed = client.get(f"/api/articles/{slug}/comments").json["comments"]
    assert [c["id"] for c in listed] == [comment["id"]]
    empty = client.post(
        f"/api/articles/{slug}/comments",
        headers=auth(bob),
        json={"comment": {"body": "  "}},
    )
    assert empty.json == {"errors": {"body": ["Comment is required."]}}
    carol = token_of(client, "carol")
    path = f"/api/articles/{slug}/comments/{comment['id']}"
    assert client.delete(path, headers=auth(carol)).status_code == 403
    assert (
        client.delete(
            f"/api/articles/{slug}/comments/999", headers=auth(token)
        ).status_code
        == 404
    )
    # The article's author may delete comments on it.
    assert client.delete(path, headers=auth(token)).status_code == 204
    assert client.get(f"/api/articles/{slug}/comments").json == {"comments": []}


def test_follows_and_the_feed(client):
    ada, bob = token_of(client), token_of(client, "bob")
    write(client, bob, title="By Bob")
    write(client, ada, title="By Ada")
    assert (
        client.get("/api/articles/feed", headers=auth(ada)).json["articlesCount"] == 0
    )
    assert client.get("/api/articles/feed").status_code == 401
    for _ in range(2):
        followed = client.post("/api/profiles/bob/follow", headers=auth(ada))
        assert followed.json["profile"]["following"] is True
        assert followed.json["profile"]["followersCount"] == 1
    feed = client.get("/api/articles/feed", headers=auth(ada)).json
    assert [a["title"] for a in feed["articles"]] == ["By Bob"]
    assert feed["articlesCount"] == 1
    assert feed["articles"][0]["author"]["following"] is True
    profile = client.get("/api/profiles/bob", headers=auth(ada)).json["profile"]
    assert profile["following"] is True
    assert client.get("/api/profiles/bob").json["profile"]["following"] is False
    myself = client.post("/api/profiles/ada/follow", headers=auth(ada))
    assert myself.status_code == 422
    assert myself.json == {"errors": {"body": ["You cannot follow yourself."]}}
    unfollowed = client.delete("/api/profiles/bob/follow", headers=auth(ada))
    assert unfollowed.json["profile"]["following"] is False
    assert client.get("/api/profiles/nobody").status_code == 404


def test_tags_are_those_of_public_posts(client, app):
    token = token_of(client)
    write(client, token, tagList=["python", "flask"])
    write(client, token, title="Two", tagList=["python"])
    write(client, token, title="Draft", tagList=["secret"], published=False)
    assert client.get("/api/tags").json == {"tags": ["python", "flask"]}


def test_errors_are_json(app_with):
    app = app_with(MAX_CONTENT_LENGTH=1000)
    client = app.test_client()
    assert client.get("/api/nowhere").json["errors"]["body"]
    not_allowed = client.patch("/api/articles")
    assert not_allowed.status_code == 405
    assert not_allowed.is_json and "Allow" in not_allowed.headers
    large = client.post("/api/users", json={"user": {"username": "x" * 2000}})
    assert large.status_code == 413 and large.is_json
    # The site's own pages keep their HTML errors.
    assert not client.get("/nowhere").is_json


def test_cors_only_for_configured_origins(app_with, make_app):
    closed = app_with().test_client()
    response = closed.get("/api/tags", headers={"Origin": "https://app.example"})
    assert "Access-Control-Allow-Origin" not in response.headers
    assert "Origin" in response.headers["Vary"]
    app = make_app(API_CORS_ORIGINS="https://app.example, https://other.example")
    client = app.test_client()
    allowed = client.get("/api/tags", headers={"Origin": "https://app.example"})
    assert allowed.headers["Access-Control-Allow-Origin"] == "https://app.example"
    assert "Access-Control-Allow-Credentials" not in allowed.headers
    preflight = client.options(
        "/api/articles",
        headers={
            "Origin": "https://other.example",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization, content-type",
        },
    )
    assert preflight.status_code == 200
    assert preflight.headers["Access-Control-Allow-Origin"] == "https://other.example"
    assert "POST" in preflight.headers["Access-Control-Allow-Methods"]
    assert "Authorization" in preflight.headers["Access-Control-Allow-Headers"]
    stranger = client.get("/api/tags", headers={"Origin": "https://evil.example"})
    assert "Access-Control-Allow-Origin" not in stranger.headers
    # A cross-site request reaches the API (it acts for no cookie)...
    token = token_of(client)
    cross = {"Sec-Fetch-Site": "cross-site", **auth(token)}
    article = {"article": {"title": "T", "description": "", "body": "B"}}
    assert client.post("/api/articles", headers=cross, json=article).status_code == 201
    # ... but the site's own forms still refuse one.
    assert client.post("/auth/login", headers=cross).status_code == 403


HOSTILE = [
    "\x00",
    "a\x00b",
    "../../etc/passwd",
    "%00",
    "😀" * 300,
    "x" * 5000,
    "<script>",
    "' OR 1=1 --",
    "-1",
    "99999999999999999999999",
]


def test_hostile_input_never_gets_a_server_error(client):
    token = token_of(client)
    slug = write(client, token).json["article"]["slug"]
    headers = auth(token)
    for text in HOSTILE:
        for path in (
            f"/api/articles?tag={text}",
            f"/api/articles?author={text}&favorited={text}",
            f"/api/articles?limit={text}&offset={text}&before={text}",
            f"/api/articles?q={text}",
            f"/api/profiles/{text}",
            f"/api/articles/{text}",
            f"/api/articles/{text}/comments",
            f"/api/articles/{slug}/comments?after={text}&limit={text}",
        ):
            assert client.get(path, headers=headers).status_code < 500, path
        for body in (
            {"user": {"email": text, "password": text, "username": text}},
            {"user": {"email": [text], "password": {"a": text}, "username": 1}},
        ):
            assert client.post("/api/users", json=body).status_code == 422
            assert client.post("/api/users/login", json=body).status_code < 500
            assert client.put("/api/user", headers=headers, json=body).status_code < 500
        for fields in (
            {"title": text, "description": text, "body": text, "tagList": [text]},
            {"title": [text], "description": 1, "body": None, "tagList": {"a": 1}},
        ):
            for method, path in (
                ("post", "/api/articles"),
                ("put", f"/api/articles/{slug}"),
            ):
                response = getattr(client, method)(
                    path, headers=headers, json={"article": fields}
                )
                assert response.status_code < 500, (method, fields)
        response = client.post(
            f"/api/articles/{slug}/comments",
            headers=headers,
            json={"comment": {"body": text}},
        )
        assert response.status_code < 500
        assert client.get("/api/user", headers=auth(text)).status_code == 401


def test_the_openapi_document_describes_every_api_route(app, client):
    document = client.get("/api/openapi.json").json
    assert document["openapi"] == "3.1.0"
    described = {
        (path, method.upper())
        for path, operations in document["paths"].items()
        for method in operations
    }
    served = set()
    for rule in app.url_map.iter_rules():
        if rule.endpoint.startswith("api.") and rule.endpoint != "api.openapi_document":
            path = rule.rule.removeprefix("/api")
            path = path.replace("<slug>", "{slug}").replace("<username>", "{username}")
            path = path.replace("<id:comment_id>", "{id}")
            served |= {(path, m) for m in rule.methods - {"HEAD", "OPTIONS"}}
    assert served == described
    # RealWorld's 19 operations are among them.
    assert len(described) == 20
    json.dumps(document)  # plain JSON throughout


def test_a_list_costs_the_same_statements_for_more_articles(app, client):
    token = token_of(client)
    with app.app_context():
        ada = find_user("ada")
        for number in range(3):
            create_post(ada, f"T{number}", "x", tags=["a", "b"], publish=True)
    with recorded_statements(app) as few:
        client.get("/api/articles", headers=auth(token))
    with app.app_context():
        ada = find_user("ada")
        for number in range(12):
            create_post(ada, f"U{number}", "x", tags=["a", "c"], publish=True)
    with recorded_statements(app) as many:
        client.get("/api/articles", headers=auth(token))
    assert len(many) == len(few)


def test_counts_subtract_scheduled_posts(app, client):
    with app.app_context():
        test = db.session.get(User, 1)
        later = utcnow() + dt.timedelta(days=1)
        db.session.add(make_post(test.id, "Later", published=later))
        db.session.commit()
    assert client.get("/api/articles").json["articlesCount"] == 1
    assert client.get("/api/articles?author=test").json["articlesCount"] == 1


@pytest.mark.parametrize(
    ("path", "index"),
    [
        ("/api/articles", "ix_post_published_id"),
        ("/api/articles?offset=5", "ix_post_published_id"),
        ("/api/articles?author=ada", "ix_post_author_id_published"),
        ("/api/articles?tag=python", "ix_post_tag_tag_id_published"),
        ("/api/articles/feed", "ix_post_published_id"),
    ],
)
def test_lists_read_an_index_in_order(app_with, path, index):
    """No list sorts the posts: each walks an index newest first and stops."""
    app = app_with(PAGE_CACHE_BYTES=0)
    client = app.test_client()
    token = token_of(client)
    bob = token_of(client, "bob")
    client.post("/api/profiles/bob/follow", headers=auth(token))
    for number in range(12):
        write(
            client, token if number % 2 else bob, title=f"T{number}", tagList=["python"]
        )
    with recorded_statements(app) as statements:
        assert client.get(path, headers=auth(token)).status_code == 200
    reads_posts = re.compile(r"FROM post\b(?!_)|JOIN post\b(?!_)")
    [(statement, parameters)] = [
        (sql, values)
        for sql, values in statements
        if reads_posts.search(sql) and "ORDER BY" in sql and "count(" not in sql
    ]
    assert_reads_index_in_order(app, statement, parameters, index)


def test_a_server_error_is_json(app, client, monkeypatch):
    from flaskr.blueprints.api import articles

    token = token_of(client)

    def broken(*args, **kwargs):
        raise RuntimeError("a bug")

    monkeypatch.setattr(articles, "set_like", broken)
    app.config["PROPAGATE_EXCEPTIONS"] = False
    slug = write(client, token).json["article"]["slug"]
    response = client.post(f"/api/articles/{slug}/favorite", headers=auth(token))
    assert response.status_code == 500
    [message] = response.json["errors"]["body"]
    assert message.startswith("Something went wrong on our side.")


def test_renames_count_toward_the_rename_limit(app_with):
    app = app_with(RATELIMIT_ENABLED=True, RENAME_LIMITS="1 per day")
    client = app.test_client()
    headers = auth(token_of(client))

    def change(**fields):
        body = {"user": {"currentPassword": PASSWORD, **fields}}
        return client.put("/api/user", headers=headers, json=body)

    assert change(username="ada2").status_code == 200
    refused = change(username="ada3")
    assert refused.status_code == 429 and refused.is_json
    assert change(bio="Still allowed").status_code == 200
    assert change(username="ada2", bio="Same name").status_code == 200
    # The account page's renames share the count.
    browser = html_login(app, "ada2")
    page = browser.post(
        "/auth/account/username",
        data={
            "rename-username": "ada4",
            "rename-password": PASSWORD,
            "rename-csrf_token": csrf_token_from(browser, "/auth/account"),
        },
    )
    assert page.status_code == 429


def test_kept_answers_never_carry_another_origins_cors(make_app, password_hashes):
    from tests.conftest import add_test_data

    app = make_app(API_CORS_ORIGINS=["https://app.example"])
    with app.app_context():
        add_test_data(password_hashes)
    client = app.test_client()
    for _ in range(3):  # asked again and again: kept by the page cache
        plain = client.get("/api/tags")
        assert "Access-Control-Allow-Origin" not in plain.headers
    allowed = client.get("/api/tags", headers={"Origin": "https://app.example"})
    assert allowed.headers["Access-Control-Allow-Origin"] == "https://app.example"
    other = client.get("/api/tags", headers={"Origin": "https://evil.example"})
    assert "Access-Control-Allow-Origin" not in other.headers


def test_a_tokens_last_use_is_written_now_and_then(client, app):
    token = token_of(client)
    with app.app_context():
        [record] = db.session.scalars(sa.select(ApiToken))
        record.last_used = utcnow() - dt.timedelta(minutes=10)
        db.session.commit()
    assert client.get("/api/user", headers=auth(token)).status_code == 200
    with app.app_context():
        [record] = db.session.scalars(sa.select(ApiToken))
        assert utcnow() - record.last_used < dt.timedelta(minutes=1)
        seen = record.last_used
    client.get("/api/user", headers=auth(token))
    with app.app_context():
        assert db.session.scalars(sa.select(ApiToken)).one().last_used == seen


def make_token(browser, name):
    return browser.post(
        "/auth/account/tokens",
        data={
            "token-name": name,
            "token-csrf_token": csrf_token_from(browser, "/auth/account"),
        },
    )


def shown_token(response):
    field = re.search(r'id="new-token-value"[^>]*>([^<]+)</textarea>', response.text)
    return field and field[1]


def test_a_named_token_is_made_on_the_account_page_and_shown_once(client, app, caplog):
    caplog.set_level("INFO", logger="flaskr.security")
    browser = html_login_as_test(app)
    response = make_token(browser, "  Backup   script ")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    assert response.mimetype == "text/html"
    token = shown_token(response)
    assert token and "Your new token “<bdi>Backup script</bdi>”" in response.text
    assert 'data-copy="new-token-value"' in response.text
    user = client.get("/api/user", headers=auth(token))
    assert user.status_code == 200 and user.json["user"]["username"] == "test"
    page = browser.get("/auth/account").text
    assert token not in page, "shown once, then only its name"
    assert '<p class="entry-name" dir="auto">Backup script</p>' in page
    with app.app_context():
        [record] = db.session.scalars(sa.select(ApiToken))
        assert record.name == "Backup script" and token not in record.id
    assert '"event": "api_token_created"' in caplog.text
    assert token not in caplog.text


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("", "Name the token"),
        ("   ", "Name the token"),
        ("x" * 61, "at most 60 characters"),
        ("bell\x07", "control characters"),
    ],
)
def test_a_token_name_is_checked(app, name, message):
    browser = html_login_as_test(app)
    response = make_token(browser, name)
    assert response.status_code == 422
    assert message in response.text
    assert shown_token(response) is None
    assert token_count(app) == 0


def test_a_token_name_is_used_once_and_tokens_are_bounded(app, monkeypatch):
    browser = html_login_as_test(app)
    assert make_token(browser, "Phone").status_code == 200
    response = make_token(browser, "Phone")
    assert response.status_code == 422
    assert "You have a token named “Phone” already" in response.text
    monkeypatch.setattr("flaskr.services.accounts.sessions.MAX_NAMED_TOKENS", 2)
    assert make_token(browser, "Laptop").status_code == 200
    response = make_token(browser, "Third")
    assert response.status_code == 422
    assert "the most an account may have" in response.text
    assert token_count(app) == 2


def test_making_a_token_needs_the_csrf_token(app):
    browser = html_login_as_test(app)
    response = browser.post("/auth/account/tokens", data={"token-name": "x"})
    assert response.status_code == 400
    assert token_count(app) == 0


def test_a_token_is_revoked_from_the_account_page(client, app, caplog):
    caplog.set_level("INFO", logger="flaskr.security")
    browser = html_login_as_test(app)
    token = shown_token(make_token(browser, "Backup script"))
    theirs = token_of(client)  # ada's, by an API login
    with app.app_context():
        ids = dict(db.session.execute(sa.select(ApiToken.name, ApiToken.id)).all())

    def revoke(token_id):
        return browser.post(
            "/auth/account/tokens/revoke",
            data={
                "revoke-token": token_id,
                "revoke-csrf_token": csrf_token_from(browser, "/auth/account"),
            },
        )

    # Someone else's token, or a made-up id, is not touched.
    for token_id in (ids[""], "a" * 64, "x", "\x00" * 64):
        response = revoke(token_id)
        assert response.status_code == 302
        assert "That token had already ended" in browser.get("/auth/account").text
    assert client.get("/api/user", headers=auth(theirs)).status_code == 200
    assert client.get("/api/user", headers=auth(token)).status_code == 200

    assert revoke(ids["Backup script"]).headers["Location"] == "/auth/account"
    assert "The token is revoked" in browser.get("/auth/account").text
    assert client.get("/api/user", headers=auth(token)).status_code == 401
    assert '"event": "api_token_revoked"' in caplog.text
    assert browser.post("/auth/account/tokens/revoke").status_code == 400


def test_a_named_token_has_no_idle_timeout_but_a_lifetime(app_with):
    app = app_with(API_NAMED_TOKEN_LIFETIME=dt.timedelta(days=90))
    client = app.test_client()
    login_token = token_of(client)
    named = shown_token(make_token(html_login_as_test(app), "Monthly script"))
    with app.app_context():
        idle = utcnow() - dt.timedelta(days=20)  # past SESSION_IDLE_TIMEOUT
        db.session.execute(sa.update(ApiToken).values(last_used=idle))
        db.session.commit()
        assert purge_expired_sessions() == 1
    assert client.get("/api/user", headers=auth(login_token)).status_code == 401
    assert client.get("/api/user", headers=auth(named)).status_code == 200
    with app.app_context():
        [record] = db.session.scalars(sa.select(ApiToken))
        assert record.expires - record.created == dt.timedelta(days=90)
        record.expires = utcnow() - dt.timedelta(seconds=1)
        db.session.commit()
    assert client.get("/api/user", headers=auth(named)).status_code == 401


def test_the_list_says_when_a_token_was_last_used(app):
    browser = html_login_as_test(app)
    token = shown_token(make_token(browser, "Phone"))
    assert "Last used never" in browser.get("/auth/account").text
    app.test_client().get("/api/user", headers=auth(token))
    assert "Last used never" not in browser.get("/auth/account").text


def html_login_as_test(app):
    browser = app.test_client()
    AuthActions(browser).login("test", "test")
    return browser


def token_count(app):
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count()).select_from(ApiToken))
