"""The subscribers pages (a writer's and the administrator's), the import's
errors and the count a writer sees when the site shows no addresses, as
phones, tablets and desktops see them, light and dark: screenshots to look
at, the layout checks of the page sweep and axe-core, with addresses longer
than a phone is wide and a right-to-left writer's name."""

from __future__ import annotations

import json

import pytest
import sqlalchemy as sa
from flask import Flask
from playwright.sync_api import expect
from playwright.sync_api import Page

from flaskr.db import db
from flaskr.db import utcnow
from flaskr.models import Subscriber
from flaskr.models import Subscription
from flaskr.services.accounts import directory
from flaskr.services.accounts import users as accounts
from flaskr.services.base import addresses
from flaskr.services.base import site
from flaskr.services.social import subscriber_links
from tests.browser.helpers import AXE
from tests.browser.helpers import AXE_TAGS
from tests.browser.helpers import log_in
from tests.browser.helpers import PASSWORD
from tests.browser.layout import layout_problems

ADMIN, WRITER = "postmistress", "rtl-newsletter"
WIDTHS = (390, 800, 1024, 1280)
SCHEMES = ("light", "dark")
ADDRESSES = [
    "reader@example.com",
    "a.very.long.local.part.that.keeps.going.and.going.on@"
    "subdomain.of.an.exceedingly.long.domain-name-for-mail.example",
    "withoutanydotsatallbutstillverylongindeedforaphonescreen@example.org",
    "quiet@example.net",
]
BAD_CSV = b"email\nok@example.com\nnot an address\n\nsecond@@bad\n"


@pytest.fixture(scope="module")
def subscribed_site(live_app: Flask):
    """An administrator; a writer with a right-to-left name; subscribers with
    long addresses, confirmed or waiting, of the writer and of the site."""
    with live_app.test_request_context():
        admin = directory.find_user(ADMIN) or accounts.register_user(ADMIN, PASSWORD)
        site.set_admin(admin)
        writer = directory.find_user(WRITER) or accounts.register_user(WRITER, PASSWORD)
        writer.display_name = "كاتبة النشرة البريدية"
        made = []
        for number, address in enumerate(ADDRESSES):
            subscriber = Subscriber(
                email=address,
                email_key=addresses.email_key(address),
                link_key=subscriber_links.new_link_key(),
                confirmed=None if number == 1 else utcnow(),
                cadence="weekly" if number == 2 else "each",
            )
            db.session.add(subscriber)
            db.session.flush()
            made.append(subscriber.id)
            # One that has not confirmed follows nothing yet.
            follows = () if number == 1 else (writer.id, None)
            for author_id in follows if number % 2 else (writer.id,):
                db.session.add(
                    Subscription(subscriber_id=subscriber.id, author_id=author_id)
                )
        db.session.commit()
    yield
    with live_app.test_request_context():
        db.session.execute(sa.delete(Subscriber).where(Subscriber.id.in_(made)))
        site.settings().writers_see_subscribers = False
        site.set_admin(directory.find_user(ADMIN), False)
        db.session.commit()


def _writers_see(live_app: Flask, allowed: bool) -> None:
    with live_app.app_context():
        site.settings().writers_see_subscribers = allowed
        db.session.commit()


def _import_bad_file(page: Page) -> None:
    page.get_by_label("CSV file").set_input_files(
        {"name": "list.csv", "mimeType": "text/csv", "buffer": BAD_CSV}
    )
    page.get_by_role("button", name="Import and mail confirmations").click()
    expect(page.locator(".error").first).to_be_visible()


def _check(page: Page, screenshot, name: str) -> None:
    violations = page.evaluate(
        "tags => axe.run(document, {runOnly: {type: 'tag', values: tags}})"
        ".then(result => result.violations"
        ".map(v => [v.id, v.nodes.map(n => n.target)]))",
        AXE_TAGS,
    )
    problems = layout_problems(page)
    screenshot(page, name)
    assert problems == [], f"{name}: {problems}"
    assert violations == [], f"{name}: {json.dumps(violations)}"


@pytest.mark.parametrize("scheme", SCHEMES)
@pytest.mark.parametrize("width", WIDTHS)
def test_subscriber_pages_fit_every_screen(
    subscribed_site, live_app, new_page, screenshot, width, scheme
):
    page = new_page(viewport={"width": width, "height": 900}, color_scheme=scheme)
    # Not subject to the page's Content-Security-Policy, as a page's own
    # script would be.
    page.context.add_init_script(path=str(AXE))
    log_in(page, ADMIN)
    for name, path in (
        ("admin", "/admin/subscribers"),
        ("own", "/subscribers"),
        ("settings", "/admin"),
    ):
        response = page.goto(path)
        assert response is not None and response.status == 200, path
        _check(page, screenshot, f"{name}-{width}-{scheme}")
    page.goto("/admin/subscribers")
    _import_bad_file(page)
    assert "Line 3:" in page.locator(".error").first.inner_text()
    _check(page, screenshot, f"import-errors-{width}-{scheme}")

    writer = new_page(viewport={"width": width, "height": 900}, color_scheme=scheme)
    writer.context.add_init_script(path=str(AXE))
    log_in(writer, WRITER)
    _writers_see(live_app, False)
    writer.goto("/subscribers")
    expect(writer.locator(".subscriber-counts")).to_be_visible()
    assert ADDRESSES[0] not in writer.content()
    _check(writer, screenshot, f"counts-{width}-{scheme}")
    _writers_see(live_app, True)
    writer.goto("/subscribers")
    expect(writer.locator("bdi", has_text=ADDRESSES[0])).to_be_visible()
    _check(writer, screenshot, f"writer-list-{width}-{scheme}")
    _writers_see(live_app, False)
