"""Passkeys end to end in Chromium, with its virtual authenticator (the
DevTools protocol's ``WebAuthn`` domain) standing in for a phone.

WebAuthn needs a domain for its relying party: ``127.0.0.1`` is none. The
site runs on 127.0.0.1 with ``SITE_URL=http://localhost:PORT``, and
Chromium reaches ``localhost`` on the loopback itself (``http://localhost``
is a secure context). A second server on another port, the same app and
database, plays a site on another origin than ``SITE_URL``.
"""

from __future__ import annotations

import re
import threading
import typing as t

import pytest
from playwright.sync_api import Browser
from playwright.sync_api import CDPSession
from playwright.sync_api import expect
from playwright.sync_api import Page
from werkzeug.serving import make_server

from flaskr import create_app
from flaskr.db import db
from flaskr.schema import init_db
from tests.browser.helpers import AXE
from tests.browser.helpers import axe_violations
from tests.browser.helpers import open_account_menu
from tests.browser.helpers import PASSWORD
from tests.browser.helpers import register_and_log_in
from tests.browser.layout import layout_problems
from tests.conftest import make_config
from tests.helpers import free_port

WIDTHS = (390, 800, 1024, 1280)


class PasskeySite(t.NamedTuple):
    url: str
    #: The same site served at another origin than its ``SITE_URL``.
    other_origin: str


@pytest.fixture(scope="module")
def passkey_site(tmp_path_factory: pytest.TempPathFactory) -> t.Iterator[PasskeySite]:
    port, other_port = free_port(), free_port()
    folder = tmp_path_factory.mktemp("passkey-site")
    app = create_app(
        make_config(
            f"sqlite:///{folder / 'flaskr.sqlite'}",
            SITE_URL=f"http://localhost:{port}",
        )
    )
    with app.app_context():
        init_db()
        db.engine.dispose()
    servers = [
        make_server("127.0.0.1", each, app, threaded=True)
        for each in (port, other_port)
    ]
    threads = [threading.Thread(target=s.serve_forever, daemon=True) for s in servers]
    for thread in threads:
        thread.start()
    yield PasskeySite(f"http://localhost:{port}", f"http://localhost:{other_port}")
    for server, thread in zip(servers, threads, strict=True):
        server.shutdown()
        thread.join()


@pytest.fixture
def site_page(
    browser: Browser, passkey_site: PasskeySite
) -> t.Iterator[t.Callable[..., Page]]:
    contexts = []

    def open_page(**options: t.Any) -> Page:
        context = browser.new_context(base_url=passkey_site.url, **options)
        contexts.append(context)
        return context.new_page()

    yield open_page
    for context in contexts:
        context.close()


#: A phone's: it keeps discoverable passkeys and unlocks with a fingerprint
#: that always matches; the person is always there to touch it.
AUTHENTICATOR = {
    "protocol": "ctap2",
    "transport": "internal",
    "hasResidentKey": True,
    "hasUserVerification": True,
    "isUserVerified": True,
    "automaticPresenceSimulation": True,
}

#: Chromium's virtual authenticator answers a conditional request (the
#: username field's suggestions) at once, as if the person chose its
#: passkey: tests of the buttons turn the suggestions off.
NO_SUGGESTIONS = "PublicKeyCredential.isConditionalMediationAvailable = undefined;"


def virtual_authenticator(
    page: Page, *, suggestions: bool = False
) -> tuple[CDPSession, str]:
    """A platform authenticator that keeps discoverable passkeys and verifies
    its user (a fingerprint that always matches), for ``page``; the DevTools
    session and the authenticator's id."""
    if not suggestions:
        page.add_init_script(NO_SUGGESTIONS)
    cdp = page.context.new_cdp_session(page)
    cdp.send("WebAuthn.enable")
    added = cdp.send("WebAuthn.addVirtualAuthenticator", {"options": AUTHENTICATOR})
    return cdp, added["authenticatorId"]


def add_passkey(page: Page, name: str) -> None:
    page.goto("/auth/account/security")
    page.get_by_label("Name of a new passkey").fill(name)
    page.get_by_role("button", name="Add a passkey").click()


def log_out(page: Page) -> None:
    open_account_menu(page)
    page.get_by_role("button", name="Log out", exact=True).click()
    expect(page.get_by_role("status")).to_contain_text("logged out")


def expect_logged_in(page: Page, username: str) -> None:
    expect(page.get_by_text(f"Logged in as {username}")).to_be_attached()


def password_first_step(page: Page, username: str) -> None:
    page.goto("/auth/login")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in", exact=True).click()
    expect(page).to_have_url(re.compile(r"/auth/login/second-step$"))


def test_passkeys_add_log_in_alone_and_as_second_step(
    site_page: t.Callable[..., Page],
) -> None:
    page = site_page()
    cdp, authenticator = virtual_authenticator(page)
    register_and_log_in(page, "keyholder")

    add_passkey(page, "Phone")
    # The first factor brings the recovery codes, shown once.
    expect(page.get_by_role("heading", level=1)).to_contain_text("recovery codes")
    page.goto("/auth/account/security")
    passkeys = page.locator(".passkey-entry")
    expect(passkeys).to_have_count(1)
    expect(passkeys.first).to_contain_text("Phone")
    expect(passkeys.first).to_contain_text("Not used yet")
    [credential] = cdp.send(
        "WebAuthn.getCredentials", {"authenticatorId": authenticator}
    )["credentials"]
    assert credential["isResidentCredential"]

    # The passkey alone: no username typed.
    log_out(page)
    page.goto("/auth/login")
    page.get_by_role("button", name="Log in with a passkey").click()
    expect_logged_in(page, "keyholder")
    expect(page).to_have_url(re.compile(r"/$"))

    # As the second step after the password.
    log_out(page)
    password_first_step(page, "keyholder")
    page.get_by_role("button", name="Use a passkey").click()
    expect_logged_in(page, "keyholder")
    page.goto("/auth/account")
    expect(page.get_by_text("With password and passkey")).to_be_visible()


def test_a_passkey_confirms_it_is_you(site_page: t.Callable[..., Page]) -> None:
    page = site_page()
    virtual_authenticator(page)
    register_and_log_in(page, "confirmer")
    add_passkey(page, "Phone")
    expect(page.get_by_role("heading", level=1)).to_contain_text("recovery codes")
    page.goto("/auth/confirm?next=/auth/account")
    page.get_by_role("button", name="Confirm with a passkey").click()
    expect(page).to_have_url(re.compile(r"^[^?]*/auth/account$"))
    page.goto("/auth/account/security")
    expect(page.locator(".passkey-entry")).to_contain_text("Last used")


def test_the_username_field_suggests_the_passkey(
    site_page: t.Callable[..., Page],
) -> None:
    page = site_page()
    virtual_authenticator(page, suggestions=True)
    register_and_log_in(page, "suggested")
    add_passkey(page, "Phone")
    expect(page.get_by_role("heading", level=1)).to_contain_text("recovery codes")
    log_out(page)
    page.goto("/auth/login")
    # The virtual authenticator picks its passkey from the suggestions at once.
    expect_logged_in(page, "suggested")


def test_a_removed_passkey_and_another_origin_are_refused(
    site_page: t.Callable[..., Page],
    passkey_site: PasskeySite,
    screenshot: t.Callable[[Page, str], None],
) -> None:
    page = site_page()
    virtual_authenticator(page)
    register_and_log_in(page, "remover")
    add_passkey(page, "Laptop")
    expect(page.get_by_role("heading", level=1)).to_contain_text("recovery codes")

    # The same site at another origin than SITE_URL: the browser signs for
    # that origin, and the server refuses it.
    log_out(page)
    page.goto(passkey_site.other_origin + "/auth/login")
    page.get_by_role("button", name="Log in with a passkey").click()
    status = page.locator(".passkey-way .passkey-status")
    expect(status).to_contain_text("not accepted")
    expect(page.get_by_text("Logged in as remover")).not_to_be_attached()

    # Removed, the passkey the authenticator still holds logs in no more.
    page.goto(passkey_site.url + "/auth/login")
    page.get_by_role("button", name="Log in with a passkey").click()
    expect_logged_in(page, "remover")
    page.goto("/auth/account/security")
    page.get_by_text("Rename or remove").click()
    page.get_by_role("button", name="Remove this passkey").click()
    expect(page.get_by_role("status")).to_contain_text("is removed")
    expect(page.locator(".passkey-entry")).to_have_count(0)
    log_out(page)
    page.goto("/auth/login")
    page.get_by_role("button", name="Log in with a passkey").click()
    expect(page.locator(".passkey-way .passkey-status")).to_contain_text(
        "not known here"
    )
    screenshot(page, "removed-passkey-refused")
    expect(page.get_by_text("Logged in as remover")).not_to_be_attached()


def test_passkey_pages_look_right(
    site_page: t.Callable[..., Page], screenshot: t.Callable[[Page, str], None]
) -> None:
    if not AXE.exists():
        pytest.fail(f"{AXE} is missing: ./dev.sh browser installs it with npm")
    page = site_page()
    page.context.add_init_script(AXE.read_text())
    cdp, authenticator = virtual_authenticator(page)
    register_and_log_in(page, "looker")
    long_name = "A passkey with a long name, kept in the family password safe"
    assert len(long_name) == 60
    add_passkey(page, long_name)
    expect(page.get_by_role("heading", level=1)).to_contain_text("recovery codes")
    # A second device: the first one holds a passkey of this account already.
    cdp.send("WebAuthn.removeVirtualAuthenticator", {"authenticatorId": authenticator})
    cdp.send("WebAuthn.addVirtualAuthenticator", {"options": AUTHENTICATOR})
    add_passkey(page, "המחשב הנייד בעבודה")
    expect(page.locator(".passkey-entry")).to_have_count(2)
    for scheme in ("light", "dark"):
        page.emulate_media(color_scheme=scheme)
        for width in WIDTHS:
            page.set_viewport_size({"width": width, "height": 900})
            page.goto("/auth/account/security#passkeys")
            expect(page.locator(".passkey-entry")).to_have_count(2)
            _whole_and_accessible(page)
            screenshot(page, f"security-{width}-{scheme}")
    page.get_by_text("Rename or remove").first.click()
    expect(page.get_by_role("button", name="Rename")).to_be_visible()
    _whole_and_accessible(page)
    screenshot(page, "security-rename-1280-dark")
    page.set_viewport_size({"width": 390, "height": 900})
    screenshot(page, "security-rename-390-dark")
    page.emulate_media(color_scheme="light")
    page.set_viewport_size({"width": 1280, "height": 900})
    log_out(page)
    visitor = site_page()
    visitor.context.add_init_script(AXE.read_text())
    for scheme in ("light", "dark"):
        visitor.emulate_media(color_scheme=scheme)
        for width in WIDTHS:
            visitor.set_viewport_size({"width": width, "height": 900})
            visitor.goto("/auth/login")
            expect(
                visitor.get_by_role("button", name="Log in with a passkey")
            ).to_be_visible()
            _whole_and_accessible(visitor)
            screenshot(visitor, f"login-{width}-{scheme}")
    for scheme in ("light", "dark"):
        page.emulate_media(color_scheme=scheme)
        for width in WIDTHS:
            page.set_viewport_size({"width": width, "height": 900})
            password_first_step(page, "looker")
            expect(page.get_by_role("button", name="Use a passkey")).to_be_visible()
            _whole_and_accessible(page)
            screenshot(page, f"second-step-{width}-{scheme}")


def _no_sideways_scroll(page: Page) -> None:
    assert page.evaluate(
        "document.documentElement.scrollWidth <= document.documentElement.clientWidth"
    )


def _whole_and_accessible(page: Page) -> None:
    """No axe-core violation (the sweep's rules) and no broken layout."""
    _no_sideways_scroll(page)
    assert not (found := axe_violations(page)), found
    assert not (wrong := layout_problems(page)), wrong
