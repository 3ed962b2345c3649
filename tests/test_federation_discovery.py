"""Discovery: WebFinger, NodeInfo, host-meta, the actors' and posts' JSON,
and the author and post pages answering it by ``Accept``
(``services/federation/discovery.py``, ``blueprints/federation/discovery.py``)."""

import datetime as dt
import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path
from urllib.parse import quote

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from flaskr.db import db
from flaskr.db import utcnow
from flaskr.models import ActorKey
from flaskr.models import Avatar
from flaskr.models import Image
from flaskr.models import Post
from flaskr.models import PostTag
from flaskr.models import RemoteActor
from flaskr.models import RemoteFollower
from flaskr.models import Tag
from flaskr.models import User
from flaskr.models.federation import ACCEPTED
from flaskr.models.federation import PENDING
from flaskr.plumbing.page_cache import PageCache
from flaskr.services.base.site import settings
from tests.conftest import add_test_data
from tests.conftest import FEDERATION_TEST_CONFIG
from tests.conftest import make_post
from tests.helpers import HOSTILE

ACTIVITY = "application/activity+json"
LD = 'application/ld+json; profile="https://www.w3.org/ns/activitystreams"'
#: What Mastodon sends when it fetches an object.
MASTODON_ACCEPT = f"{ACTIVITY}, {LD}"
BROWSER_ACCEPT = (
    "text/html,application/xhtml+xml,application/xml;q=0.9,"
    "image/avif,image/webp,*/*;q=0.8"
)
BASE = "http://localhost"


@pytest.fixture
def make_fed_app(make_app, password_hashes):
    def make(**overrides):
        app = make_app(**{**FEDERATION_TEST_CONFIG, **overrides})
        with app.app_context():
            add_test_data(password_hashes)
        return app

    return make


@pytest.fixture
def fed_app(make_fed_app):
    return make_fed_app()


@pytest.fixture
def fed_client(fed_app):
    return fed_app.test_client()


def change_user(app, username, **fields):
    with app.app_context():
        user = db.session.scalars(db.select(User).filter_by(username=username)).one()
        for name, value in fields.items():
            setattr(user, name, value)
        db.session.commit()
        return user.id


def get_json(client, path, accept=ACTIVITY, status=200):
    response = client.get(path, headers={"Accept": accept})
    assert response.status_code == status, response.data[:300]
    return response, response.get_json(force=True) if status == 200 else None


# WebFinger


def test_webfinger_finds_a_writer_with_the_port_kept(make_fed_app):
    app = make_fed_app(SITE_URL="http://localhost:8080/")
    client = app.test_client()
    response = client.get("/.well-known/webfinger?resource=acct:test@localhost:8080")
    assert response.status_code == 200
    assert response.mimetype == "application/jrd+json"
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    document = json.loads(response.data)
    actor = "http://localhost:8080/ap/users/1"
    page = "http://localhost:8080/u/test"
    assert document["subject"] == "acct:test@localhost:8080"
    assert document["aliases"] == [actor, page]
    assert {
        "rel": "self",
        "type": ACTIVITY,
        "href": actor,
    } in document["links"]
    assert {
        "rel": "http://webfinger.net/rel/profile-page",
        "type": "text/html",
        "href": page,
    } in document["links"]
    # Any letter case, the actor's id and the author page name the same.
    for resource in ("acct:TEST@LocalHost:8080", actor, page, "test@localhost:8080"):
        again = client.get(
            "/.well-known/webfinger", query_string={"resource": resource}
        )
        assert again.status_code == 200, resource
        assert json.loads(again.data)["subject"] == "acct:test@localhost:8080"
    # Without the port it is another host.
    assert (
        client.get("/.well-known/webfinger?resource=acct:test@localhost").status_code
        == 404
    )


@pytest.mark.parametrize(
    "resource",
    [
        "acct:nobody@localhost",
        "acct:test@example.com",
        "https://example.com/u/test",
        "http://localhost/ap/users/999",
        "http://localhost/ap/users/99999999999999999999999",
        "http://localhost/ap/users/1/outbox",
        "http://localhost/u/nobody",
    ],
)
def test_webfinger_knows_nobody_else(fed_client, resource):
    response = fed_client.get(
        "/.well-known/webfinger", query_string={"resource": resource}
    )
    assert response.status_code == 404


@pytest.mark.parametrize(
    "change", [{"state": "suspended"}, {"state": "pending"}, {"role": "reader"}]
)
def test_webfinger_finds_no_account_that_is_no_actor(fed_app, change):
    change_user(fed_app, "test", **change)
    client = fed_app.test_client()
    response = client.get("/.well-known/webfinger?resource=acct:test@localhost")
    assert response.status_code == 404
    assert client.get("/ap/users/1").status_code == 404
    # Another writer is still found.
    other = client.get("/.well-known/webfinger?resource=acct:other@localhost")
    assert other.status_code == 200


@pytest.mark.parametrize(
    "query",
    [
        "",
        "?resource=",
        "?resource=acct:",
        "?resource=nobody",
        "?resource=acct:@localhost",
        "?resource=acct:test@",
        "?resource=acct:a%00b@localhost",
        "?resource=acct:" + "a" * 600 + "@localhost",
    ],
)
def test_webfinger_refuses_a_malformed_resource(fed_client, query):
    assert fed_client.get("/.well-known/webfinger" + query).status_code == 400


# NodeInfo and host-meta


def test_nodeinfo_links_to_both_versions(fed_client):
    response = fed_client.get("/.well-known/nodeinfo")
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    links = json.loads(response.data)["links"]
    assert links == [
        {
            "rel": "http://nodeinfo.diaspora.software/ns/schema/2.0",
            "href": f"{BASE}/nodeinfo/2.0",
        },
        {
            "rel": "http://nodeinfo.diaspora.software/ns/schema/2.1",
            "href": f"{BASE}/nodeinfo/2.1",
        },
    ]
    assert fed_client.get("/nodeinfo/3.0").status_code == 404


def test_nodeinfo_counts_writers_and_public_posts(fed_app):
    now = utcnow()
    with fed_app.app_context():
        users = db.session.scalars(db.select(User).order_by(User.id)).all()
        users[0].last_seen = now - dt.timedelta(days=2)
        users[1].last_seen = now - dt.timedelta(days=100)
        reader = User("reader", users[0].password_hash)
        reader.role = "reader"
        reader.last_seen = now
        gone = User("gone", users[0].password_hash)
        gone.state = "suspended"
        db.session.add_all([reader, gone])
        db.session.add(make_post(users[0].id, "a draft", published=None))
        trashed = make_post(users[0].id, "trashed")
        trashed.deleted = now
        db.session.add(trashed)
        db.session.add(make_post(users[1].id, "soon", published=now + dt.timedelta(1)))
        db.session.add(make_post(users[1].id, "out"))
        db.session.commit()
    client = fed_app.test_client()
    response = client.get("/nodeinfo/2.1")
    assert response.status_code == 200
    assert "nodeinfo.diaspora.software/ns/schema/2.1" in response.content_type
    document = json.loads(response.data)
    assert document["version"] == "2.1"
    assert document["software"]["name"] == "flaskr"
    assert document["software"]["version"]
    assert document["protocols"] == ["activitypub"]
    assert document["usage"] == {
        "users": {"total": 2, "activeMonth": 1, "activeHalfyear": 2},
        "localPosts": 2,
    }
    assert document["openRegistrations"] is True
    assert document["metadata"] == {"nodeName": "Flaskr"}
    older = json.loads(client.get("/nodeinfo/2.0").data)
    assert older["version"] == "2.0"
    assert "repository" not in older["software"]
    assert older["usage"] == document["usage"]


def test_nodeinfo_says_when_the_site_is_closed(fed_app):
    with fed_app.app_context():
        row = settings()
        row.join_mode = "closed"
        row.title = "Notes"
        db.session.commit()
    document = json.loads(fed_app.test_client().get("/nodeinfo/2.1").data)
    assert document["openRegistrations"] is False
    assert document["metadata"]["nodeName"] == "Notes"


def test_host_meta_points_at_webfinger(fed_client):
    response = fed_client.get("/.well-known/host-meta")
    assert response.status_code == 200
    assert response.mimetype == "application/xrd+xml"
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    root = ET.fromstring(response.data)
    link = root.find("{http://docs.oasis-open.org/ns/xri/xrd-1.0}Link")
    assert link is not None
    assert link.get("rel") == "lrdd"
    assert link.get("template") == f"{BASE}/.well-known/webfinger?resource={{uri}}"


# Actors


def test_actor_document(fed_app):
    with fed_app.app_context():
        avatar = Avatar(large=b"x", small=b"y")
        db.session.add(avatar)
        db.session.flush()
        user = db.session.get(User, 1)
        user.avatar_id = avatar.id
        user.display_name = "Test Writer"
        user.bio = "Hi"
        user.bio_html = '<p>See <a href="/p/about">about</a></p>'
        user.website = "https://example.org/me"
        avatar_id = avatar.id
        db.session.commit()
    client = fed_app.test_client()
    response, actor = get_json(client, "/ap/users/1")
    assert response.mimetype == ACTIVITY
    assert actor["@context"][:2] == [
        "https://www.w3.org/ns/activitystreams",
        "https://w3id.org/security/v1",
    ]
    assert actor["id"] == f"{BASE}/ap/users/1"
    assert actor["type"] == "Person"
    assert actor["preferredUsername"] == "test"
    assert actor["name"] == "Test Writer"
    assert actor["summary"] == f'<p>See <a href="{BASE}/p/about">about</a></p>'
    assert actor["url"] == f"{BASE}/u/test"
    assert actor["inbox"] == f"{BASE}/ap/users/1/inbox"
    assert actor["outbox"] == f"{BASE}/ap/users/1/outbox"
    assert actor["followers"] == f"{BASE}/ap/users/1/followers"
    assert actor["following"] == f"{BASE}/ap/users/1/following"
    assert actor["endpoints"] == {"sharedInbox": f"{BASE}/ap/inbox"}
    assert actor["icon"] == {
        "type": "Image",
        "mediaType": "image/webp",
        "url": f"{BASE}/avatars/{avatar_id}.webp",
    }
    [website] = actor["attachment"]
    assert website["type"] == "PropertyValue"
    assert 'href="https://example.org/me"' in website["value"]
    assert "example.org/me</a>" in website["value"]
    key = actor["publicKey"]
    assert key["id"] == f"{BASE}/ap/users/1#main-key"
    assert key["owner"] == actor["id"]
    public = serialization.load_pem_public_key(key["publicKeyPem"].encode())
    assert isinstance(public, rsa.RSAPublicKey)
    # The key was kept: the next fetch shows the same one.
    with fed_app.app_context():
        assert db.session.get(ActorKey, "1").public_pem == key["publicKeyPem"]
    _, again = get_json(client, "/ap/users/1")
    assert again["publicKey"] == key


def test_an_actor_without_avatar_or_website(fed_client):
    _, actor = get_json(fed_client, "/ap/users/2")
    assert "icon" not in actor
    assert "attachment" not in actor
    assert fed_client.get("/ap/users/99").status_code == 404


def test_site_actor(fed_client):
    response, actor = get_json(fed_client, "/ap/site")
    assert actor["type"] == "Application"
    assert actor["id"] == f"{BASE}/ap/site"
    assert actor["preferredUsername"] == "localhost"
    serialization.load_pem_public_key(actor["publicKey"]["publicKeyPem"].encode())


# Collections


def test_outbox_pages_newest_first(fed_app):
    start = dt.datetime(2020, 1, 1, tzinfo=dt.UTC)
    with fed_app.app_context():
        for number in range(25):
            db.session.add(
                make_post(1, f"post {number}", published=start + dt.timedelta(number))
            )
        db.session.add(make_post(1, "a draft", published=None))
        db.session.add(make_post(2, "not theirs"))
        db.session.commit()
    client = fed_app.test_client()
    _, outbox = get_json(client, "/ap/users/1/outbox")
    address = f"{BASE}/ap/users/1/outbox"
    assert outbox["type"] == "OrderedCollection"
    assert outbox["id"] == address
    assert outbox["totalItems"] == 26
    assert outbox["first"] == f"{address}?page=1"
    _, first = get_json(client, "/ap/users/1/outbox?page=1")
    assert first["type"] == "OrderedCollectionPage"
    assert first["partOf"] == address
    assert first["next"] == f"{address}?page=2"
    items = first["orderedItems"]
    assert len(items) == 20
    assert [item["object"]["name"] for item in items[:2]] == ["post 24", "post 23"]
    create = items[0]
    assert create["type"] == "Create"
    assert create["actor"] == f"{BASE}/ap/users/1"
    assert create["object"]["type"] == "Article"
    assert create["to"] == ["https://www.w3.org/ns/activitystreams#Public"]
    assert "@context" not in create
    _, second = get_json(client, "/ap/users/1/outbox?page=2")
    assert len(second["orderedItems"]) == 6
    assert second["orderedItems"][-1]["object"]["name"] == "test title"
    assert "next" not in second
    assert second["prev"] == f"{address}?page=1"
    for bad in ("0", "-1", "abc", "99999999", ""):
        assert client.get(f"/ap/users/1/outbox?page={bad}").status_code == 400
    assert client.get("/ap/users/99/outbox").status_code == 404


def test_followers_counts_accepted_remote_followers(fed_app):
    with fed_app.app_context():
        for number, state in enumerate([ACCEPTED, ACCEPTED, PENDING]):
            actor = RemoteActor(
                uri=f"https://example.social/users/u{number}",
                domain="example.social",
                inbox=f"https://example.social/users/u{number}/inbox",
                username=f"u{number}",
                key_id=f"https://example.social/users/u{number}#main-key",
                public_key_pem="-",
            )
            db.session.add(actor)
            db.session.flush()
            db.session.add(
                RemoteFollower(
                    user_id=1, actor_id=actor.id, state=state, follow_id=f"f{number}"
                )
            )
        db.session.commit()
    client = fed_app.test_client()
    _, followers = get_json(client, "/ap/users/1/followers")
    assert followers["id"] == f"{BASE}/ap/users/1/followers"
    assert followers["type"] == "OrderedCollection"
    assert followers["totalItems"] == 2
    assert "orderedItems" not in followers
    _, nobody = get_json(client, "/ap/users/2/followers")
    assert nobody["totalItems"] == 0
    _, following = get_json(client, "/ap/users/1/following")
    assert following["totalItems"] == 0
    assert following["orderedItems"] == []


# Articles


def add_full_post(app):
    """A public post with a slug, site links, a picture and tags."""
    with app.app_context():
        post = make_post(
            1,
            "Full post",
            "See [the other](/p/other), ![a cat](/media/abc.webp) "
            "and [elsewhere](https://example.org/x).",
        )
        post.slug = "full-post"
        post.summary = "A summary Mastodon would show as a warning"
        post.updated = post.published + dt.timedelta(hours=1)
        post.image = Image(
            alt="A sunset", width=10, height=10, display=b"", thumbnail=b""
        )
        for name in ("python", "flask"):
            tag = Tag(name=name)
            db.session.add(tag)
            db.session.flush()
            post.tag_links.append(PostTag(tag_id=tag.id, published=post.published))
        db.session.add(post)
        db.session.commit()
        return post.id, post.image.id


def test_article_document(fed_app):
    post_id, image_id = add_full_post(fed_app)
    client = fed_app.test_client()
    response, article = get_json(client, f"/ap/posts/{post_id}")
    assert response.mimetype == ACTIVITY
    assert article["@context"][0] == "https://www.w3.org/ns/activitystreams"
    assert article["id"] == f"{BASE}/ap/posts/{post_id}"
    assert article["type"] == "Article"
    assert article["attributedTo"] == f"{BASE}/ap/users/1"
    assert article["name"] == "Full post"
    assert article["url"] == f"{BASE}/p/full-post"
    assert article["mediaType"] == "text/html"
    content = article["content"]
    assert f'href="{BASE}/p/other"' in content
    assert f'src="{BASE}/media/abc.webp"' in content
    assert 'href="https://example.org/x"' in content
    assert 'href="/' not in content and 'src="/' not in content
    assert "summary" not in article
    assert article["sensitive"] is False
    assert article["published"] == "2018-01-01T00:00:00Z"
    assert article["updated"] == "2018-01-01T01:00:00Z"
    assert sorted(article["tag"], key=lambda tag: tag["name"]) == [
        {"type": "Hashtag", "href": f"{BASE}/tag/flask", "name": "#flask"},
        {"type": "Hashtag", "href": f"{BASE}/tag/python", "name": "#python"},
    ]
    assert article["attachment"] == [
        {
            "type": "Image",
            "mediaType": "image/webp",
            "url": f"{BASE}/images/{image_id}.webp",
            "name": "A sunset",
        }
    ]
    assert article["to"] == ["https://www.w3.org/ns/activitystreams#Public"]
    assert article["cc"] == [f"{BASE}/ap/users/1/followers"]


@pytest.mark.parametrize("change", ["draft", "scheduled", "trashed", "withheld"])
def test_only_public_posts_are_articles(fed_app, change):
    with fed_app.app_context():
        post = db.session.get(Post, 1)
        if change == "draft":
            post.published = None
        elif change == "scheduled":
            post.published = utcnow() + dt.timedelta(days=1)
        elif change == "trashed":
            post.deleted = utcnow()
        else:
            post.withheld = True
        db.session.commit()
    client = fed_app.test_client()
    response = client.get("/ap/posts/1")
    if change == "trashed":
        # It was out: servers that kept it learn it is gone.
        assert response.status_code == 410
        assert response.mimetype == ACTIVITY
        gone = json.loads(response.data)
        assert gone["type"] == "Tombstone"
        assert gone["id"] == f"{BASE}/ap/posts/1"
        assert gone["formerType"] == "Article"
    else:
        assert response.status_code == 404
    _, outbox = get_json(client, "/ap/users/1/outbox")
    assert outbox["totalItems"] == 0


def test_posts_of_a_suspended_writer_are_no_articles(fed_client, fed_app):
    assert fed_client.get("/ap/posts/1").status_code == 200
    change_user(fed_app, "test", state="suspended")
    assert fed_client.get("/ap/posts/1").status_code == 404
    assert fed_client.get("/ap/posts/999").status_code == 404


# Content negotiation


@pytest.mark.parametrize(
    "accept", [ACTIVITY, LD, MASTODON_ACCEPT, "application/ld+json"]
)
def test_author_and_post_pages_answer_activity_json(fed_app, accept):
    post_id, _ = add_full_post(fed_app)
    client = fed_app.test_client()
    response, actor = get_json(client, "/u/test", accept)
    assert response.mimetype == ACTIVITY
    assert "Accept" in response.vary
    assert actor["id"] == f"{BASE}/ap/users/1"
    _, direct = get_json(client, "/ap/users/1")
    assert actor == direct
    for path in ("/p/full-post", f"/{post_id}"):
        response, article = get_json(client, path, accept)
        assert response.mimetype == ACTIVITY
        assert "Accept" in response.vary
        assert article["id"] == f"{BASE}/ap/posts/{post_id}"


@pytest.mark.parametrize(
    "accept", [BROWSER_ACCEPT, None, "*/*", f"text/html, {ACTIVITY};q=0.5"]
)
def test_browsers_get_pages_that_vary_on_accept(fed_app, accept):
    post_id, _ = add_full_post(fed_app)
    client = fed_app.test_client()
    headers = {} if accept is None else {"Accept": accept}
    page = client.get("/u/test", headers=headers)
    assert page.mimetype == "text/html"
    assert "Accept" in page.vary
    assert (
        f'<link rel="alternate" type="{ACTIVITY}" href="{BASE}/ap/users/1">'
        in page.text
    )
    post_page = client.get("/p/full-post", headers=headers)
    assert post_page.mimetype == "text/html"
    assert "Accept" in post_page.vary
    assert (
        f'<link rel="alternate" type="{ACTIVITY}" href="{BASE}/ap/posts/{post_id}">'
        in post_page.text
    )
    assert client.get(f"/{post_id}", headers=headers).status_code == 301


def test_pages_of_no_actor_or_article_stay_html(fed_app):
    change_user(fed_app, "other", role="reader")
    with fed_app.app_context():
        db.session.add(make_post(1, "a draft", published=None))
        db.session.commit()
    client = fed_app.test_client()
    page = client.get("/u/other", headers={"Accept": ACTIVITY})
    assert page.status_code == 200
    assert page.mimetype == "text/html"
    assert 'type="application/activity+json"' not in page.text
    assert client.get("/2", headers={"Accept": ACTIVITY}).status_code == 404


def page_cache(app):
    assert isinstance(app.wsgi_app, PageCache)
    return app.wsgi_app


def ask(app, client, path, accept):
    """The answer to ``path`` and whether the page cache served it."""
    before = page_cache(app).hits
    response = client.get(path, headers={"Accept": accept})
    assert response.status_code == 200
    return response, page_cache(app).hits > before


@pytest.mark.parametrize("path", ["/u/test", "/p/full-post"])
@pytest.mark.parametrize("first", ["html", "activity"])
def test_the_page_cache_keeps_html_and_json_apart(fed_app, path, first):
    add_full_post(fed_app)
    client = fed_app.test_client()
    kinds = {"html": (BROWSER_ACCEPT, "text/html"), "activity": (ACTIVITY, ACTIVITY)}
    order = [first, "activity" if first == "html" else "html"]
    for kind in order:
        accept, mimetype = kinds[kind]
        served = []
        for _ in range(3):
            response, from_memory = ask(fed_app, client, path, accept)
            assert response.mimetype == mimetype
            assert "Accept" in response.vary
            served.append(from_memory)
        # Kept when asked a second time, served from memory the third.
        assert served == [False, False, True]
    # Both are kept now, each for its own Accept.
    for kind in order:
        accept, mimetype = kinds[kind]
        response, from_memory = ask(fed_app, client, path, accept)
        assert from_memory
        assert response.mimetype == mimetype


# Federation off


@pytest.mark.parametrize("config", [{"FEDERATION": False}, {"SITE_URL": None}])
def test_nothing_federates_when_federation_is_off(make_fed_app, config):
    app = make_fed_app(**config)
    client = app.test_client()
    for path in (
        "/.well-known/webfinger?resource=acct:test@localhost",
        "/.well-known/nodeinfo",
        "/nodeinfo/2.1",
        "/.well-known/host-meta",
        "/ap/site",
        "/ap/users/1",
        "/ap/users/1/outbox",
        "/ap/users/1/followers",
        "/ap/users/1/following",
        "/ap/posts/1",
    ):
        assert client.get(path, headers={"Accept": ACTIVITY}).status_code == 404, path
    for inbox in ("/ap/inbox", "/ap/users/1/inbox"):
        assert client.post(inbox, json={"type": "Follow"}).status_code == 404, inbox
    page = client.get("/u/test", headers={"Accept": ACTIVITY})
    assert page.mimetype == "text/html"
    assert 'type="application/activity+json"' not in page.text
    assert client.get("/1", headers={"Accept": ACTIVITY}).mimetype == "text/html"


# The nginx front


NGINX_CONF = Path(__file__).parents[1] / "deploy" / "nginx" / "flaskr.conf"


def test_nginx_passes_the_fediverse_doors_to_flaskr():
    settings = NGINX_CONF.read_text()
    found = re.search(r"^    location ~ (\S+) \{\n(.*?)^    \}", settings, re.M | re.S)
    assert found is not None
    pattern, block = found.groups()
    for path in (
        "/.well-known/webfinger",
        "/.well-known/nodeinfo",
        "/.well-known/host-meta",
        "/nodeinfo/2.1",
        "/ap/users/1/inbox",
        "/ap/inbox",
    ):
        assert re.search(pattern, path), path
    for path in ("/", "/apple", "/.well-known/acme-challenge/x", "/u/test"):
        assert not re.search(pattern, path), path
    assert "proxy_pass http://flaskr_gunicorn;" in block
    assert "client_max_body_size 1m;" in block
    assert "proxy_cache" not in settings.replace("No proxy_cache", "")
    # The proxy settings every location inherits sit at the server level.
    assert re.search(r"^    proxy_set_header Host \$host;", settings, re.M)


def test_hostile_values_get_no_5xx(fed_app):
    client = fed_app.test_client()
    for value in HOSTILE:
        quoted = quote(value, safe="")
        for path, query in (
            ("/.well-known/webfinger", {"resource": value}),
            ("/.well-known/webfinger", {"resource": f"acct:{value}@localhost"}),
            ("/.well-known/webfinger", {"resource": f"{BASE}/u/{value}"}),
            ("/ap/users/1/outbox", {"page": value}),
            (f"/nodeinfo/{quoted}", {}),
            (f"/u/{quoted}", {}),
            (f"/p/{quoted}", {}),
            (f"/ap/users/{quoted}", {}),
        ):
            for accept in (ACTIVITY, BROWSER_ACCEPT, value):
                try:
                    response = client.get(
                        path, query_string=query, headers={"Accept": accept}
                    )
                except ValueError:
                    continue  # a header no client can send
                assert response.status_code < 500, (path, query, accept)
