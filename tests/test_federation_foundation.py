"""The federation's foundation: keys, HTTP Signatures, the guarded client and
remote actors (``services/federation``)."""

import datetime as dt
import json

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from flaskr.db import db
from flaskr.models import ActorKey
from flaskr.models import BlockedDomain
from flaskr.models import RemoteActor
from flaskr.services.federation import client
from flaskr.services.federation import ids
from flaskr.services.federation import keys
from flaskr.services.federation import remote_actors
from flaskr.services.federation import signatures
from tests.conftest import FEDERATION_TEST_CONFIG

NOW = dt.datetime(2026, 12, 6, 12, 0, tzinfo=dt.UTC)
WINDOW = dt.timedelta(hours=1)
URL = "https://example.social/users/ann/inbox"


@pytest.fixture
def fed_app(make_app):
    return make_app(**FEDERATION_TEST_CONFIG)


@pytest.fixture(scope="module")
def key():
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def pem_of(private_key):
    from cryptography.hazmat.primitives import serialization

    return (
        private_key.public_key()
        .public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        .decode()
    )


def check(headers, body, public_pem, *, method="POST", target="/users/ann/inbox"):
    parts = signatures.parse_signature(headers["Signature"])
    signatures.verify(method, target, headers, body, parts, public_pem, NOW, WINDOW)


def test_a_signed_request_checks(key):
    body = b'{"type":"Follow"}'
    headers = signatures.signed_headers("POST", URL, body, "k#main-key", key, NOW)
    assert headers["Host"] == "example.social"
    assert headers["Digest"] == signatures.digest_of(body)
    assert 'headers="(request-target) host date digest"' in headers["Signature"]
    check(headers, body, pem_of(key))


def test_a_get_is_signed_without_a_digest(key):
    headers = signatures.signed_headers("GET", URL, None, "k", key, NOW)
    assert "Digest" not in headers
    check(headers, b"", pem_of(key), method="GET")


@pytest.mark.parametrize(
    "change, reason",
    [
        ("wrong key", "does not check"),
        ("old date", "outside the window"),
        ("future date", "outside the window"),
        ("changed body", "digest does not match"),
        ("no digest", "not signed: digest"),
        ("other target", "does not check"),
        ("other algorithm", "not supported"),
    ],
)
def test_each_change_is_refused(key, change, reason):
    body = b'{"type":"Create"}'
    when = {
        "old date": NOW - dt.timedelta(hours=2),
        "future date": NOW + dt.timedelta(hours=2),
    }.get(change, NOW)
    headers = signatures.signed_headers("POST", URL, body, "k", key, when)
    public_pem = pem_of(key)
    target = "/users/ann/inbox"
    if change == "wrong key":
        public_pem = pem_of(
            rsa.generate_private_key(public_exponent=65537, key_size=2048)
        )
    elif change == "changed body":
        body = b'{"type":"Delete"}'
    elif change == "no digest":
        headers = signatures.signed_headers("GET", URL, None, "k", key, NOW)
    elif change == "other target":
        target = "/users/bob/inbox"
    elif change == "other algorithm":
        headers["Signature"] = headers["Signature"].replace("rsa-sha256", "hmac-sha256")
    with pytest.raises(signatures.SignatureRefused, match=reason):
        check(headers, body, public_pem, target=target)


def test_the_digest_algorithm_is_read_in_any_case(key, monkeypatch):
    body = b"{}"
    correct = signatures.digest_of(body)
    monkeypatch.setattr(
        signatures, "digest_of", lambda _: correct.lower()[:8] + correct[8:]
    )
    headers = signatures.signed_headers("POST", URL, body, "k", key, NOW)
    assert headers["Digest"].startswith("sha-256=")
    check(headers, body, pem_of(key))


@pytest.mark.parametrize(
    "header",
    ['keyId="k"', 'signature="AAAA"', 'keyId="k",signature="not base64!"', "x" * 5000],
)
def test_malformed_signature_headers_are_refused(header):
    with pytest.raises(signatures.SignatureRefused):
        signatures.parse_signature(header)


def test_a_key_is_made_once_and_kept_encrypted(fed_app):
    with fed_app.app_context():
        first = keys.key_of("1").public_pem
        db.session.commit()
        assert keys.key_of("1").public_pem == first
        row = db.session.get(ActorKey, "1")
        assert "PRIVATE KEY" not in row.private_pem
        assert isinstance(keys.private_key("1"), rsa.RSAPrivateKey)
        keys.rotate("1")
        db.session.commit()
        assert keys.key_of("1").public_pem != first


def test_a_key_written_under_another_secret_is_not_used(fed_app, make_app):
    with fed_app.app_context():
        keys.key_of("site")
        db.session.commit()
    other = make_app(SECRET_KEY="another secret key, long enough" * 2)
    with other.app_context():
        assert keys.private_key("site") is None


def test_ids_are_built_on_site_url(fed_app):
    with fed_app.test_request_context(base_url="http://evil.example"):
        assert ids.actor(7) == "http://localhost/ap/users/7"
        assert ids.key_id("7") == "http://localhost/ap/users/7#main-key"
        assert ids.key_id("site") == "http://localhost/ap/site#main-key"
        assert ids.user_id_of_actor("http://localhost/ap/users/7") == 7
        assert ids.user_id_of_actor("http://localhost/ap/users/7x") is None
        assert ids.post_id_of(ids.article(12)) == 12


def test_the_client_fetches_and_signs(fed_app, remote_server):
    remote_server.put("/note", {"id": "x", "type": "Note"})
    with fed_app.app_context():
        document = client.fetch_object(remote_server.base + "/note", signer="site")
        db.session.commit()
    assert document["type"] == "Note"
    request = remote_server.received[-1]
    assert 'keyId="http://localhost/ap/site#main-key"' in request.headers["signature"]
    assert "activity+json" in request.headers["accept"]


def test_the_client_refuses_what_it_must(make_app, remote_server):
    strict = make_app(SITE_URL="http://localhost")
    loose_http = make_app(SITE_URL="http://localhost", FEDERATION_ALLOW_HTTP=True)
    remote_server.put("/note", {"id": "x"})
    with strict.app_context():
        with pytest.raises(client.FetchRefused, match="scheme http"):
            client.request("GET", remote_server.base + "/note")
        for url in (
            "ftp://example.org/x",
            "https://user:pw@example.org/",
            "https:///x",
        ):
            with pytest.raises(client.FetchRefused):
                client.request("GET", url)
    with loose_http.app_context():
        with pytest.raises(client.FetchRefused, match="private address"):
            client.request("GET", remote_server.base + "/note")
        with pytest.raises(client.FetchRefused, match="private address"):
            client.request("GET", "http://localhost:9/")


def test_redirects_are_checked_again(make_app, fed_app, remote_server):
    remote_server.documents["/moved"] = (302, "text/plain", b"")
    remote_server.put("/note", {"id": "x"})
    # A redirect's location comes from the answer's headers.
    original = remote_server._wsgi

    def with_location(environ, start_response):
        if environ["PATH_INFO"] == "/moved":
            start_response("302 Found", [("Location", "ftp://127.0.0.1/x")])
            return [b""]
        if environ["PATH_INFO"] == "/hop":
            start_response("302 Found", [("Location", "/note")])
            return [b""]
        return original(environ, start_response)

    remote_server._server.app = with_location
    with fed_app.app_context():
        with pytest.raises(client.FetchRefused, match="scheme ftp"):
            client.request("GET", remote_server.base + "/moved")
        answer = client.request("GET", remote_server.base + "/hop")
        assert answer.status == 200 and answer.url.endswith("/note")


def test_large_answers_are_refused(make_app, remote_server):
    app = make_app(**FEDERATION_TEST_CONFIG, FEDERATION_MAX_BYTES=1000)
    remote_server.put("/big", {"id": "x" * 2000})
    with app.app_context(), pytest.raises(client.FetchRefused, match="too large"):
        client.fetch_object(remote_server.base + "/big", signer="site")


def test_non_json_answers_are_refused(fed_app, remote_server):
    remote_server.documents["/page"] = (200, "text/html", b"<p>hi</p>")
    with fed_app.app_context(), pytest.raises(client.FetchRefused, match="not JSON"):
        client.fetch_object(remote_server.base + "/page", signer="site")


def test_a_remote_actor_is_fetched_and_kept(fed_app, remote_server):
    ann = remote_server.add_user("ann", name="<b>Ann</b> <script>x</script>")
    with fed_app.app_context():
        actor = remote_actors.actor_of_key(ann.key_id)
        db.session.commit()
        assert actor.uri == ann.uri
        assert actor.inbox == ann.inbox
        assert actor.shared_inbox == remote_server.base + "/inbox"
        assert actor.name == "Ann"
        assert actor.handle == f"@ann@{remote_server.base.removeprefix('http://')}"
        assert actor.icon_url.endswith("/avatars/ann.png")
        fetches = len(remote_server.received)
        assert remote_actors.actor_of_key(ann.key_id).id == actor.id
        assert len(remote_server.received) == fetches  # kept, not fetched again


@pytest.mark.parametrize(
    "fields, reason",
    [
        ({"type": "Note"}, "not an actor"),
        ({"inbox": None}, "no inbox"),
        ({"id": "https://elsewhere.example/users/ann"}, "not the address"),
    ],
)
def test_malformed_actors_are_refused(fed_app, remote_server, fields, reason):
    ann = remote_server.add_user("ann", **fields)
    with fed_app.app_context():
        with pytest.raises(remote_actors.ActorRefused, match=reason):
            remote_actors.fetch_actor(ann.uri)
        assert db.session.query(RemoteActor).count() == 0


def test_an_actor_claiming_another_key_is_refused(fed_app, remote_server):
    ann = remote_server.add_user("ann")
    bob = remote_server.add_user("bob")
    document = json.loads(remote_server.documents[f"/users/{bob.name}"][2])
    document["publicKey"]["owner"] = ann.uri
    remote_server.put(f"/users/{bob.name}", document)
    with (
        fed_app.app_context(),
        pytest.raises(remote_actors.ActorRefused, match="not its own"),
    ):
        remote_actors.fetch_actor(bob.uri)


def test_blocked_domains_and_their_subdomains_are_refused(fed_app, remote_server):
    ann = remote_server.add_user("ann")
    with fed_app.app_context():
        db.session.add(BlockedDomain(domain="127.0.0.1", reason="spam"))
        db.session.commit()
        with pytest.raises(remote_actors.ActorRefused, match="blocked"):
            remote_actors.fetch_actor(ann.uri)
        db.session.add(BlockedDomain(domain="bad.example", reason="spam"))
        db.session.commit()
        assert remote_actors.is_blocked("mastodon.bad.example")
        assert remote_actors.is_blocked("bad.example:8443")
        assert not remote_actors.is_blocked("notbad.example")
