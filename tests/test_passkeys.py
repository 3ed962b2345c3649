"""Passkeys (WebAuthn) without a browser: a software authenticator below
builds the answers a browser would send, as the WebAuthn spec lays out
clientDataJSON, authenticatorData and a ``none`` attestation, and signs them
with an EC P-256 key."""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
import secrets

import pytest
import sqlalchemy as sa
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from webauthn.helpers import base64url_to_bytes
from webauthn.helpers import bytes_to_base64url
from webauthn.helpers import encode_cbor

from flaskr.blueprints.auth import passkey_pages
from flaskr.db import db
from flaskr.models import OutboxMail
from flaskr.models import Passkey
from flaskr.models import User
from flaskr.models.governance import SUSPENDED
from flaskr.services.accounts.recovery import request_password_reset
from tests.conftest import AuthActions
from tests.conftest import csrf_token_from

SITE = "https://blog.example"
RP_ID = "blog.example"


def b64(data: bytes) -> str:
    return bytes_to_base64url(data)


@dataclasses.dataclass
class SoftKey:
    """A passkey held in memory: what a phone or password manager keeps."""

    user_handle: bytes
    key: ec.EllipticCurvePrivateKey = dataclasses.field(
        default_factory=lambda: ec.generate_private_key(ec.SECP256R1())
    )
    credential_id: bytes = dataclasses.field(
        default_factory=lambda: secrets.token_bytes(16)
    )
    #: The signature counter; 0 means it keeps none (as synced passkeys).
    counter: int = 0
    rp_id: str = RP_ID
    origin: str = SITE

    def _cose_key(self) -> bytes:
        numbers = self.key.public_key().public_numbers()
        return encode_cbor(
            {
                1: 2,  # kty: EC2
                3: -7,  # alg: ES256
                -1: 1,  # crv: P-256
                -2: numbers.x.to_bytes(32, "big"),
                -3: numbers.y.to_bytes(32, "big"),
            }
        )

    def _client_data(self, kind: str, challenge: str, origin: str | None) -> bytes:
        return json.dumps(
            {
                "type": kind,
                "challenge": challenge,
                "origin": origin or self.origin,
                "crossOrigin": False,
            }
        ).encode()

    def _auth_data(self, flags: int, extra: bytes = b"") -> bytes:
        rp_hash = hashlib.sha256(self.rp_id.encode()).digest()
        return rp_hash + bytes([flags]) + self.counter.to_bytes(4, "big") + extra

    def create(self, options: dict, origin: str | None = None) -> dict:
        """The answer to ``navigator.credentials.create(options)``."""
        attested = (
            bytes(16)  # AAGUID: none given
            + len(self.credential_id).to_bytes(2, "big")
            + self.credential_id
            + self._cose_key()
        )
        # UP, UV and AT (attested credential data follows).
        auth_data = self._auth_data(0x01 | 0x04 | 0x40, attested)
        attestation = encode_cbor({"fmt": "none", "attStmt": {}, "authData": auth_data})
        client_data = self._client_data("webauthn.create", options["challenge"], origin)
        return {
            "id": b64(self.credential_id),
            "rawId": b64(self.credential_id),
            "type": "public-key",
            "response": {
                "clientDataJSON": b64(client_data),
                "attestationObject": b64(attestation),
                "transports": ["internal", "hybrid"],
            },
            "clientExtensionResults": {},
        }

    def get(
        self, options: dict, origin: str | None = None, *, grow: bool = True
    ) -> dict:
        """The answer to ``navigator.credentials.get(options)``; the counter
        grows first if it keeps one (``grow=False``: a copied key's)."""
        if self.counter and grow:
            self.counter += 1
        auth_data = self._auth_data(0x01 | 0x04)
        client_data = self._client_data("webauthn.get", options["challenge"], origin)
        signed = auth_data + hashlib.sha256(client_data).digest()
        signature = self.key.sign(signed, ec.ECDSA(hashes.SHA256()))
        return {
            "id": b64(self.credential_id),
            "rawId": b64(self.credential_id),
            "type": "public-key",
            "response": {
                "clientDataJSON": b64(client_data),
                "authenticatorData": b64(auth_data),
                "signature": b64(signature),
                "userHandle": b64(self.user_handle),
            },
            "clientExtensionResults": {},
        }


class Browser:
    """A test client that speaks to the passkey endpoints as passkeys.js does."""

    def __init__(self, client, page="/auth/login"):
        self.client = client
        self.page = page

    def token(self):
        return csrf_token_from(self.client, self.page)

    def post(self, path, body=None, token=None, **kwargs):
        headers = {"X-CSRFToken": token or self.token(), "Accept": "application/json"}
        return self.client.post(
            "/auth/passkey" + path, json=body, headers=headers, **kwargs
        )

    def options(self, ceremony, **body):
        response = self.post(f"/{ceremony}/options", body)
        assert response.status_code == 200, response.get_json()
        return response.get_json()

    def add(self, name="Phone", key=None, **create):
        """Add a passkey (the client is logged in); the key that holds it."""
        self.page = "/auth/account/security"
        options = self.options("register", name=name)
        key = key or SoftKey(user_handle=_b64decode(options["user"]["id"]))
        answer = key.create(options, **create)
        response = self.post("/register", {"name": name, "credential": answer})
        assert response.status_code == 200, response.get_json()
        return key

    def use(self, ceremony, key, *, origin=None, grow=True, **body):
        options = self.options(ceremony)
        answer = key.get(options, origin, grow=grow)
        return self.post(f"/{ceremony}", {"credential": answer, **body})


def _b64decode(text):
    return base64url_to_bytes(text)


@pytest.fixture
def site(app_with):
    app = app_with(SITE_URL=SITE)
    with app.app_context():
        db.session.execute(sa.update(User).values(email=User.username + "@example.org"))
        db.session.commit()
    return app


def logged_in_browser(app, username="test"):
    client = app.test_client()
    assert AuthActions(client).login(username, username).status_code == 302
    return Browser(client, "/auth/account/security")


def mails_to(app, address="test@example.org"):
    with app.app_context():
        return db.session.scalars(
            sa.select(OutboxMail.text_body)
            .where(OutboxMail.recipient == address)
            .order_by(OutboxMail.id)
        ).all()


def passkeys_of(app, username="test"):
    with app.app_context():
        return db.session.scalars(
            sa.select(Passkey)
            .join(User, User.id == Passkey.user_id)
            .where(User.username == username)
            .order_by(Passkey.id)
        ).all()


def logged_in_as(client):
    """The name the account page shows, or ``None`` when not logged in."""
    response = client.get("/auth/account")
    if response.status_code != 200:
        return None
    return response.get_data(as_text=True)


def events(caplog, name):
    """The security events called ``name`` logged so far, as dicts."""
    logged = [
        json.loads(record.getMessage())
        for record in caplog.records
        if record.name == "flaskr.security"
    ]
    return [event for event in logged if event["event"] == name]


def test_a_passkey_is_added_then_logs_in_alone(site, caplog):
    caplog.set_level("INFO", logger="flaskr.security")
    key = logged_in_browser(site).add("Phone")
    [passkey] = passkeys_of(site)
    assert passkey.name == "Phone"
    assert passkey.credential_id == key.credential_id
    assert passkey.transports == "internal,hybrid"
    assert "“Phone” was added" in mails_to(site)[-1]
    assert events(caplog, "second_factor_added")[0]["factor"] == "passkey"

    # Another browser, no name typed: the passkey alone logs in.
    browser = Browser(site.test_client())
    options = browser.options("login")
    assert "allowCredentials" not in options or not options["allowCredentials"]
    assert options["rpId"] == RP_ID
    assert options["userVerification"] == "preferred"
    answer = key.get(options)
    response = browser.post("/login", {"credential": answer, "next": "/about"})
    assert response.status_code == 200, response.get_json()
    assert response.get_json() == {"redirect": "/about"}
    assert logged_in_as(browser.client) is not None
    assert passkeys_of(site)[0].last_used is not None
    assert events(caplog, "login_succeeded")[-1]["method"] == "passkey"
    assert "“Phone” was used to log in" in mails_to(site)[-1]


def test_the_registration_options_want_a_discoverable_passkey(site):
    browser = logged_in_browser(site)
    browser.add("Phone")
    options = browser.options("register", name="Laptop")
    selection = options["authenticatorSelection"]
    assert selection["residentKey"] == "required"
    assert selection["userVerification"] == "preferred"
    # The account's passkeys are not made again on the same device.
    [excluded] = options["excludeCredentials"]
    assert excluded["id"] == b64(passkeys_of(site)[0].credential_id)
    with site.app_context():
        handle = db.session.scalar(
            sa.select(User.webauthn_handle).where(User.username == "test")
        )
    assert options["user"]["id"] == b64(handle)
    assert len(handle) == 32


def test_a_passkey_is_the_second_step_after_the_password(site, caplog):
    caplog.set_level("INFO", logger="flaskr.security")
    key = logged_in_browser(site).add()
    client = site.test_client()
    response = AuthActions(client).login()
    assert response.headers["Location"] == "/auth/login/second-step"
    assert logged_in_as(client) is None

    browser = Browser(client, "/auth/login/second-step")
    options = browser.options("second-step")
    [allowed] = options["allowCredentials"]
    assert allowed["id"] == b64(key.credential_id)
    response = browser.post("/second-step", {"credential": key.get(options)})
    assert response.status_code == 200, response.get_json()
    assert response.get_json() == {"redirect": "/"}
    assert "Where you are logged in" in logged_in_as(client)
    assert "With password and passkey" in logged_in_as(client)
    assert events(caplog, "login_succeeded")[-1]["second_step"] == "passkey"


def test_the_second_step_needs_the_password_first(site):
    key = logged_in_browser(site).add()
    browser = Browser(site.test_client())
    response = browser.post("/second-step/options", {})
    assert response.status_code == 400
    assert "Log in again" in response.get_json()["errors"]["body"][0]
    response = browser.post("/second-step", {"credential": key.get({"challenge": "x"})})
    assert response.status_code == 400
    assert logged_in_as(browser.client) is None


def test_another_accounts_passkey_is_no_second_step(site, caplog):
    caplog.set_level("INFO", logger="flaskr.security")
    logged_in_browser(site).add()
    others = logged_in_browser(site, "other").add("Other's")
    client = site.test_client()
    AuthActions(client).login()
    browser = Browser(client, "/auth/login/second-step")
    response = browser.use("second-step", others)
    assert response.status_code == 422
    assert "not known here" in response.get_json()["errors"]["credential"][0]
    assert logged_in_as(client) is None
    failed = events(caplog, "second_factor_failed")[-1]
    assert failed["reason"] == "another account's passkey"
    assert "A passkey was refused" in mails_to(site)[-1]


def test_a_passkey_confirms_it_is_you(site, caplog):
    caplog.set_level("INFO", logger="flaskr.security")
    browser = logged_in_browser(site)
    key = browser.add()
    browser.page = "/auth/confirm"
    response = browser.use("confirm", key, next="/auth/account")
    assert response.status_code == 200, response.get_json()
    assert response.get_json() == {"redirect": "/auth/account"}
    assert events(caplog, "second_factor_used")[-1]["purpose"] == "confirm"
    # Not logged in: nothing to confirm.
    visitor = Browser(site.test_client())
    assert visitor.post("/confirm/options", {}).status_code == 401


def test_a_passkey_is_a_password_resets_second_step(site):
    key = logged_in_browser(site).add()
    links = []
    with site.app_context():
        request_password_reset("test", lambda token: links.append(token) or "")
    client = site.test_client()
    client.get(f"/auth/reset/{links[0]}")
    browser = Browser(client, "/auth/reset")
    page = client.get("/auth/reset").get_data(as_text=True)
    assert 'data-passkey-way="reset_password_page"' in page

    response = browser.use("reset", key)
    assert response.status_code == 200, response.get_json()
    response = client.post(
        "/auth/reset",
        data={"new_password": "a new long password", "csrf_token": browser.token()},
    )
    assert response.status_code == 302
    assert AuthActions(site.test_client()).login("test", "a new long password").headers[
        "Location"
    ] == ("/auth/login/second-step")


def test_a_reset_without_its_link_gets_no_passkey_options(site):
    browser = Browser(site.test_client())
    assert browser.post("/reset/options", {}).status_code == 400


def test_a_counter_that_does_not_grow_is_refused(site, caplog):
    caplog.set_level("INFO", logger="flaskr.security")
    browser = logged_in_browser(site)
    key = SoftKey(user_handle=b"", counter=5)
    options = browser.options("register", name="Key")
    key.user_handle = _b64decode(options["user"]["id"])
    answer = key.create(options)
    assert (
        browser.post("/register", {"name": "Key", "credential": answer}).status_code
        == 200
    )
    assert passkeys_of(site)[0].sign_count == 5

    visitor = Browser(site.test_client())
    assert visitor.use("login", key).status_code == 200
    assert passkeys_of(site)[0].sign_count == 6
    # A copy of the key answers with the counter it had.
    copied = Browser(site.test_client())
    response = copied.use("login", key, grow=False)
    assert response.status_code == 422
    assert logged_in_as(copied.client) is None
    [event] = events(caplog, "passkey_counter_not_grown")
    assert (event["counter"], event["last"]) == (6, 6)
    assert "A passkey was refused to log in" in mails_to(site)[-1]


def test_a_passkey_without_a_counter_is_used_again(site):
    key = logged_in_browser(site).add()
    for _ in range(2):
        assert Browser(site.test_client()).use("login", key).status_code == 200


def test_another_origin_or_site_is_refused(site, caplog):
    caplog.set_level("INFO", logger="flaskr.security")
    key = logged_in_browser(site).add()
    browser = Browser(site.test_client())
    response = browser.use("login", key, origin="https://blog.example.evil")
    assert response.status_code == 422
    assert logged_in_as(browser.client) is None
    assert "origin" in events(caplog, "second_factor_failed")[-1]["reason"]

    elsewhere = SoftKey(
        user_handle=key.user_handle,
        key=key.key,
        credential_id=key.credential_id,
        rp_id="evil.example",
    )
    assert browser.use("login", elsewhere).status_code == 422
    assert logged_in_as(browser.client) is None


def test_a_passkey_made_for_another_origin_is_not_added(site):
    browser = logged_in_browser(site)
    options = browser.options("register", name="Phone")
    key = SoftKey(user_handle=_b64decode(options["user"]["id"]))
    answer = key.create(options, origin="http://blog.example")
    response = browser.post("/register", {"name": "Phone", "credential": answer})
    assert response.status_code == 422
    assert passkeys_of(site) == []


def test_a_challenge_is_single_use_and_bound_to_its_purpose(site):
    key = logged_in_browser(site).add()
    browser = Browser(site.test_client())
    options = browser.options("login")
    answer = key.get(options)
    assert browser.post("/login", {"credential": answer}).status_code == 200

    # The same answer again: its challenge is spent.
    again = Browser(site.test_client())
    again.options("login")  # a challenge of its own, which the answer is not for
    response = again.post("/login", {"credential": answer})
    assert response.status_code == 422
    response = again.post("/login", {"credential": answer})
    assert response.status_code == 400
    assert "expired or was already answered" in response.get_json()["errors"]["body"][0]
    assert logged_in_as(again.client) is None

    # Signed for another challenge than this browser's.
    third = Browser(site.test_client())
    third.options("login")
    made_up = key.get({"challenge": b64(secrets.token_bytes(32))})
    assert third.post("/login", {"credential": made_up}).status_code == 422
    assert logged_in_as(third.client) is None


def test_a_challenge_of_another_purpose_or_too_old_is_refused(site, monkeypatch):
    key = logged_in_browser(site).add()
    browser = Browser(site.test_client())
    options = browser.options("login")
    # A challenge asked for the confirmation page is not the login's.
    client = site.test_client()
    AuthActions(client).login()
    second = Browser(client, "/auth/login/second-step")
    second.options("second-step")
    assert second.post("/login", {"credential": key.get(options)}).status_code == 400

    monkeypatch.setattr(passkey_pages, "CHALLENGE_LIFETIME", dt.timedelta(seconds=-1))
    options = browser.options("login")
    response = browser.post("/login", {"credential": key.get(options)})
    assert response.status_code == 400
    assert logged_in_as(browser.client) is None


def test_a_removed_passkey_no_longer_logs_in(site, caplog):
    caplog.set_level("INFO", logger="flaskr.security")
    browser = logged_in_browser(site)
    key = browser.add()
    [passkey] = passkeys_of(site)
    response = browser.client.post(
        f"/auth/account/security/passkeys/{passkey.id}/remove",
        data={"csrf_token": browser.token()},
    )
    assert response.status_code == 302
    assert passkeys_of(site) == []
    assert "“Phone” was removed" in mails_to(site)[-1]
    assert events(caplog, "second_factor_removed")[0]["factor"] == "passkey"

    visitor = Browser(site.test_client())
    response = visitor.use("login", key)
    assert response.status_code == 422
    assert "not known here" in response.get_json()["errors"]["credential"][0]
    assert logged_in_as(visitor.client) is None
    assert events(caplog, "passkey_unknown")


def test_a_suspended_account_does_not_log_in_with_its_passkey(site):
    key = logged_in_browser(site).add()
    with site.app_context():
        db.session.execute(
            sa.update(User)
            .where(User.username == "test")
            .values(state=SUSPENDED, state_reason="spam")
        )
        db.session.commit()
    browser = Browser(site.test_client())
    response = browser.use("login", key)
    assert response.status_code == 403
    assert response.get_json()["errors"]["body"] == ["This account is suspended: spam"]
    assert logged_in_as(browser.client) is None


@pytest.mark.parametrize(
    ("name", "message"),
    [("   ", "Give the passkey a name"), ("x" * 61, "at most 60 characters")],
)
def test_a_passkey_needs_a_short_name(site, name, message):
    browser = logged_in_browser(site)
    response = browser.post("/register/options", {"name": name})
    assert response.status_code == 422
    assert message in response.get_json()["errors"]["name"][0]
    # Sent with the answer too, the name is checked again.
    options = browser.options("register", name="Fine")
    answer = SoftKey(user_handle=_b64decode(options["user"]["id"])).create(options)
    response = browser.post("/register", {"name": name, "credential": answer})
    assert response.status_code == 422
    assert passkeys_of(site) == []


def test_a_passkey_is_renamed_by_its_owner_only(site):
    browser = logged_in_browser(site)
    browser.add("Phone")
    [passkey] = passkeys_of(site)
    path = f"/auth/account/security/passkeys/{passkey.id}/rename"
    prefix = f"passkey-{passkey.id}-"
    response = browser.client.post(
        path, data={prefix + "name": "עבודה", prefix + "csrf_token": browser.token()}
    )
    assert response.status_code == 302
    assert passkeys_of(site)[0].name == "עבודה"

    response = browser.client.post(
        path, data={prefix + "name": "x" * 61, prefix + "csrf_token": browser.token()}
    )
    assert response.status_code == 422
    assert "at most 60 characters" in response.get_data(as_text=True)

    other = logged_in_browser(site, "other")
    for action, data in (
        ("rename", {prefix + "name": "Mine", prefix + "csrf_token": other.token()}),
        ("remove", {"csrf_token": other.token()}),
    ):
        response = other.client.post(
            f"/auth/account/security/passkeys/{passkey.id}/{action}", data=data
        )
        assert response.status_code == 422
    assert [p.name for p in passkeys_of(site)] == ["עבודה"]


def test_the_security_page_lists_the_passkeys(site):
    browser = logged_in_browser(site)
    browser.add("Phone")
    browser.add("Work laptop")
    page = browser.client.get("/auth/account/security").get_data(as_text=True)
    assert page.index("Work laptop") < page.index("Phone")
    assert "Not used yet" in page
    assert "data-passkey-add" in page
    assert 'src="/static/passkeys.js"' in page


def test_a_duplicate_credential_is_refused(site):
    browser = logged_in_browser(site)
    key = browser.add("Phone")
    options = browser.options("register", name="Again")
    response = browser.post(
        "/register", {"name": "Again", "credential": key.create(options)}
    )
    assert response.status_code == 422
    assert "already added" in response.get_json()["errors"]["credential"][0]
    assert len(passkeys_of(site)) == 1


@pytest.mark.parametrize(
    "body",
    [
        None,
        [],
        {"credential": 3},
        {"credential": {}},
        {"credential": "not json"},
        {"credential": {"id": "a", "rawId": "a", "type": "public-key"}},
        {
            "credential": {
                "id": "!!",
                "rawId": "!!",
                "type": "public-key",
                "response": {
                    "clientDataJSON": "%%",
                    "authenticatorData": "",
                    "signature": "",
                },
            }
        },
    ],
)
def test_garbage_gets_a_json_4xx(site, body):
    logged_in_browser(site).add()
    browser = Browser(site.test_client())
    browser.options("login")
    response = browser.post("/login", body)
    assert 400 <= response.status_code < 500
    assert response.get_json()["errors"]
    assert logged_in_as(browser.client) is None


def test_garbage_registration_gets_a_json_4xx(site):
    browser = logged_in_browser(site)
    browser.options("register", name="Phone")
    response = browser.post(
        "/register", {"name": "Phone", "credential": {"id": "a", "rawId": "a"}}
    )
    assert response.status_code == 422
    assert passkeys_of(site) == []
    browser.options("register", name="Phone")
    response = browser.client.post(
        "/auth/passkey/register",
        data="not json",
        headers={"X-CSRFToken": browser.token(), "Content-Type": "application/json"},
    )
    assert response.status_code == 400


def test_every_passkey_endpoint_needs_the_csrf_token(site):
    for path in ("/login/options", "/login", "/register/options", "/register"):
        response = site.test_client().post(
            "/auth/passkey" + path, json={}, headers={"Accept": "application/json"}
        )
        assert response.status_code == 400
        assert "expired" in response.get_json()["errors"]["body"][0]


def test_adding_a_passkey_needs_a_login_and_a_fresh_confirmation(site):
    visitor = Browser(site.test_client())
    assert visitor.post("/register/options", {"name": "x"}).status_code == 401
    browser = logged_in_browser(site)
    with browser.client.session_transaction() as session:
        session["confirmed_at"] = 0
    response = browser.post("/register/options", {"name": "Phone"})
    assert response.status_code == 403
    assert "Confirm it is you" in response.get_json()["errors"]["body"][0]


def test_without_a_site_url_passkeys_are_not_offered(app):
    client = app.test_client()
    page = client.get("/auth/login").get_data(as_text=True)
    assert "passkey" not in page.lower()
    browser = Browser(client)
    response = browser.post("/login/options", {})
    assert response.status_code == 409
    assert "SITE_URL" in response.get_json()["errors"]["body"][0]
    security = logged_in_browser(app).client.get("/auth/account/security")
    assert "Passkeys are not offered" in security.get_data(as_text=True)


def test_the_login_page_offers_a_passkey(site):
    page = site.test_client().get("/auth/login?next=/about").get_data(as_text=True)
    assert 'data-passkey-way="login"' in page
    assert 'data-next="/about"' in page
    assert "Log in with a passkey" in page


def test_failed_passkeys_count_toward_the_lockout(app_with):
    app = app_with(
        SITE_URL=SITE, RATELIMIT_ENABLED=True, LOGIN_ACCOUNT_LIMITS="2 per hour"
    )
    key = logged_in_browser(app).add()
    browser = Browser(app.test_client())
    for _ in range(2):
        assert (
            browser.use("login", key, origin="https://evil.example").status_code == 422
        )
    # The right passkey now waits too.
    response = browser.use("login", key)
    assert response.status_code == 429
    assert "Too many failed attempts" in response.get_json()["errors"]["body"][0]
    assert logged_in_as(browser.client) is None


def test_a_site_url_on_an_ip_address_offers_no_passkeys(app_with):
    app = app_with(SITE_URL="http://127.0.0.1:5000")
    page = app.test_client().get("/auth/login").get_data(as_text=True)
    assert "passkey" not in page.lower()
    response = Browser(app.test_client()).post("/login/options", {})
    assert response.status_code == 409


def test_pages_offer_a_passkey_only_to_accounts_with_one(site):
    browser = logged_in_browser(site)
    page = browser.client.get("/auth/confirm").get_data(as_text=True)
    assert "data-passkey-way" not in page
    browser.page = "/auth/confirm"
    response = browser.post("/confirm/options", {})
    assert response.status_code == 422
    assert response.get_json()["errors"]["body"] == ["This account has no passkey."]
    browser.add()
    page = browser.client.get("/auth/confirm").get_data(as_text=True)
    assert 'data-passkey-way="confirm_identity"' in page
    # Another account's password leads to a second step only with a factor.
    client = site.test_client()
    AuthActions(client).login()
    page = client.get("/auth/login/second-step").get_data(as_text=True)
    assert 'data-passkey-way="second_step"' in page


def test_the_verify_endpoints_are_throttled_per_address(app_with):
    app = app_with(
        SITE_URL=SITE, RATELIMIT_ENABLED=True, LOGIN_ADDRESS_LIMITS="2 per minute"
    )
    key = logged_in_browser(app).add()
    browser = Browser(app.test_client())
    for _ in range(2):
        response = browser.use("login", key, origin="https://evil.example")
        assert response.status_code == 422
    response = browser.use("login", key)
    assert response.status_code == 429
    assert response.get_json()["errors"]["body"]
