"""Thousands of generated requests over every route and form: none gets a 5xx.

A seeded walk, so a failure can be replayed: each request picks a route from
the URL map (so a route added later is walked too), fills its path with
hostile values, adds a hostile query, and for a form sends any of the fields
Flaskr's pages name (found on the pages themselves) with hostile values, files
where text belongs, fields left out, and mostly a valid CSRF token. A third of the
requests come from a logged-in writer, a third from an administrator (who
reaches the users page, the moderation queue, the settings and the review),
the rest from a stranger. The site has a held comment and a report, so the
queue's forms are on its pages. It runs on SQLite and, in the PostgreSQL leg,
on PostgreSQL.
"""

from __future__ import annotations

import io
import json
import random
import re
from urllib.parse import quote

from PIL import Image as Pillow

from flaskr.db import db
from flaskr.db import utcnow
from flaskr.models import Subscriber
from flaskr.models import Subscription
from flaskr.services.accounts.directory import find_user
from flaskr.services.base import site
from flaskr.services.content.access import get_post
from flaskr.services.federation import blocks
from flaskr.services.governance import reports
from flaskr.services.social import reactions
from flaskr.services.social import subscriber_links
from tests.conftest import AuthActions
from tests.conftest import csrf_token_from
from tests.conftest import FEDERATION_TEST_CONFIG
from tests.fediverse import ACTIVITY_JSON
from tests.fediverse import signed_headers
from tests.helpers import HOSTILE
from tests.helpers import make_admin

SEED = 20261204
REQUESTS = 2400

QUERY_KEYS = ["page", "q", "after", "before", "comments_after", "next", "size", "x"]
PATH_SEGMENT = re.compile(r"<(?:([a-z]+)(?:\([^)]*\))?:)?([a-z_]+)>")
FIELD_NAME = re.compile(r'<(?:input|textarea|select|button)[^>]*\bname="([^"]+)"')


def picture() -> bytes:
    buffer = io.BytesIO()
    Pillow.new("RGB", (8, 8), (10, 200, 10)).save(buffer, "PNG")
    return buffer.getvalue()


FILES = [picture(), b"", b"GIF89a not really", b"\x89PNG\r\n\x1a\n" + b"\x00" * 64]


def hostile(rng: random.Random) -> str:
    return rng.choice(HOSTILE)


def filled_path(rule: str, rng: random.Random) -> str:
    def segment(match: re.Match[str]) -> str:
        if match[1] == "path":
            return rng.choice(["style.css", "../secret", "%00", "x" * 300])
        if rng.random() < 0.6:  # often a thing that exists, to get past the 404
            return rng.choice(["1", "2", "3", "test", "other", "python"])
        return quote(hostile(rng), safe="") or "1"

    return PATH_SEGMENT.sub(segment, rule)


def form_data(rng: random.Random, fields: list[str], token: str) -> dict[str, object]:
    data: dict[str, object] = {}
    for name in rng.sample(fields, k=rng.randint(0, len(fields))):
        if name.endswith("csrf_token"):
            continue
        if rng.random() < 0.1:
            data[name] = (io.BytesIO(rng.choice(FILES)), rng.choice(["a.png", "", "x"]))
        else:
            data[name] = hostile(rng)
    # Every form of a session takes the session's token, prefixed or not.
    for name in fields:
        if name.endswith("csrf_token") and rng.random() < 0.9:
            data[name] = token
    return data


class Visitor:
    """A client, logged in as ``username`` or not, with its CSRF token."""

    def __init__(self, app, username: str | None) -> None:
        self.client = app.test_client()
        self.username = username
        self.token = ""
        self.renew()

    def renew(self) -> None:
        if self.username:
            AuthActions(self.client).login(self.username, self.username)
        self.token = csrf_token_from(self.client, "/auth/login")


def _held_comment_and_report(app) -> None:
    """A comment the links rule holds and a report of a post, from "other"."""
    with app.app_context():
        other, post = find_user("other"), get_post(1)
        assert post is not None and other is not None
        reactions.add_comment(
            post,
            other,
            "https://a.example https://b.example https://c.example",
            post_link="/",
        )
        reports.report(other, "post", post.id, "A reason.")


def _subscriber_links(app) -> list[str]:
    """The pages a subscriber's mailed links open (confirm, preferences,
    leave), for a subscriber of the site and of "test"."""
    with app.app_context():
        subscriber = Subscriber(
            email="reader@example.org",
            email_key="reader@example.org",
            link_key=subscriber_links.new_link_key(),
            confirmed=utcnow(),
        )
        db.session.add(subscriber)
        db.session.flush()
        db.session.add(Subscription(subscriber_id=subscriber.id, author_id=None))
        db.session.add(Subscription(subscriber_id=subscriber.id, author_id=1))
        db.session.commit()
        return [
            "/subscribe/" + purpose + "/" + subscriber_links.token(subscriber, purpose)
            for purpose in subscriber_links.PURPOSES
        ]


def _subscribers(app) -> None:
    """Three subscribers, so the lists have rows and removals find some."""
    with app.app_context():
        test = find_user("test")
        assert test is not None
        for number, author_id in enumerate((test.id, None, test.id)):
            subscriber = Subscriber(
                email=f"reader{number}@example.com",
                email_key=f"reader{number}@example.com",
                link_key=f"key{number}",
            )
            db.session.add(subscriber)
            db.session.flush()
            db.session.add(
                Subscription(subscriber_id=subscriber.id, author_id=author_id)
            )
        site.settings().writers_see_subscribers = True
        db.session.commit()


def test_generated_requests_never_get_a_5xx(app_with):
    # A site with an address, so that its fediverse pages are there too.
    app = app_with(SITE_URL="http://localhost")
    rng = random.Random(SEED)
    rules = [
        (rule.rule, sorted(rule.methods - {"HEAD", "OPTIONS"}))
        for rule in app.url_map.iter_rules()
    ]
    _held_comment_and_report(app)
    _subscribers(app)
    make_admin(app, "test")
    with app.app_context():
        blocks.block_domain(find_user("test"), "spam.example", "A reason.")
    admin, writer, stranger = (
        Visitor(app, "test"),
        Visitor(app, "other"),
        Visitor(app, None),
    )
    # Fields some pages show only in some states.
    fields = {"csrf_token", "remove_image", "drop_held_image", "code"}
    for page in (
        "/create",
        "/1/update",
        "/auth/register",
        "/auth/account",
        "/auth/account/security",
        "/auth/confirm",
        "/1",
        "/subscribe",
        *_subscriber_links(app),
    ):
        fields.update(FIELD_NAME.findall(admin.client.get(page).get_data(True)))
    for page in (
        "/admin",
        "/admin/users",
        "/admin/users/2",
        "/admin/users/2/remove",
        "/admin/invitations",
        "/admin/subscribers",
        "/admin/federation",
        "/subscribers",
        "/fediverse/followers",
        "/moderation",
        "/review",
        "/report/post/1",
        "/fediverse/following",
    ):
        fields.update(FIELD_NAME.findall(admin.client.get(page).get_data(True)))
    field_names = sorted(fields)
    assert {"title", "body", "image_file", "held_image", "version"} <= fields
    # The governing forms are among those walked.
    assert {
        "homepage",
        "form_started",
        "joining-join_mode",
        "comments-policy",
        "sign_in-required",
        "subscribers-writers_see",
        "file",
    } <= fields
    assert {"reason", "role"} <= {name.rpartition("-")[2] for name in fields}
    # So are blocking servers and approving followers from the fediverse.
    assert {"block-domain", "unblock-domain", "approval-approve"} <= fields
    # So are following by e-mail and a subscriber's preferences.
    assert {"subscribe-email", "subscribe-to", "cadence", "writers", "site"} <= fields
    # And following fediverse accounts.
    assert "handle" in fields

    answered: dict[int, int] = {}
    failures = []
    for number in range(REQUESTS):
        visitor = (admin, writer, stranger)[number % 3]
        if number % 100 < 2:
            visitor.renew()  # a request may have logged it out
        rule, methods = rng.choice(rules)
        method = rng.choice([*methods, "PUT"] if rng.random() < 0.05 else methods)
        path = filled_path(rule, rng)
        query = {
            key: hostile(rng) for key in rng.sample(QUERY_KEYS, k=rng.randint(0, 2))
        }
        data = form_data(rng, field_names, visitor.token) if method == "POST" else None
        response = visitor.client.open(
            path, method=method, query_string=query, data=data
        )
        answered[response.status_code] = answered.get(response.status_code, 0) + 1
        if response.status_code >= 500:
            failures.append((method, path, query, sorted(data or {})))
        if response.mimetype == "text/html" and len(fields) < 200:
            found = FIELD_NAME.findall(response.get_data(as_text=True))
            new = set(found) - fields
            if new:
                fields.update(new)
                field_names = sorted(fields)
        response.close()

    assert failures == [], failures[:5]
    assert sum(answered.values()) == REQUESTS
    # The walk reached past the front doors: saves, redirects, refusals.
    assert {200, 302, 400, 404, 422} <= set(answered), answered


#: The activity types the hostile inbox walk sends with a good signature, so
#: that each type's use case meets hostile shapes (a reply to post 1 with
#: content of any shape, an ``Undo`` of a ``Follow``, a ``Delete`` of ann).
SIGNED_TYPES = [
    "Follow",
    "Undo",
    "Nonsense",
    "Create",
    "Update",
    "Delete",
    "Like",
    "Announce",
    "Accept",
    "Reject",
]


def hostile_json(rng: random.Random, depth: int = 0) -> object:
    """A JSON value of any shape: what a broken or hostile server sends."""
    kind = 7 if depth == 5 else rng.randrange(8 if depth < 3 else 5)
    if kind == 0:
        return hostile(rng)
    if kind == 1:
        return rng.choice([0, -1, 2**63, 1.5, True, None])
    if kind == 2:
        return "http://localhost/ap/users/" + rng.choice(["1", "2", "999", "x"])
    if kind == 3:
        return rng.choice(["https://evil.example/u", "http://127.0.0.1:1/x", ""])
    if kind == 4:
        return []
    if kind == 5:
        return [hostile_json(rng, depth + 1) for _ in range(rng.randint(1, 3))]
    keys = ["id", "type", "actor", "object", "to", "cc", "inReplyTo", "content"]
    return {
        key: hostile_json(rng, depth + 1)
        for key in rng.sample(keys, k=rng.randint(0, len(keys)))
    }


def test_hostile_inbox_posts_never_get_a_5xx(app_with, remote_server):
    """POSTs to the shared inbox and a writer's: bodies of any shape, signed
    by a real remote actor or not, under any content type."""
    app = app_with(**FEDERATION_TEST_CONFIG)
    client = app.test_client()
    rng = random.Random(SEED)
    ann = remote_server.add_user("ann")
    answered: dict[int, int] = {}
    failures = []
    for number in range(300):
        path = rng.choice(["/ap/inbox", "/ap/users/1/inbox", "/ap/users/2/inbox"])
        activity = hostile_json(rng, depth=number % 2 * 5)
        if number % 2:
            # An object at the top (depth 5 gives no lists), from ann.
            activity = activity if isinstance(activity, dict) else {}
            activity["actor"] = ann.uri
            activity["type"] = rng.choice(SIGNED_TYPES)
            if activity["type"] == "Undo":
                activity["object"] = {
                    "type": "Follow",
                    "id": hostile_json(rng),
                    "object": hostile_json(rng),
                }
            elif rng.random() < 0.5:
                activity["object"] = rng.choice(
                    [
                        "http://localhost/ap/users/1",
                        "http://localhost/ap/posts/1",
                        ann.uri,
                        {
                            "type": rng.choice(["Note", "Article", "Follow"]),
                            "id": hostile_json(rng),
                            "inReplyTo": "http://localhost/ap/posts/1",
                            "attributedTo": ann.uri,
                            "content": hostile_json(rng),
                        },
                        hostile_json(rng),
                    ]
                )
        body = rng.choice(
            [json.dumps(activity).encode()] * 4 + [hostile(rng).encode(), b"{" * 5000]
        )
        headers = signed_headers(ann, "POST", "http://localhost" + path, body)
        if rng.random() < 0.2:
            headers["Signature"] = hostile(rng)
        if rng.random() < 0.1:
            headers["Digest"] = hostile(rng)
        headers["Content-Type"] = rng.choice(
            [ACTIVITY_JSON, ACTIVITY_JSON, "application/json", "text/plain", ""]
        )
        response = client.post(path, data=body, headers=headers)
        answered[response.status_code] = answered.get(response.status_code, 0) + 1
        if response.status_code >= 500:
            failures.append((path, body[:200]))
        elif response.status_code >= 400:
            assert response.is_json, (path, response.status_code)
        response.close()
    assert failures == [], failures[:5]
    # The walk got past the signature to the use cases, and was refused too.
    assert {202, 400, 401, 415} <= set(answered), answered
