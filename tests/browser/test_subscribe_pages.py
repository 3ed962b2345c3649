"""Following by e-mail in a browser: the form on the home, post, author and
Subscribe pages, and the pages its links open, at 390, 800, 1024 and 1280
pixels in both colour schemes, with a long address and a writer whose name
is written right to left. Each page is checked by axe-core and the layout
script, and screenshotted for people to look at."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
import sqlalchemy as sa
from playwright.sync_api import expect

from flaskr.db import db
from flaskr.models import Subscriber
from flaskr.models import Subscription
from flaskr.models import User
from flaskr.services.accounts.passwords import Passwords
from flaskr.services.social import subscriber_links
from tests.browser.helpers import AXE
from tests.browser.helpers import axe_violations
from tests.browser.helpers import log_in
from tests.browser.helpers import PASSWORD
from tests.browser.layout import layout_problems
from tests.conftest import make_post

WIDTHS = (390, 800, 1024, 1280)
SCHEMES = ("light", "dark")
WRITER = "noa"
#: A display name written right to left, long enough to wrap on a phone.
RTL_NAME = "נועה בת־שבע אלמוגי־רוזנטל"
READER = "rafa"
LONG_ADDRESS = (
    "a.reader.with.a.rather.long.name.for.an.address"
    "@mail.an-exceedingly-long-subdomain.example.org"
)


@pytest.fixture(scope="module")
def subscribe_site(live_app):
    """A writer with a right-to-left name and a post, a reader with a confirmed
    address, and a subscriber (with a long address) of the site and the writer."""
    passwords = Passwords(time_cost=1, memory_cost=8, parallelism=1)
    with live_app.app_context():
        if db.session.scalar(sa.select(User).where(User.username == WRITER)):
            pytest.skip("set up by an earlier run in this session")
        writer = User(WRITER, passwords.hash(PASSWORD))
        writer.display_name = RTL_NAME
        reader = User(READER, passwords.hash(PASSWORD))
        reader.role = "reader"
        reader.email, reader.email_key = "rafa@example.org", "rafa@example.org"
        db.session.add_all([writer, reader])
        db.session.flush()
        post = make_post(
            writer.id,
            "שלום: a post to follow by e-mail",
            "A few words.\n\nAnd a second paragraph.",
            published=dt.datetime(2026, 11, 2, tzinfo=dt.UTC),
        )
        db.session.add(post)
        subscriber = Subscriber(
            email=LONG_ADDRESS,
            email_key=LONG_ADDRESS.lower(),
            link_key=subscriber_links.new_link_key(),
            confirmed=dt.datetime.now(dt.UTC),
        )
        db.session.add(subscriber)
        db.session.flush()
        db.session.add(Subscription(subscriber_id=subscriber.id, author_id=None))
        db.session.add(Subscription(subscriber_id=subscriber.id, author_id=writer.id))
        db.session.commit()
        links = {
            purpose: "/subscribe/"
            + purpose
            + "/"
            + subscriber_links.token(subscriber, purpose)
            for purpose in subscriber_links.PURPOSES
        }
        return {"post": f"/{post.id}", "writer_id": writer.id, **links}


def check_and_shoot(page, name, width, screenshot, problems):
    for scheme in SCHEMES:
        page.emulate_media(color_scheme=scheme)
        if scheme == "light" and (wrong := layout_problems(page)):
            problems.append(f"{name} ({width}): {wrong}")
        if violations := axe_violations(page):
            problems.append(f"{name} ({scheme}, {width}): {violations}")
        screenshot(page, f"{name}-{scheme}-{width}")


@pytest.mark.parametrize("width", WIDTHS)
def test_the_follow_form_and_its_pages(
    browser, live_server, live_app, subscribe_site, screenshot, width
):
    if not AXE.exists():
        pytest.fail(f"{AXE} is missing: ./dev.sh browser installs it with npm")
    problems: list[str] = []
    context = browser.new_context(
        base_url=live_server, viewport={"width": width, "height": 844}
    )
    context.add_init_script(Path(AXE).read_text())
    page = context.new_page()

    for name, path in (
        ("home", "/"),
        ("post", subscribe_site["post"]),
        ("author", f"/u/{WRITER}"),
        ("subscribe", "/subscribe"),
    ):
        page.goto(path)
        expect(page.locator(".subscribe-box").first).to_be_visible()
        check_and_shoot(page, name, width, screenshot, problems)

    # A writer's form, sent with a long address: the answer names it whole.
    page.goto(f"/u/{WRITER}")
    page.locator(".subscribe-box").get_by_label("Your e-mail address").fill(
        LONG_ADDRESS
    )
    page.locator(".subscribe-box").get_by_role("button", name="Subscribe").click()
    expect(page.get_by_role("heading", name="Check your inbox")).to_be_visible()
    expect(page.locator(".note")).to_contain_text(LONG_ADDRESS)
    check_and_shoot(page, "sent", width, screenshot, problems)

    # A bad address comes back beside the field, on the Subscribe page.
    page.goto("/subscribe")
    page.locator(".subscribe-box").get_by_label("Your e-mail address").fill("nope")
    page.locator(".subscribe-box").get_by_role("button", name="Subscribe").click()
    expect(page.locator(".subscribe-box .error")).to_contain_text("@-sign")
    check_and_shoot(page, "refused", width, screenshot, problems)

    # The pages the mailed links open.
    page.goto(subscribe_site["confirm"] + f"?follow={subscribe_site['writer_id']}")
    expect(page.get_by_role("heading", name="You are subscribed")).to_be_visible()
    check_and_shoot(page, "confirm-already", width, screenshot, problems)
    page.goto(subscribe_site["confirm"] + "?follow=site")
    check_and_shoot(page, "confirm", width, screenshot, problems)
    page.goto(subscribe_site["manage"])
    expect(page.get_by_label(f"New posts of {RTL_NAME}")).to_be_checked()
    check_and_shoot(page, "manage", width, screenshot, problems)
    page.goto(subscribe_site["unsubscribe"])
    expect(page.get_by_role("button", name="Unsubscribe")).to_be_visible()
    check_and_shoot(page, "unsubscribe", width, screenshot, problems)
    page.goto("/subscribe/unsubscribe/not-a-link")
    check_and_shoot(page, "link-gone", width, screenshot, problems)
    # Leaving forgets the subscriber: one of its own for each width.
    with live_app.app_context():
        leaver = Subscriber(
            email=f"leaver{width}@example.org",
            email_key=f"leaver{width}@example.org",
            link_key=subscriber_links.new_link_key(),
            confirmed=dt.datetime.now(dt.UTC),
        )
        db.session.add(leaver)
        db.session.flush()
        db.session.add(Subscription(subscriber_id=leaver.id, author_id=None))
        db.session.commit()
        leave = subscriber_links.token(leaver, subscriber_links.UNSUBSCRIBE)
    page.goto(f"/subscribe/unsubscribe/{leave}")
    page.get_by_role("button", name="Unsubscribe").click()
    expect(page.get_by_role("heading", name="You are unsubscribed")).to_be_visible()
    check_and_shoot(page, "left", width, screenshot, problems)

    # A logged-in reader with a confirmed address: one button.
    reader = context.new_page()
    log_in(reader, READER)
    reader.goto(f"/u/{WRITER}")
    expect(reader.locator(".subscribe-account")).to_contain_text("rafa@example.org")
    check_and_shoot(reader, "author-logged-in", width, screenshot, problems)
    context.close()
    assert not problems, "\n".join(problems)


def test_confirming_and_leaving_in_a_browser(new_page, live_app, subscribe_site):
    """The whole way, as a reader goes it: ask, confirm, change, leave."""
    page = new_page()
    page.goto("/")
    page.locator(".subscribe-box").get_by_label("Your e-mail address").fill(
        "walker@example.org"
    )
    page.locator(".subscribe-box").get_by_role("button", name="Subscribe").click()
    expect(page.get_by_role("heading", name="Check your inbox")).to_be_visible()
    with live_app.app_context():
        walker = db.session.scalars(
            sa.select(Subscriber).where(Subscriber.email_key == "walker@example.org")
        ).one()
        confirm = subscriber_links.token(walker, subscriber_links.CONFIRM)
    page.goto(f"/subscribe/confirm/{confirm}?follow=site")
    page.get_by_role("button", name="Confirm").click()
    expect(page.get_by_role("heading", name="Your mail preferences")).to_be_visible()
    expect(page.get_by_role("status")).to_contain_text("new posts of")
    page.get_by_label("One mail a week with the week's posts").check()
    page.get_by_role("button", name="Save preferences").click()
    expect(page.get_by_role("status")).to_contain_text("preferences are saved")
    page.get_by_role("button", name="Unsubscribe from everything").click()
    expect(page.get_by_role("heading", name="You are unsubscribed")).to_be_visible()
    with live_app.app_context():
        assert (
            db.session.scalar(
                sa.select(Subscriber).where(
                    Subscriber.email_key == "walker@example.org"
                )
            )
            is None
        )
