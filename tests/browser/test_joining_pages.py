"""Who may join, in the browser: the register page in each mode, the page an
account waiting for approval sees, and the invitations page, at a phone's
and a desktop's width in both colour schemes."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import sqlalchemy as sa
from playwright.sync_api import expect

from flaskr.db import db
from flaskr.models import User
from flaskr.services.accounts import joining
from flaskr.services.accounts import users as accounts
from flaskr.services.base import site
from tests.browser.helpers import log_in
from tests.browser.helpers import PASSWORD
from tests.browser.layout import layout_problems

SIZES = {"390": {"width": 390, "height": 844}, "1280": {"width": 1280, "height": 900}}
LOOKS = [(size, scheme) for size in SIZES for scheme in ("light", "dark")]


@pytest.fixture
def join_mode(live_app):
    """``join_mode(mode)`` sets the live site's mode; open again afterwards."""

    def set_mode(mode: str) -> None:
        with live_app.app_context():
            site.settings().join_mode = mode
            db.session.commit()

    yield set_mode
    set_mode("open")


def _account(live_app, username: str, role: str = "author") -> None:
    with live_app.app_context():
        user = db.session.scalar(sa.select(User).filter_by(username=username))
        if user is None:
            user = accounts.register(username, PASSWORD)
        user.role = role
        db.session.commit()


def _invitation(live_app, admin: str, role: str = "reader") -> str:
    with live_app.app_context():
        actor = db.session.scalars(sa.select(User).filter_by(username=admin)).one()
        return joining.make_invitation(actor, role)[1]


AXE = Path(__file__).parent / "node_modules" / "axe-core" / "axe.min.js"
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"]


def _fits(page) -> None:
    """Whole (``layout_problems``) and accessible (axe-core finds nothing)."""
    assert layout_problems(page) == []
    # Evaluated, not a <script>: the site's CSP refuses inline scripts.
    page.evaluate(AXE.read_text() + "\n;undefined")
    result = page.evaluate(
        "tags => axe.run(document, {runOnly: {type: 'tag', values: tags}})", AXE_TAGS
    )
    assert [v["id"] for v in result["violations"]] == [], result["violations"]


@pytest.mark.parametrize(("size", "scheme"), LOOKS)
def test_the_register_page_in_each_mode(
    new_page, live_app, join_mode, screenshot, size, scheme
):
    _account(live_app, "joinadmin", "admin")
    page = new_page(viewport=SIZES[size], color_scheme=scheme)
    for mode in ("open", "approval", "invitation", "closed"):
        join_mode(mode)
        page.goto("/auth/register")
        if mode in ("open", "approval"):
            expect(page.get_by_role("button", name="Register")).to_be_visible()
            # The honeypot is out of sight, out of the tab order.
            box = page.locator("#homepage").bounding_box()
            assert box is not None and box["x"] + box["width"] < 0
            assert page.locator("#homepage").get_attribute("tabindex") == "-1"
        else:
            expect(page.get_by_role("button", name="Register")).to_have_count(0)
        _fits(page)
        screenshot(page, f"{mode}-{size}-{scheme}")
    join_mode("invitation")
    page.goto(f"/auth/register?invitation={_invitation(live_app, 'joinadmin')}")
    expect(page.get_by_text("You were invited")).to_be_visible()
    screenshot(page, f"invited-{size}-{scheme}")


def test_an_invited_person_registers(new_page, live_app, join_mode):
    _account(live_app, "joinadmin", "admin")
    join_mode("invitation")
    token = _invitation(live_app, "joinadmin", "contributor")
    page = new_page()
    page.goto(f"/auth/register?invitation={token}")
    page.get_by_label("Username").fill("invited")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Register").click()
    expect(page).to_have_url(re.compile(r"/auth/login$"))
    with live_app.app_context():
        user = db.session.scalars(sa.select(User).filter_by(username="invited")).one()
        assert user.role == "contributor"


@pytest.mark.parametrize(("size", "scheme"), LOOKS)
def test_the_waiting_page(new_page, live_app, join_mode, screenshot, size, scheme):
    _account(live_app, "joinadmin", "admin")
    join_mode("approval")
    name = f"waiting{size}{scheme}"
    page = new_page(viewport=SIZES[size], color_scheme=scheme)
    page.goto("/auth/register")
    page.get_by_label("Username").fill(name)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Register").click()
    expect(page.get_by_role("status").first).to_contain_text("waits for approval")
    log_in(page, name)
    expect(page).to_have_url(re.compile(r"/auth/waiting$"))
    page.goto("/create")
    expect(page).to_have_url(re.compile(r"/auth/waiting$"))
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Your account waits for approval"
    )
    _fits(page)
    screenshot(page, f"{size}-{scheme}")


@pytest.mark.parametrize(("size", "scheme"), LOOKS)
def test_the_invitations_page(new_page, live_app, screenshot, size, scheme):
    _account(live_app, "joinadmin", "admin")
    page = new_page(viewport=SIZES[size], color_scheme=scheme)
    log_in(page, "joinadmin")
    page.goto("/admin/invitations")
    page.get_by_label("Role").select_option("contributor")
    page.get_by_label("Days the link works").fill("3")
    page.get_by_role("button", name="Make an invitation link").click()
    link = page.locator("#new-invitation-link").input_value()
    assert "/auth/register?invitation=" in link
    expect(page.get_by_role("button", name="Copy")).to_be_visible()
    expect(
        page.get_by_role("button", name=re.compile("^Withdraw")).first
    ).to_be_visible()
    _fits(page)
    screenshot(page, f"{size}-{scheme}")
    page.goto("/admin")
    expect(page.get_by_role("heading", name="Joining")).to_be_visible()
    if size == "1280" and scheme == "light":
        page.get_by_role("heading", name="Joining").scroll_into_view_if_needed()
        screenshot(page, "settings")
