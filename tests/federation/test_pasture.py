"""fediverse-pasture's strict peers against a Flaskr writer's actor and post.

One Flaskr (gunicorn, SQLite, ``SITE_URL`` ``http://127.0.0.1:PORT``) with
an administrator, a writer and a published post; fediverse-pasture
(``pasture_peer.py``, in its own environment) on another port checks:

- its verify-actor suite: the writer's actor fetched by six test actors
  (signed and unsigned, keys that need a signed fetch), a ``Like`` posted to
  the inbox signed and unsigned, and WebFinger;
- the post's ``Article`` fetched with bovine's signed GET;
- Flaskr's own signatures (site actor), by pasture's HTTP-signature checker;
- a reply from pasture's actor (bovine-signed ``Create``), held for a
  moderator.

Each check must pass, or be in :data:`EXCEPTIONS`, which must equal the
table of exceptions in ``docs/federation-interop.md``.
"""

from __future__ import annotations

import re
import secrets
import typing as t
from pathlib import Path

import pytest
import requests

from flaskr import create_app
from flaskr.db import db
from flaskr.models.federation import SITE_OWNER
from flaskr.services.federation import client
from flaskr.services.federation import keys
from tests.federation.conftest import actor_of
from tests.federation.conftest import Browser
from tests.federation.conftest import Pasture
from tests.federation.conftest import Site
from tests.federation.conftest import start_site
from tests.federation.conftest import wait_ready
from tests.federation.conftest import wait_until

pytestmark = pytest.mark.federation

DOCS = Path(__file__).parents[2] / "docs" / "federation-interop.md"

#: What each verify-actor check must answer. pasture's own page warns when
#: alice may post unsigned, or when bob or claire may not fetch or post:
#: unsigned inbox POSTs must be refused (alice, dean), signed ones taken
#: (bob, claire, emily, frank); everyone may fetch the actor, claire and
#: frank only after Flaskr fetched their keys with a signed GET.
EXPECTED = {
    "alice": {"get_actor": True, "post_inbox": False},
    "bob": {"get_actor": True, "post_inbox": True},
    "claire": {"get_actor": True, "post_inbox": True},
    "dean": {"get_actor": True, "post_inbox": False},
    "emily": {"get_actor": True, "post_inbox": True},
    "frank": {"get_actor": True, "post_inbox": True},
    "webfinger": True,
}

#: Checks allowed to differ from :data:`EXPECTED`, each with the reason;
#: the same names, one a row, as the "Known exceptions" table of the docs.
EXCEPTIONS: dict[str, str] = {}


class Writer(t.NamedTuple):
    site: Site
    admin: Browser
    actor: str
    article: str
    post_path: str
    body: str


@pytest.fixture(scope="module")
def writer(
    tmp_path_factory: pytest.TempPathFactory, empty_database: Path
) -> t.Iterator[Writer]:
    site = start_site(tmp_path_factory.mktemp("flaskr"), "writer-site", empty_database)
    try:
        wait_ready(site)
        admin = Browser(site)
        admin.register_and_log_in("admin")  # a fresh site's first account
        admin.hold_first_comments()
        author = Browser(site)
        author.register_and_log_in("writer")
        body = f"Grazing in the pasture {secrets.token_hex(4)}"
        post_path, post_id = author.publish("A post for the pasture", body)
        yield Writer(
            site,
            admin,
            actor_of(site, "writer"),
            f"{site.url}/ap/posts/{post_id}",
            post_path,
            body,
        )
    finally:
        site.stop()


@pytest.fixture(autouse=True)
def _print_logs(
    request: pytest.FixtureRequest, logs: list[tuple[str, Path]], pasture: Pasture
) -> None:
    if "writer" in request.fixturenames:
        site = request.getfixturevalue("writer").site
        logs.append((f"Flaskr ({site.url})", site.log))
    logs.append((f"fediverse-pasture ({pasture.url})", pasture.log))


def documented_exceptions() -> set[str]:
    """The check names in the docs' "Known exceptions" table."""
    text = DOCS.read_text()
    section = text.split("## Known exceptions", 1)[1].split("\n## ", 1)[0]
    return set(re.findall(r"^\| `([\w.]+)` \|", section, flags=re.MULTILINE))


def test_the_allowlist_is_the_documented_table():
    assert documented_exceptions() == set(EXCEPTIONS)


def test_verify_actor_suite(pasture, writer):
    answer = pasture.verify_actor(writer.actor)
    result = answer["result"]
    differing = {}
    for name, expected in EXPECTED.items():
        if isinstance(expected, dict):
            for check, wanted in expected.items():
                if result.get(name, {}).get(check) != wanted:
                    differing[f"{name}.{check}"] = result.get(name, {}).get(check)
        elif result.get(name) != expected:
            differing[name] = result.get(name)
    unexplained = {
        name: got for name, got in differing.items() if name not in EXCEPTIONS
    }
    assert unexplained == {}, answer["messages"]
    # An exception that passes now is stale: take it out, and its docs row.
    stale = [name for name in EXCEPTIONS if name in checks() and name not in differing]
    assert stale == []


def checks() -> set[str]:
    """The names of the verify-actor checks, as in :data:`EXCEPTIONS`."""
    names = set()
    for name, value in EXPECTED.items():
        if isinstance(value, dict):
            names |= {f"{name}.{check}" for check in value}
        else:
            names.add(name)
    return names


def test_the_actor_has_what_mastodon_reads(writer):
    response = requests.get(
        writer.actor, headers={"Accept": "application/activity+json"}, timeout=10
    )
    assert response.status_code == 200
    assert "json" in response.headers["Content-Type"]
    actor = response.json()
    assert actor["id"] == writer.actor
    assert actor["type"] == "Person"
    assert actor["preferredUsername"] == "writer"
    for box in ("inbox", "outbox", "followers", "following"):
        assert actor[box].startswith(writer.actor + "/")
    assert actor["endpoints"]["sharedInbox"] == f"{writer.site.url}/ap/inbox"
    key = actor["publicKey"]
    assert key["owner"] == writer.actor
    assert key["id"].startswith(writer.actor + "#")
    assert key["publicKeyPem"].startswith("-----BEGIN PUBLIC KEY-----")


def test_the_article_fetched_by_a_signed_peer(pasture, writer):
    fetched = pasture.fetch(writer.article)
    assert fetched["status"] == 200, fetched["text"]
    article = fetched["object"]
    assert "https://www.w3.org/ns/activitystreams" in str(article["@context"])
    assert article["id"] == writer.article
    assert article["type"] == "Article"
    assert article["attributedTo"] == writer.actor
    audience = [*article.get("to", []), *article.get("cc", [])]
    assert "https://www.w3.org/ns/activitystreams#Public" in audience
    assert writer.body in article["content"]
    assert article["url"] == writer.site.url + writer.post_path
    # The same document to an unsigned fetch: no "authorized fetch".
    plain = requests.get(
        writer.article, headers={"Accept": "application/activity+json"}, timeout=10
    )
    assert plain.status_code == 200
    assert plain.json()["id"] == writer.article


def test_flaskrs_signatures_pass_pastures_checker(pasture, writer):
    """Flaskr signs as its site actor; pasture fetches the key from the
    running site and checks the GET's and the POST's (with its digest)."""
    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": writer.site.env["FLASKR_SECRET_KEY"],
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{writer.site.database}",
            "SITE_URL": writer.site.url,
            "FEDERATION_ALLOW_HTTP": True,
            "FEDERATION_ALLOW_PRIVATE": True,
            "BACKGROUND_INTERVAL": 0,
        }
    )
    checker = f"{pasture.url}/http_signature/"
    with app.app_context():
        keys.key_of(SITE_OWNER)
        db.session.commit()
        got = client.request("GET", checker, signer=SITE_OWNER)
        assert got.status == 200, got.body.decode()
        sent = client.deliver(
            checker,
            {"@context": "https://www.w3.org/ns/activitystreams", "type": "Echo"},
            signer=SITE_OWNER,
        )
        assert sent.status == 202, sent.body.decode()
        # The checker can fail: an unsigned request is refused.
        unsigned = client.request("GET", checker)
        assert unsigned.status == 401
        db.session.remove()


def test_a_reply_from_pasture_is_held_for_a_moderator(pasture, writer):
    content = f"A reply from the pasture {secrets.token_hex(4)}"
    sent = pasture.send_note(writer.actor, content, in_reply_to=writer.article)
    assert sent["status"] in (200, 201, 202), sent
    admin = writer.admin
    queue = wait_until(
        "the reply in the moderation queue",
        lambda: content in (page := admin.get("/moderation").text) and page,
    )
    handle = f"actor@{pasture.url.removeprefix('http://')}"
    assert pasture.actor in queue or handle in queue
    # Held: not on the post's page yet.
    assert (
        content not in requests.get(writer.site.url + writer.post_path, timeout=10).text
    )


def test_pastures_inputs_are_taken_or_refused_never_break(pasture, writer):
    """fediverse-pasture-inputs' examples (the Notes behind funfedi.dev's
    support tables: HTML tags, anchors, mentions, attachments, content
    warnings, languages, missing properties, odd types and addresses) as
    replies: each is taken or refused with a 4xx, and the pages that show
    replies still work."""
    sent = pasture.send_inputs(writer.actor, writer.article)
    assert len(sent) > 100
    answers = {one["input"]: one["status"] for one in sent}
    broken = {name: status for name, status in answers.items() if not status}
    broken |= {name: status for name, status in answers.items() if status >= 500}
    assert broken == {}
    assert 429 not in answers.values()
    queue = writer.admin.get("/moderation")
    assert queue.status_code == 200
    assert "javascript:" not in queue.text
    page = requests.get(writer.site.url + writer.post_path, timeout=10)
    assert page.status_code == 200
    assert "javascript:" not in page.text
