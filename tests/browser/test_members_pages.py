"""The users page, an account's page, the removal confirmation and the audit
log, as phones, tablets and desktops see them, light and dark: screenshots
to look at, and the layout checks of the page sweep (nothing scrolls
sideways, no text is cut off), with long and right-to-left names."""

from __future__ import annotations

import pytest
from flask import Flask
from playwright.sync_api import Page

from flaskr.db import db
from flaskr.services.accounts import directory
from flaskr.services.accounts import users as accounts
from flaskr.services.base import site
from flaskr.services.content import writing
from flaskr.services.governance import members
from tests.browser.helpers import log_in
from tests.browser.helpers import PASSWORD
from tests.browser.layout import layout_problems

ADMIN = "warden"
WIDTHS = (390, 800, 1280)
SCHEMES = ("light", "dark")


@pytest.fixture(scope="module")
def governed_site(live_app: Flask):
    """An administrator, a writer with posts and a comment, a long name, a
    right-to-left name, a suspended account and one waiting for approval."""
    with live_app.test_request_context():
        admin = directory.find_user(ADMIN) or accounts.register_user(ADMIN, PASSWORD)
        site.set_admin(admin)
        made = {}
        for name, display in (
            ("rtl-writer", "كاتبة المقالات الطويلة جدا في المدونة"),
            ("averyveryverylongusernamewithoutbreaks1", None),
            ("suspended-one", "Suspended One"),
            ("waiting-one", None),
        ):
            user = directory.find_user(name) or accounts.register_user(name, PASSWORD)
            user.display_name = display
            made[name] = user
        db.session.commit()
        writer = made["rtl-writer"]
        for number in range(3):
            writing.create_post(
                writer, f"مقال رقم {number}", "نص.", tags=["عربي"], publish=True
            )
        if made["suspended-one"].state == "active":
            members.suspend(admin, made["suspended-one"], "Posting the same link.")
        waiting = made["waiting-one"]
        waiting.state = "pending"
        db.session.commit()
        members.change_role(admin, writer, "editor")
        ids = {name: user.id for name, user in made.items()}
    yield ids
    with live_app.test_request_context():
        site.set_admin(directory.find_user(ADMIN), False)


def _check(page: Page, screenshot, name: str) -> None:
    problems = layout_problems(page)
    screenshot(page, name)
    assert problems == [], f"{name}: {problems}"


@pytest.mark.parametrize("scheme", SCHEMES)
@pytest.mark.parametrize("width", WIDTHS)
def test_members_pages_fit_every_screen(
    governed_site, new_page, screenshot, width, scheme
):
    page = new_page(viewport={"width": width, "height": 900}, color_scheme=scheme)
    log_in(page, ADMIN)
    writer = governed_site["rtl-writer"]
    for name, path in (
        ("users", "/admin/users"),
        ("user", f"/admin/users/{writer}"),
        ("remove", f"/admin/users/{writer}/remove"),
        ("audit", "/admin/audit"),
        ("suspended", f"/admin/users/{governed_site['suspended-one']}"),
    ):
        response = page.goto(path)
        assert response is not None and response.status == 200, path
        _check(page, screenshot, f"{name}-{width}-{scheme}")
