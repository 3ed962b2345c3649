"""Every page template in a real browser: axe-core finds no violation and the
layout holds (nothing scrolls sideways, the header's items apart, the site's
name whole, no text cut off: tests/browser/layout.py), in the light and dark
schemes, at a phone's width and three desktop ones, with forms in their error
states; a screenshot of each goes to test-artifacts/screenshots/pages/.

axe-core comes from the npm registry (tests/browser/package.json, installed
by ``./dev.sh browser``) and is added to each page as an init script, which
the page's Content-Security-Policy does not apply to. Every rule of WCAG 2.0,
2.1 and 2.2 A and AA and axe's best practices runs; none is switched off.
"""

from __future__ import annotations

import dataclasses
import io
import re
import typing as t
from pathlib import Path

import pyotp
import pytest
import sqlalchemy as sa
from playwright.sync_api import expect
from playwright.sync_api import Page

from flaskr.db import db
from flaskr.models import BlockedDomain
from flaskr.models import Post
from flaskr.models import RemoteActor
from flaskr.models import RemoteFollower
from flaskr.models import RemoteFollowing
from flaskr.models import RemotePost
from flaskr.models import RemoteReply
from flaskr.models.federation import ACCEPTED
from flaskr.models.federation import PENDING
from flaskr.services.accounts import authenticator
from flaskr.services.accounts import directory
from flaskr.services.accounts import recovery
from flaskr.services.accounts import recovery_codes
from flaskr.services.accounts import sessions
from flaskr.services.accounts import users as accounts
from flaskr.services.base import site
from flaskr.services.base.images import process_upload
from flaskr.services.content import held_images
from flaskr.services.content import lifecycle
from flaskr.services.content import media
from flaskr.services.content import writing
from flaskr.services.federation import blocks
from flaskr.services.federation import ids
from flaskr.services.federation import remote_actors
from flaskr.services.federation import replies
from flaskr.services.governance import moderation
from flaskr.services.governance import reports
from flaskr.services.social import follows
from flaskr.services.social import reactions
from tests.browser.conftest import SCREENSHOTS
from tests.browser.helpers import AXE
from tests.browser.helpers import axe_violations
from tests.browser.helpers import log_in
from tests.browser.helpers import PASSWORD
from tests.browser.layout import layout_problems

PAGES = SCREENSHOTS / "pages"
WIDTHS = {
    "390": {"width": 390, "height": 844},
    "800": {"width": 800, "height": 800},
    "1024": {"width": 1024, "height": 800},
    "1280": {"width": 1280, "height": 800},
}
SCHEMES = ("light", "dark")

WRITER, READER = "ada", "ben"
#: A contributor, whose drafts an editor publishes.
CONTRIBUTOR = "cora"
#: An account that waits for approval: it sees the waiting page only.
WAITING = "wren"
#: An account whose login asks for a code from its authenticator app.
GUARDED = "gus"


def png(colour: str = "#3a7bd5") -> io.BytesIO:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (640, 400), colour).save(buffer, "PNG")
    buffer.seek(0)
    return buffer


@dataclasses.dataclass
class Blog:
    """What the pages show, made through the services."""

    post_id: int = 0
    other_post_id: int = 0
    draft_id: int = 0
    comment_id: int = 0
    reset_token: str = ""
    confirm_token: str = ""
    month: str = ""
    rtl_id: int = 0
    long_word_id: int = 0
    pictured_id: int = 0
    submitted_id: int = 0
    reader_id: int = 0
    held_comment_id: int = 0
    report_id: int = 0
    guarded_id: int = 0
    guarded_reset_token: str = ""
    remote_post_id: int = 0
    remote_rtl_id: int = 0


def _fediverse(writer_id: int) -> tuple[int, int]:
    """Remote accounts the writer follows (one still waiting, with a long
    handle), their posts (a long word, a right-to-left note) and a reply:
    rows as the federation services keep them, without a network."""
    uri = "https://typography.example/users/nora"
    actor = db.session.scalars(
        sa.select(RemoteActor).where(RemoteActor.uri == uri)
    ).first()
    if actor is None:
        long_uri = "https://a-very-long-server-name-for-a-small-club.example/users/x"
        actor, waiting = (
            RemoteActor(
                uri=address,
                domain=address.split("/")[2],
                inbox=address + "/inbox",
                username=username,
                name=name,
                profile_url=address,
                key_id=address + "#main-key",
                public_key_pem="-",
            )
            for address, username, name in (
                (uri, "nora", "Nora Lindqvist"),
                (long_uri, "Supercalifragilistic" * 4, "רותם כהן"),
            )
        )
        db.session.add_all([actor, waiting])
        db.session.flush()
        db.session.add_all(
            [
                RemoteFollowing(
                    user_id=writer_id, actor_id=actor.id, state=ACCEPTED, follow_id="f1"
                ),
                RemoteFollowing(
                    user_id=writer_id,
                    actor_id=waiting.id,
                    state=PENDING,
                    follow_id="f2",
                ),
            ]
        )
        posts = [
            RemotePost(
                actor_id=actor.id,
                uri=f"{uri}/posts/{number}",
                url=f"https://typography.example/@nora/{number}",
                title=title,
                content_html=html,
            )
            for number, (title, html) in enumerate(
                [
                    (
                        "Kerning " + "Typographically" * 6 + " by hand",
                        "<p>Letters need room to breathe. A long word: "
                        + "x" * 100
                        + '.</p><blockquote><p>A quote.</p></blockquote><p><a href="'
                        "https://typography.example/a/very/long/link/that/goes/on/and/on"
                        '">A link</a></p>',
                    ),
                    ("", "<p>שורה קצרה בעברית, מימין לשמאל, עם מילה באנגלית: CSS.</p>"),
                ]
            )
        ]
        db.session.add_all(posts)
        db.session.flush()
        db.session.add(
            RemoteReply(
                user_id=writer_id,
                remote_post_id=posts[0].id,
                body="A *fine* point.",
                body_html="<p>A <em>fine</em> point.</p>",
            )
        )
        db.session.commit()
    found = db.session.scalars(
        sa.select(RemotePost.id)
        .where(RemotePost.actor_id == actor.id)
        .order_by(RemotePost.id)
    ).all()
    return found[0], found[1]


def fediverse_replies(post: Post) -> None:
    """Replies to ``post`` from the fediverse: one by an author with a long
    handle, one with a right-to-left name, one the links rule holds; and a
    like and a boost. Built as the inbox would pass them on (no fetch: the
    actors are written as kept)."""
    far = "https://a-much-longer-instance-name.social.example.org"
    long_name = RemoteActor(
        uri=f"{far}/users/a_very_long_username_from_far_away",
        domain=remote_actors.domain_of(far),
        inbox=f"{far}/inbox",
        username="a_very_long_username_from_far_away",
        name="Margaret Hamilton-Lovelace",
        profile_url=f"{far}/@a_very_long_username_from_far_away",
        icon_url=f"{far}/avatar.png",
        key_id=f"{far}/users/long#main-key",
        public_key_pem="-",
    )
    rtl = RemoteActor(
        uri="https://mastodon.example/users/noa",
        domain="mastodon.example",
        inbox="https://mastodon.example/inbox",
        username="noa",
        name="נועה כהן",
        profile_url="https://mastodon.example/@noa",
        key_id="https://mastodon.example/users/noa#main-key",
        public_key_pem="-",
    )
    db.session.add_all([long_name, rtl])
    db.session.commit()
    mention = (
        '<span class="h-card"><a href="http://localhost/@ada" class="u-url'
        ' mention">@<span>ada</span></a></span>'
    )
    for number, (remote, content) in enumerate(
        [
            (long_name, f"<p>{mention} Thank you: the table of sizes helps.</p>"),
            (rtl, "<p>תודה רבה! המאמר הזה עזר לי מאוד.</p>"),
            (
                rtl,
                "<p>Cheap fonts: https://a.example https://b.example"
                " https://c.example</p>",
            ),
        ]
    ):
        note = {
            "id": f"{remote.uri}/statuses/{number}",
            "type": "Note",
            "attributedTo": remote.uri,
            "inReplyTo": ids.article(post.id),
            "content": content,
            "url": f"{remote.profile_url}/{number}",
        }
        activity = {"type": "Create", "actor": remote.uri, "object": note}
        replies.receive_note(remote, activity)
        reaction = {"id": f"{remote.uri}/likes/{number}", "object": note["inReplyTo"]}
        replies.receive_like(remote, reaction)
    replies.receive_announce(
        rtl, {"id": f"{rtl.uri}/boosts/1", "object": ids.article(post.id)}
    )


@pytest.fixture(scope="module")
def blog(live_app, live_server) -> t.Iterator[Blog]:
    made = Blog()
    # The fediverse pages exist on a site with an address to federate from.
    site_url = live_app.config["SITE_URL"]
    live_app.config["SITE_URL"] = live_server
    with live_app.test_request_context():
        writer = directory.find_user(WRITER) or accounts.register_user(WRITER, PASSWORD)
        reader = directory.find_user(READER) or accounts.register_user(READER, PASSWORD)
        site.set_admin(writer)
        waiting = directory.find_user(WAITING) or accounts.register_user(
            WAITING, PASSWORD
        )
        waiting.state = "pending"
        db.session.commit()
        site.update_identity(
            "Notes from the lab",
            "Short notes on tools, typesetting and the web, written by a small team.",
            "We write about **what we build** and what we learn on the way.",
        )
        body = (
            "Typesetting on the web is a craft of small decisions. A measure of"
            " sixty to seventy-five characters keeps the eye on track, and generous"
            " leading lets long paragraphs breathe without falling apart.\n\n"
            "## Code and quotes\n\n> A quotation set with a coloured bar.\n\n"
            "```python\ndef measure(text):\n    return len(text)\n```\n\n"
            "| Size | Use |\n|---|---|\n| 17 | body |\n| 40 | titles |\n"
        )
        first = writing.create_post(
            writer,
            "On measure and rhythm",
            body,
            tags=["typography", "design"],
            publish=True,
            summary="Why a line of sixty-five characters reads best.",
        )
        second = writing.create_post(
            writer,
            "Colour that keeps its contrast",
            body,
            tags=["design"],
            publish=True,
        )
        # An edit of a few words, for the history's word-level comparison.
        edited = body.replace("a craft of small decisions", "a craft of many decisions")
        writing.update_post(
            second.author,
            second,
            second.title,
            edited + "\nOne more line.",
            tags=["design"],
        )
        made.post_id, made.other_post_id = second.id, first.id
        draft = writing.create_post(
            writer, "A draft in progress", "Not yet.", tags=[], publish=False
        )
        made.draft_id = draft.id
        contributor = directory.find_user(CONTRIBUTOR) or accounts.register_user(
            CONTRIBUTOR, PASSWORD
        )
        contributor.role = "contributor"
        made.submitted_id = writing.create_post(
            contributor,
            "Notes from a first week of letterpress printing",
            body,
            tags=["typography"],
            publish=True,  # a contributor's: submitted for review
        ).id
        trashed = writing.create_post(
            writer, "Gone to the trash", "Bye.", tags=[], publish=True
        )
        lifecycle.move_to_trash(trashed.author, trashed)
        comment = reactions.add_comment(
            second, reader, "A *fine* point, well made.", post_link="/"
        )
        made.comment_id = comment.id
        made.reader_id = reader.id
        # A comment the links rule holds, and a report: the queue's two parts.
        made.held_comment_id = reactions.add_comment(
            first,
            reader,
            "Prices: https://a.example https://b.example https://c.example",
            post_link="/",
        ).id
        fediverse_replies(first)
        made.report_id = reports.report(
            reader, "post", first.id, "It copies a photo from my blog."
        ).id
        # Scripts and lengths a page must survive: a right-to-left post, a
        # title with a 100-character word, and (newest) a post with a cover
        # picture, which leads the front page.
        made.rtl_id = writing.create_post(
            writer,
            "מדריך קצר לטיפוגרפיה בעברית",
            "## כותרת משנה\n\nשורה ראשונה של טקסט בעברית, עם מילה באנגלית: CSS."
            " הטקסט נקרא מימין לשמאל, והפסקה כולה מיושרת לימין.\n\n"
            "> ציטוט קצר בעברית.\n",
            tags=["עברית", "design"],
            publish=True,
            summary="סיכום קצר של הפוסט, גם הוא מימין לשמאל.",
        ).id
        made.long_word_id = writing.create_post(
            writer,
            "A title with " + "Supercalifragilistic" * 5 + " in it",
            "A body with a long word: " + "x" * 100 + ".",
            tags=["design"],
            publish=True,
        ).id
        held = held_images.hold_image(
            writer, process_upload(png("#c0563b"), max_bytes=10**7, max_pixels=10**8)
        )
        made.pictured_id = writing.create_post(
            writer,
            "A cover picture runs wider than the text",
            body,
            tags=["design"],
            publish=True,
            image=writing.ImageChange(held=held, alt="A field of terracotta red"),
            summary="The newest post with a picture leads the front page.",
        ).id
        reactions.set_like(reader, second, liked=True)
        follows.follow(reader, writer)
        sessions.issue_api_token(writer.id, "Conduit/1.0 (an API client)")
        media.add_picture(
            writer,
            process_upload(png(), max_bytes=10**7, max_pixels=10**8),
            "A blue field",
        )
        for colour, alt in (
            ("#d9822b", "Proofs of the new type specimen pinned to the studio wall"),
            ("#2b9d8f", "שולחן עבודה עם מחברת ועט"),
        ):
            media.add_picture(
                writer,
                process_upload(png(colour), max_bytes=10**7, max_pixels=10**8),
                alt,
            )
        sessions.issue_named_api_token(writer.id, "Backup script on the home server")
        writer.email = "ada@example.com"
        writer.email_key = recovery.email_key(writer.email)
        db.session.commit()
        tokens: list[str] = []
        recovery.request_password_reset(
            WRITER, lambda token: tokens.append(token) or ""
        )
        recovery.request_email_change(
            reader, "ben@example.com", lambda token: tokens.append(token) or ""
        )
        made.reset_token, made.confirm_token = tokens
        guarded = directory.find_user(GUARDED) or accounts.register_user(
            GUARDED, PASSWORD
        )
        if authenticator.confirmed_app(guarded) is None:
            setup = authenticator.begin_setup(guarded)
            authenticator.confirm_setup(guarded, pyotp.TOTP(setup.secret).now())
            recovery_codes.make_new(guarded)
        guarded.email = "gus@example.com"
        guarded.email_key = recovery.email_key(guarded.email)
        db.session.commit()
        recovery.request_password_reset(
            GUARDED, lambda token: tokens.append(token) or ""
        )
        made.guarded_id, made.guarded_reset_token = guarded.id, tokens[-1]
        made.remote_post_id, made.remote_rtl_id = _fediverse(writer.id)
        recovery_codes.make_new(writer)
        assert second.published is not None
        made.month = f"{second.published.year}/{second.published.month}"
        add_fediverse_followers(writer)
    yield made
    # The other browser tests share the site: give it back as it was.
    with live_app.test_request_context():
        writer = directory.find_user(WRITER)
        # The moderation queue's own test counts what waits.
        moderation.decide_comments(
            writer, [made.held_comment_id], "reject", post_link="/"
        )
        reports.resolve_report(writer, made.report_id, "dismiss")
        for remote in db.session.scalars(sa.select(RemoteActor)).all():
            replies.forget_actor(remote)
        site.update_identity("", "", "")
        for row in blocks.blocked_domains():
            blocks.unblock_domain(writer, row.domain)
        db.session.execute(sa.delete(RemoteActor))
        db.session.commit()
        site.set_admin(writer, False)
    live_app.config["SITE_URL"] = site_url


def add_fediverse_followers(writer) -> None:
    """Followers from elsewhere, waiting and accepted, with long handles and
    right-to-left names; and blocked servers, one with a long name."""
    people = [
        ("mira", "social.example", "מירה לוי", "pending"),
        (
            "a_very_long_username_of_a_fediverse_account",
            "mastodon.example",
            "",
            "pending",
        ),
        ("noor", "ar.social.example", "نور الهدى", "accepted"),
        (
            "typographer",
            "a-community-server-with-a-long-name.fediverse.example",
            "Typographer at a community server",
            "accepted",
        ),
        ("sam", "pixel.example", "Sam", "accepted"),
    ]
    for username, domain, name, state in people:
        uri = f"https://{domain}/users/{username}"
        if db.session.scalar(sa.select(RemoteActor.id).where(RemoteActor.uri == uri)):
            continue
        actor = RemoteActor(
            uri=uri,
            domain=domain,
            inbox=f"{uri}/inbox",
            username=username,
            name=name,
            profile_url=f"https://{domain}/@{username}",
            key_id=f"{uri}#main-key",
            public_key_pem="(not used)",
        )
        db.session.add(actor)
        db.session.flush()
        db.session.add(
            RemoteFollower(
                user_id=writer.id, actor_id=actor.id, state=state, follow_id=f"{uri}#f"
            )
        )
    db.session.commit()
    for domain, reason in (
        ("spam.example", "Sends spam replies to every post"),
        ("a-server-with-a-very-long-domain-name.instances.example", "שרת ספאם"),
        ("quiet.example", ""),
    ):
        if db.session.get(BlockedDomain, domain) is None:
            blocks.block_domain(writer, domain, reason)


def submit_empty(button: str) -> t.Callable[[Page], None]:
    """Send a form as it stands, to show its errors."""

    def act(page: Page) -> None:
        page.get_by_role("button", name=button, exact=True).first.click()
        expect(page.locator(".error").first).to_be_visible()

    return act


def clear_and_submit(label: str, button: str) -> t.Callable[[Page], None]:
    def act(page: Page) -> None:
        page.get_by_label(label, exact=True).fill("")
        page.get_by_role("button", name=button, exact=True).first.click()
        expect(page.locator(".error").first).to_be_visible()

    return act


def ask_for_reset(page: Page) -> None:
    page.locator("main form input:not([type=hidden])").first.fill(READER)
    page.get_by_role("button", name="Mail me a link").click()
    expect(page.locator("h1")).to_be_visible()


def account_errors(page: Page) -> None:
    page.locator("#rename-username").fill("")
    page.get_by_role("button", name="Change username").click()
    expect(page.locator(".error").first).to_be_visible()


def make_api_token(page: Page) -> None:
    # One name per width: the site, and the tokens made, last the module.
    width = page.viewport_size["width"] if page.viewport_size else 0
    page.locator("#token-name").fill(f"Reading app on a {width} px screen")
    page.get_by_role("button", name="Make a token").click()
    expect(page.locator("#new-token-value")).to_be_visible()


def no_app_setup(page: Page) -> None:
    """The security page as it first looks: no set-up left from another width."""
    cancel = page.get_by_role("button", name="Cancel the set-up")
    if cancel.count():
        cancel.click()
    expect(
        page.get_by_role("button", name="Set up an authenticator app")
    ).to_be_visible()


def begin_app_setup(page: Page) -> None:
    no_app_setup(page)
    page.get_by_role("button", name="Set up an authenticator app").click()
    expect(page.locator(".qr-code svg")).to_be_visible()


def wrong_app_code(page: Page) -> None:
    begin_app_setup(page)
    page.get_by_label("Code the app shows").fill("000000")
    page.get_by_role("button", name="Turn on").click()
    expect(page.locator(".error").first).to_be_visible()


def make_recovery_codes(page: Page) -> None:
    page.get_by_role("button", name="Make new recovery codes").click()
    expect(page.locator(".recovery-codes li")).to_have_count(10)


def to_second_step(page: Page) -> None:
    page.get_by_label("Username").fill(GUARDED)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="Second step")).to_be_visible()


def wrong_second_step(page: Page) -> None:
    to_second_step(page)
    page.get_by_label("Code", exact=True).fill("123456")
    page.get_by_role("button", name="Continue").click()
    expect(page.locator(".error").first).to_be_visible()


def admin_errors(page: Page) -> None:
    page.get_by_label("Description", exact=True).evaluate(
        "field => field.removeAttribute('maxlength')"
    )
    page.get_by_label("Description", exact=True).fill("much to say " * 40)
    page.get_by_role("button", name="Save settings").click()
    expect(page.locator(".error").first).to_be_visible()


@dataclasses.dataclass(frozen=True)
class Screen:
    name: str
    path: str
    user: str | None = None
    act: t.Callable[[Page], None] | None = None
    status: int = 200


def screens(blog: Blog) -> list[Screen]:
    return [
        Screen("index", "/"),
        Screen("index-logged-in", "/", WRITER),
        Screen("post", f"/{blog.post_id}"),
        Screen("post-logged-in", f"/{blog.post_id}", READER),
        Screen(
            "post-comment-error",
            f"/{blog.post_id}",
            READER,
            submit_empty("Post comment"),
        ),
        Screen("post-draft", f"/{blog.draft_id}", WRITER),
        Screen("post-rtl", f"/{blog.rtl_id}"),
        Screen("post-fediverse", f"/{blog.other_post_id}"),
        Screen("post-long-word", f"/{blog.long_word_id}"),
        Screen("post-pictured", f"/{blog.pictured_id}"),
        Screen("subscribe", "/subscribe"),
        Screen("tag", "/tag/design"),
        Screen("tags", "/tags"),
        Screen("archive", "/archive"),
        Screen("archive-month", f"/archive/{blog.month}"),
        Screen("author", f"/u/{WRITER}"),
        Screen("likes", f"/u/{READER}/likes"),
        Screen("author-logged-in", f"/u/{WRITER}", READER),
        Screen("following", "/following", READER),
        Screen("fediverse-following", "/fediverse/following", WRITER),
        Screen(
            "fediverse-follow-errors",
            "/fediverse/following",
            WRITER,
            submit_empty("Follow"),
        ),
        Screen("fediverse-following-reader", "/fediverse/following", READER),
        Screen("fediverse-post", f"/fediverse/posts/{blog.remote_post_id}", WRITER),
        Screen("fediverse-post-rtl", f"/fediverse/posts/{blog.remote_rtl_id}", WRITER),
        Screen(
            "fediverse-reply-errors",
            f"/fediverse/posts/{blog.remote_post_id}",
            WRITER,
            submit_empty("Send reply"),
        ),
        Screen("followers", f"/u/{WRITER}/followers"),
        Screen("about", "/about"),
        Screen("search", "/search"),
        Screen("search-results", "/search?q=measure"),
        Screen("search-none", "/search?q=xylophone"),
        Screen("not-found", "/no/such/page", status=404),
        Screen("register", "/auth/register"),
        Screen("register-errors", "/auth/register", act=submit_empty("Register")),
        Screen("login", "/auth/login"),
        Screen("login-errors", "/auth/login", act=submit_empty("Log in")),
        Screen("forgot", "/auth/forgot"),
        Screen("forgot-errors", "/auth/forgot", act=submit_empty("Mail me a link")),
        Screen("forgot-sent", "/auth/forgot", act=ask_for_reset),
        Screen("reset-invalid", "/auth/reset/not-a-token", status=400),
        Screen("reset", f"/auth/reset/{blog.reset_token}"),
        Screen(
            "reset-errors",
            f"/auth/reset/{blog.reset_token}",
            act=submit_empty("Set the new password"),
        ),
        Screen("confirm-email", f"/auth/confirm-email/{blog.confirm_token}", READER),
        Screen("logout", "/auth/logout", WRITER),
        Screen("account", "/auth/account", WRITER),
        Screen("account-errors", "/auth/account", WRITER, account_errors),
        Screen("account-new-token", "/auth/account", WRITER, make_api_token),
        Screen("security", "/auth/account/security", WRITER, no_app_setup),
        Screen("security-app", "/auth/account/security", WRITER, begin_app_setup),
        Screen("security-errors", "/auth/account/security", WRITER, wrong_app_code),
        Screen("recovery-codes", "/auth/account/security", WRITER, make_recovery_codes),
        Screen("confirm-identity", "/auth/confirm", WRITER),
        Screen("second-step", "/auth/login", act=to_second_step),
        Screen("second-step-errors", "/auth/login", act=wrong_second_step),
        Screen("reset-guarded", f"/auth/reset/{blog.guarded_reset_token}"),
        Screen("user-factors", f"/admin/users/{blog.guarded_id}", WRITER),
        Screen("create", "/create", WRITER),
        Screen(
            "create-errors", "/create", WRITER, clear_and_submit("Title", "Publish")
        ),
        Screen("update", f"/{blog.post_id}/update", WRITER),
        Screen(
            "update-errors",
            f"/{blog.post_id}/update",
            WRITER,
            clear_and_submit("Title", "Save"),
        ),
        Screen("delete", f"/{blog.post_id}/delete", WRITER),
        Screen("history", f"/{blog.post_id}/history", WRITER),
        Screen("update-for-review", f"/{blog.submitted_id}/update", WRITER),
        Screen("update-submitted", f"/{blog.submitted_id}/update", CONTRIBUTOR),
        Screen("create-contributor", "/create", CONTRIBUTOR),
        Screen("review", "/review", WRITER),
        Screen("drafts", "/drafts", WRITER),
        Screen("trash", "/trash", WRITER),
        Screen("library", "/images", WRITER),
        Screen("subscribers", "/subscribers", WRITER),
        Screen("admin-subscribers", "/admin/subscribers", WRITER),
        Screen("edit-comment", f"/comments/{blog.comment_id}/edit", READER),
        Screen(
            "edit-comment-errors",
            f"/comments/{blog.comment_id}/edit",
            READER,
            clear_and_submit("Your comment", "Save comment"),
        ),
        Screen("admin", "/admin", WRITER),
        Screen("admin-errors", "/admin", WRITER, admin_errors),
        Screen("invitations", "/admin/invitations", WRITER),
        Screen("admin-federation", "/admin/federation", WRITER),
        Screen(
            "admin-federation-errors",
            "/admin/federation",
            WRITER,
            submit_empty("Block"),
        ),
        Screen("fediverse-followers", "/fediverse/followers", WRITER),
        Screen("users", "/admin/users", WRITER),
        Screen("user", f"/admin/users/{blog.reader_id}", WRITER),
        Screen("remove-user", f"/admin/users/{blog.reader_id}/remove", WRITER),
        Screen("audit", "/admin/audit", WRITER),
        Screen("moderation", "/moderation", WRITER),
        Screen("report", f"/report/post/{blog.post_id}", READER),
        Screen("waiting", "/auth/waiting", WAITING),
    ]


@pytest.fixture(scope="module")
def axe_source() -> str:
    if not AXE.exists():
        pytest.fail(f"{AXE} is missing: ./dev.sh browser installs it with npm")
    return AXE.read_text()


@pytest.mark.parametrize("width", WIDTHS)
def test_every_page_is_accessible_and_whole(
    browser, live_server, blog, axe_source, width
):
    PAGES.mkdir(parents=True, exist_ok=True)
    found: dict[str, str] = {}
    broken: dict[str, list[str]] = {}
    contexts: dict[str | None, t.Any] = {}
    for screen in screens(blog):
        if screen.user not in contexts:
            context = browser.new_context(base_url=live_server, viewport=WIDTHS[width])
            context.add_init_script(axe_source)
            if screen.user is not None:
                log_in(context.new_page(), screen.user)
            contexts[screen.user] = context
        page = contexts[screen.user].new_page()
        for scheme in SCHEMES:
            page.emulate_media(color_scheme=scheme)
            if scheme == "light" or screen.act is None:
                response = page.goto(screen.path)
                assert response is not None
                assert response.status in (screen.status, 422), screen.name
                if screen.act is not None:
                    screen.act(page)
            page.wait_for_load_state("load")
            if problems := axe_violations(page):
                found[f"{screen.name} ({scheme}, {width})"] = problems
            # The layout is the same in both schemes: measured once.
            if scheme == "light" and (wrong := layout_problems(page)):
                broken[f"{screen.name} ({width})"] = wrong
            page.screenshot(
                path=PAGES / f"{screen.name}-{scheme}-{width}.png", full_page=True
            )
        page.close()
    for context in contexts.values():
        context.close()
    assert not found, "\n".join(f"{name}: {text}" for name, text in found.items())
    assert not broken, "\n".join(f"{name}: {text}" for name, text in broken.items())


def test_screenshots_cover_every_page_template(blog):
    """Each page template is among the screens above (mail and feed templates
    are not pages; ``base`` and partials are in every page)."""
    templates = Path(__file__).parents[2] / "src" / "flaskr" / "templates"
    pages = {
        str(path.relative_to(templates))
        for path in templates.rglob("*.html")
        if not path.name.startswith("_")
        and path.parts[-2] not in ("mail",)
        and path.name != "base.html"
    }
    shown = {
        "auth/register.html": "register",
        "auth/login.html": "login",
        "auth/forgot.html": "forgot",
        "auth/forgot_sent.html": "forgot-sent",
        "auth/reset.html": "reset",
        "auth/link_invalid.html": "reset-invalid",
        "auth/confirm_email.html": "confirm-email",
        "auth/logout.html": "logout",
        "auth/account.html": "account",
        "auth/security.html": "security",
        "auth/recovery_codes.html": "recovery-codes",
        "auth/confirm_identity.html": "confirm-identity",
        "auth/second_step.html": "second-step",
        "blog/index.html": "index",
        "blog/post.html": "post",
        "blog/tag.html": "tag",
        "blog/tags.html": "tags",
        "blog/archive.html": "archive",
        "blog/archive_month.html": "archive-month",
        "blog/author.html": "author",
        "blog/likes.html": "likes",
        "blog/following.html": "following",
        "blog/people.html": "followers",
        "fediverse/following.html": "fediverse-following",
        "fediverse/post.html": "fediverse-post",
        "blog/about.html": "about",
        "blog/subscribe.html": "subscribe",
        "blog/search.html": "search",
        "blog/create.html": "create",
        "blog/update.html": "update",
        "blog/delete.html": "delete",
        "blog/history.html": "history",
        "blog/drafts.html": "drafts",
        "blog/review.html": "review",
        "blog/trash.html": "trash",
        "blog/library.html": "library",
        "blog/subscribers.html": "subscribers",
        "blog/edit_comment.html": "edit-comment",
        "admin/settings.html": "admin",
        "admin/invitations.html": "invitations",
        "admin/federation.html": "admin-federation",
        "fediverse/followers.html": "fediverse-followers",
        "admin/users.html": "users",
        "admin/user.html": "user",
        "admin/remove_user.html": "remove-user",
        "admin/audit.html": "audit",
        "blog/moderation.html": "moderation",
        "blog/report.html": "report",
        "auth/waiting.html": "waiting",
        "errors/error.html": "not-found",
    }
    # The pages a subscriber's mailed links open need a subscriber each (and
    # leaving forgets it): test_subscribe_pages.py runs the same axe and
    # layout checks on them at every width, in both schemes.
    checked_with_the_follow_form = {
        "blog/subscribe_sent.html",
        "blog/subscribe_confirm.html",
        "blog/subscribe_manage.html",
        "blog/subscribe_unsubscribe.html",
        "blog/subscribe_left.html",
        "blog/subscribe_link_invalid.html",
    }
    assert checked_with_the_follow_form <= pages
    pages -= checked_with_the_follow_form
    assert pages == set(shown), "a page template has no screen: add it to screens()"
    names = {screen.name for screen in screens(blog)}
    assert set(shown.values()) <= names
    assert re.fullmatch(r"\d+/\d+", blog.month)
