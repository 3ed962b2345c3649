"""The newsletter as people see it: the editor's "Do not mail" box in the
post settings, and the mail itself in a browser's width (a phone, a desk)."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from playwright.sync_api import expect

from flaskr.db import db
from flaskr.models import OutboxMail
from flaskr.models import Subscriber
from flaskr.models import Subscription
from flaskr.models.subscribers import WEEKLY
from flaskr.services.content import writing
from flaskr.services.event_handlers import deliver_due_events
from flaskr.services.social import subscriber_links
from flaskr.services.social.newsletter import send_weekly_digests
from tests.browser.helpers import AXE
from tests.browser.helpers import axe_violations
from tests.browser.helpers import register_and_log_in
from tests.helpers import add_user

WIDTHS = [390, 800, 1024, 1280]


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("width", WIDTHS)
def test_the_do_not_mail_box_sits_in_the_post_settings(
    new_page, screenshot, width, scheme
):
    page = new_page(viewport={"width": width, "height": 900}, color_scheme=scheme)
    page.context.add_init_script(AXE.read_text())
    register_and_log_in(page, f"quiet{width}{scheme}")
    page.goto("/create")
    expect(page.locator("form.editor-live")).to_be_attached()
    page.get_by_text("Post settings").click()
    box = page.get_by_label("Do not mail this post to subscribers")
    expect(box).to_be_visible()
    box.check()
    box.scroll_into_view_if_needed()
    screenshot(page, f"{width}-{scheme}")
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    assert not (found := axe_violations(page)), found


def test_the_mail_reads_well_on_a_phone_and_a_desk(live_app, new_page, screenshot):
    with live_app.app_context():
        writer = add_user("ruth")
        reader = Subscriber(
            email="reader@example.org",
            email_key="reader@example.org",
            link_key=subscriber_links.new_link_key(),
            confirmed=writer.created,
        )
        db.session.add(reader)
        db.session.flush()
        db.session.add(Subscription(subscriber_id=reader.id, author_id=None))
        db.session.commit()
        body = (
            "The first warm day of the year, and the bread finally rose.\n\n"
            "## What changed\n\n> Patience, mostly.\n\n"
            "- flour\n- water\n- salt\n\n"
            "```\nbake 40 min at 230 °C\n```\n\n"
            "Read [the recipe](/p/bread) or [elsewhere](https://example.org/)."
        )
        writing.create_post(
            writer, "A loaf worth waiting for", body, tags=[], publish=True
        )
        deliver_due_events()
        mail = db.session.scalars(
            db.select(OutboxMail).where(OutboxMail.recipient == "reader@example.org")
        ).one()
        html = mail.html_body
        # weekly since a month ago: its week is over
        reader.cadence = WEEKLY
        reader.confirmed = writer.created - dt.timedelta(days=30)
        writing.create_post(
            writer, "Second loaf", "Rye, this time.", tags=[], publish=True
        )
        deliver_due_events()
        send_weekly_digests()
        digest = db.session.scalars(
            db.select(OutboxMail)
            .where(OutboxMail.recipient == "reader@example.org")
            .order_by(OutboxMail.id.desc())
        ).first()
        assert digest is not None and digest.subject == "Flaskr: 1 new post this week"
        digest_html = digest.html_body
    assert re.search(r"<style", html) is None
    for name, content in (("mail", html), ("digest", digest_html)):
        for width in (390, 1280):
            page = new_page(viewport={"width": width, "height": 900})
            page.set_content(content)
            screenshot(page, f"{name}-{width}")
            assert page.evaluate("document.documentElement.scrollWidth") <= width
