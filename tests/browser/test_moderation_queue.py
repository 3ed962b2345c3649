"""A moderator walks the moderation queue: a held comment approved, a
spammer's comment marked spam (the new account suspended), a report
resolved; screenshots at 390 and 1280 px, light and dark."""

import re

import sqlalchemy as sa
from playwright.sync_api import expect

from flaskr.db import db
from flaskr.models import User
from flaskr.services.base import site
from tests.browser.helpers import log_in
from tests.browser.helpers import register_and_log_in
from tests.conftest import make_post

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}


def _set_up(live_app):
    """A published post by ``mq_writer``, the ``words`` rule holding
    "casino", and ``mq_moderator`` made an editor."""
    with live_app.app_context():
        users = {
            user.username: user
            for user in db.session.scalars(
                sa.select(User).where(User.username.like("mq_%"))
            )
        }
        users["mq_moderator"].role = "editor"
        post = make_post(
            users["mq_writer"].id,
            "A quiet harbour at dawn",
            "Boats, gulls and a long, slow tide.",
        )
        db.session.add(post)
        row = site.settings()
        row.hold_rules = "words,links"
        row.hold_words = "casino"
        db.session.commit()
        return post.id


def _restore(live_app):
    with live_app.app_context():
        row = site.settings()
        row.hold_rules = None
        row.hold_words = ""
        db.session.commit()


def test_a_moderator_walks_the_queue(new_page, screenshot, live_app):
    pages = {}
    for name in ("mq_writer", "mq_reader", "mq_spammer", "mq_moderator"):
        pages[name] = new_page(viewport=DESKTOP)
        register_and_log_in(pages[name], name)
    post_id = _set_up(live_app)
    try:
        reader = pages["mq_reader"]
        reader.goto(f"/{post_id}")
        reader.get_by_label("Your comment").fill("Is the casino by the harbour open?")
        reader.get_by_role("button", name="Post comment").click()
        expect(reader.get_by_role("status")).to_contain_text("waits for a moderator")
        expect(reader.locator(".comments")).to_contain_text("Awaiting moderation")
        screenshot(reader, "1-held-for-its-writer")
        reader.get_by_role("link", name="Report this post").click()
        reader.get_by_label("What is wrong with it?").fill(
            "It copies a photo from my own blog."
        )
        reader.get_by_role("button", name="Send report").click()
        expect(reader.get_by_role("status")).to_contain_text("the moderators will look")

        spammer = pages["mq_spammer"]
        spammer.goto(f"/{post_id}")
        spammer.get_by_label("Your comment").fill(
            "Best casino: https://a.example https://b.example https://c.example"
        )
        spammer.get_by_role("button", name="Post comment").click()
        expect(spammer.get_by_role("status")).to_contain_text("waits for a moderator")

        visitor = new_page(viewport=DESKTOP)
        visitor.goto(f"/{post_id}")
        expect(visitor.locator("#comments")).not_to_contain_text("casino")

        moderator = pages["mq_moderator"]
        moderator.goto("/moderation")
        expect(
            moderator.get_by_role("heading", name="Held comments (2)")
        ).to_be_visible()
        expect(moderator.get_by_role("heading", name="Reports (1)")).to_be_visible()
        expect(moderator.locator("#held-form")).to_contain_text("3 links (more than 2)")
        screenshot(moderator, "2-queue-1280-light")
        for scheme in ("light", "dark"):
            for width, viewport in (("390", PHONE), ("1280", DESKTOP)):
                if (scheme, width) == ("light", "1280"):
                    continue
                look = new_page(viewport=viewport, color_scheme=scheme)
                log_in(look, "mq_moderator")
                look.goto("/moderation")
                expect(look.get_by_role("heading", name="Moderation")).to_be_visible()
                wide = look.evaluate(
                    "document.documentElement.scrollWidth > window.innerWidth"
                )
                assert not wide, f"the queue scrolls sideways at {width} px"
                screenshot(look, f"3-queue-{width}-{scheme}")

        held = moderator.locator(".queue-item")
        held.filter(has_text="by the harbour open").get_by_role("checkbox").check()
        moderator.get_by_role("button", name="Approve chosen").click()
        expect(moderator.get_by_role("status")).to_contain_text("1 comment approved.")

        moderator.locator(".queue-item").filter(has_text="Best casino").get_by_role(
            "checkbox"
        ).check()
        moderator.get_by_role("button", name="Mark chosen as spam").click()
        expect(moderator.get_by_role("status")).to_contain_text(
            "mq_spammer is suspended as a spammer"
        )

        moderator.get_by_role("button", name="Dismiss this report").click()
        expect(moderator.get_by_role("status")).to_contain_text(
            "The report is resolved: dismissed."
        )
        expect(moderator.get_by_text("No comment waits.")).to_be_visible()
        expect(moderator.get_by_text("No report is open.")).to_be_visible()
        screenshot(moderator, "4-queue-empty")

        visitor.goto(f"/{post_id}")
        expect(visitor.locator("#comments")).to_contain_text("by the harbour open")
        expect(visitor.locator("#comments")).not_to_contain_text("Best casino")
        expect(
            visitor.get_by_role("heading", name=re.compile(r"Comments \(1\)"))
        ).to_be_visible()
        screenshot(visitor, "5-approved-for-readers")
        with live_app.app_context():
            db.session.scalars(
                sa.select(User).filter_by(username="mq_moderator")
            ).one().role = "admin"
            db.session.commit()
        for scheme in ("light", "dark"):
            settings = new_page(viewport=PHONE, color_scheme=scheme)
            log_in(settings, "mq_moderator")
            settings.goto("/admin")
            section = settings.get_by_role("region", name="Comments")
            section.get_by_label("Members who have published a post").check()
            section.get_by_label("An account's first comment").check()
            section.get_by_role("button", name="Save comment settings").click()
            expect(settings.get_by_role("status")).to_contain_text(
                "The comment settings are saved."
            )
            expect(
                section.get_by_label("Members who have published a post")
            ).to_be_checked()
            screenshot(settings, f"6-settings-390-{scheme}")
    finally:
        _restore(live_app)
        with live_app.app_context():
            site.settings().comment_policy = "anyone"
            db.session.commit()
