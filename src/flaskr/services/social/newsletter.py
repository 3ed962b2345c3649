"""New posts by mail to their subscribers: a mail for each post, or a digest.

:func:`mail_subscribers_about_post` handles :data:`POST_PUBLISHED` on the
event line, so it runs when a post comes out: at once, or when a scheduled
post's time comes (the line drops an event whose post moved off its time).
It writes, ``NEWSLETTER_BATCH`` subscribers per transaction, one row of the
``post_mailing`` ledger for each subscriber of the post's writer or the site
(one row even for one who follows both), and in the same transaction the
outbox mail that row names. The ledger's primary key is what makes a post
mailed once per subscriber: a fan-out killed half-way, run again by the
line after its lease, or run twice at once by two servers, inserts
``ON CONFLICT DO NOTHING`` and writes mail only for the rows it inserted.
A post published again after being taken back, or edited, finds everyone
in the ledger already.

Subscribers who chose the weekly digest get a ledger row without a mail;
:func:`send_weekly_digests` later gathers those rows into one mail.

Each mail is rendered once per post (CSS inlined with ``css-inline``,
addresses made absolute), then given each subscriber's own links; it
carries no tracking picture and its links are the post's own.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import secrets
import typing as t

import sqlalchemy as sa
from flask import current_app
from markupsafe import escape

from flaskr.db import affected_rows
from flaskr.db import db
from flaskr.db import insert_for_dialect
from flaskr.db import utcnow
from flaskr.models import Event
from flaskr.models import OutboxMail
from flaskr.models import Post
from flaskr.models import PostMailing
from flaskr.models import Subscriber
from flaskr.models import Subscription
from flaskr.models import User
from flaskr.models.governance import ACTIVE
from flaskr.models.subscribers import EACH_POST
from flaskr.models.subscribers import WEEKLY
from flaskr.services.base.mail import add_mail
from flaskr.services.base.mail import site_title
from flaskr.services.base.markdown import with_absolute_addresses
from flaskr.services.content.rules import slug_problem
from flaskr.services.social import subscriber_links

#: How often a weekly subscriber gets a digest at most.
DIGEST_EVERY = dt.timedelta(days=7)
#: Posts one digest lists at most (the newest); the rest are on the site.
DIGEST_POSTS = 20

#: RFC 8058: a mail client may unsubscribe with one POST, no page between.
ONE_CLICK = "List-Unsubscribe=One-Click"


def _site_url() -> str:
    return str(
        current_app.config["SITE_URL"] or subscriber_links.DEVELOPMENT_SITE_URL
    ).rstrip("/")


def post_address(post: Post) -> str:
    """The post's page on ``SITE_URL``, as ``web.post_links`` makes it (the
    handlers run without a request, so the paths are written out here)."""
    if post.slug and slug_problem(post.slug) is None:
        return f"{_site_url()}/p/{post.slug}"
    return f"{_site_url()}/{post.id}"


def _mailable(post: Post | None) -> t.TypeGuard[Post]:
    """Whether ``post`` is out for readers now and its writer lets it be
    mailed: published (not a draft, not still to come), not in the trash,
    not withheld, and its writer, if any, not suspended or removed."""
    return (
        post is not None
        and post.mail_subscribers
        and post.published is not None
        and post.published <= utcnow()
        and post.deleted is None
        and not post.withheld
        and (post.author is None or post.author.state == ACTIVE)
    )


def _subscribers_of(post: Post) -> sa.Select[Subscriber]:
    """The confirmed subscribers who follow ``post``'s writer or the site, each
    once, by id, who were not mailed it yet; none whose account is withdrawn."""
    follows = sa.select(Subscription.id).where(
        Subscription.subscriber_id == Subscriber.id,
        sa.or_(
            Subscription.author_id.is_(None),
            Subscription.author_id == post.author_id
            if post.author_id is not None
            else sa.false(),
        ),
    )
    mailed = sa.select(PostMailing.post_id).where(
        PostMailing.post_id == post.id, PostMailing.subscriber_id == Subscriber.id
    )
    return (
        sa.select(Subscriber)
        .outerjoin(User, User.id == Subscriber.user_id)
        .where(
            Subscriber.confirmed.is_not(None),
            sa.or_(Subscriber.user_id.is_(None), User.state == ACTIVE),
            sa.exists(follows),
            ~sa.exists(mailed),
        )
        .order_by(Subscriber.id)
    )


@dataclasses.dataclass(frozen=True)
class _Written:
    """A mail rendered once, with a stand-in for each subscriber's links."""

    subject: str
    text_body: str
    html_body: str
    #: Stand-ins, unique to this rendering so no post text can hold them.
    manage: str
    unsubscribe: str

    def for_subscriber(self, subscriber: Subscriber) -> dict[str, t.Any]:
        """What :func:`add_mail` takes to send it to ``subscriber``."""
        manage = subscriber_links.link(subscriber, subscriber_links.MANAGE)
        leave = subscriber_links.link(subscriber, subscriber_links.UNSUBSCRIBE)

        def personal(text: str) -> str:
            # Links are URL-safe (signed tokens): nothing to escape in HTML.
            return text.replace(self.manage, manage).replace(self.unsubscribe, leave)

        return {
            "subject": self.subject,
            "text_body": personal(self.text_body),
            "html_body": personal(self.html_body),
            "headers": {
                "List-Unsubscribe": f"<{leave}>",
                "List-Unsubscribe-Post": ONE_CLICK,
            },
        }


def _inlined(html: str) -> str:
    """``html`` with its ``<style>`` moved into ``style`` attributes: many mail
    programs drop a style sheet."""
    # Imported here: only mail needs css_inline, and a worker that never
    # sends a newsletter or notice never loads it.
    import css_inline

    inliner = css_inline.CSSInliner(load_remote_stylesheets=False)
    return inliner.inline(html)


def _mail_post(post: Post) -> dict[str, t.Any]:
    """What the templates need of one post, addresses absolute."""
    site = _site_url()
    html = post.body_html
    if post.image is not None:
        picture = f"/images/{post.image.id}.webp"
        html = f'<p><img src="{picture}" alt="{escape(post.image.alt)}"></p>{html}'
    writer = post.author.shown_name if post.author is not None else ""
    return {
        "title": post.title,
        "writer": writer,
        "published": post.published,
        "link": post_address(post),
        "body_html": with_absolute_addresses(html, site),
        "body_text": post.body,
        "excerpt": post.excerpt,
    }


def _write(template: str, **context: t.Any) -> _Written:
    nonce = secrets.token_hex(8)
    manage = f"{_site_url()}/subscribe/manage/MANAGE-{nonce}"
    unsubscribe = f"{_site_url()}/subscribe/unsubscribe/LEAVE-{nonce}"
    env = current_app.jinja_env
    context.update(
        site_url=_site_url(),
        site_title=site_title(),
        manage_link=manage,
        unsubscribe_link=unsubscribe,
    )
    subject = env.get_template(f"mail/{template}.subject").render(**context)
    return _Written(
        subject=subject,
        text_body=env.get_template(f"mail/{template}.txt").render(**context),
        html_body=_inlined(env.get_template(f"mail/{template}.html").render(**context)),
        manage=manage,
        unsubscribe=unsubscribe,
    )


def mail_subscribers_about_post(event: Event) -> None:
    """Handle :data:`POST_PUBLISHED`: give each subscriber of the post's
    writer or the site the post once, by mail or in their next digest.

    Commits every ``NEWSLETTER_BATCH`` subscribers (each batch whole or not
    at all), so a run killed half-way resumes where it stopped; the event
    line commits the last. Stops as soon as the post is no longer out.
    """
    post = db.session.get(Post, event.post_id) if event.post_id else None
    if not _mailable(post):
        return  # a draft again, trashed, withheld, or not to be mailed
    post_id = post.id
    written = _write("new_post", post=_mail_post(post))
    batch = max(1, int(current_app.config["NEWSLETTER_BATCH"]))
    after = 0
    while True:
        subscribers = db.session.scalars(
            _subscribers_of(post).where(Subscriber.id > after).limit(batch)
        ).all()
        if not subscribers:
            return
        _mail_batch(post_id, subscribers, written)
        if len(subscribers) < batch:
            return
        after = subscribers[-1].id
        db.session.commit()
        post = db.session.get(Post, post_id)
        if not _mailable(post):
            return  # taken back while it was being sent: mail no more


def _mail_batch(
    post_id: int, subscribers: t.Sequence[Subscriber], written: _Written
) -> None:
    """Write the ledger rows of ``subscribers`` for the post, and a mail for
    each row this transaction inserted (another process may hold the rest)."""
    now = utcnow()
    inserted = set(
        db.session.scalars(
            insert_for_dialect(PostMailing)
            .values(
                [
                    {"post_id": post_id, "subscriber_id": s.id, "created": now}
                    for s in subscribers
                ]
            )
            .on_conflict_do_nothing()
            .returning(PostMailing.subscriber_id)
        )
    )
    mails: list[tuple[int, OutboxMail]] = []
    for subscriber in subscribers:
        if subscriber.id in inserted and subscriber.cadence == EACH_POST:
            mail = add_mail(subscriber.email, **written.for_subscriber(subscriber))
            mails.append((subscriber.id, mail))
    if not mails:
        return
    db.session.flush()
    db.session.execute(
        sa.update(PostMailing),
        [
            {"post_id": post_id, "subscriber_id": subscriber_id, "mail_id": mail.id}
            for subscriber_id, mail in mails
        ],
    )


def _digests_due(cutoff: dt.datetime) -> sa.Select[Subscriber]:
    waiting = sa.select(PostMailing.post_id).where(
        PostMailing.subscriber_id == Subscriber.id, PostMailing.mail_id.is_(None)
    )
    return (
        sa.select(Subscriber)
        .outerjoin(User, User.id == Subscriber.user_id)
        .where(
            Subscriber.cadence == WEEKLY,
            Subscriber.confirmed.is_not(None),
            sa.or_(Subscriber.user_id.is_(None), User.state == ACTIVE),
            sa.func.coalesce(Subscriber.last_digest, Subscriber.confirmed) <= cutoff,
            sa.exists(waiting),
        )
        .order_by(Subscriber.id)
    )


def send_weekly_digests() -> int:
    """Mail each weekly subscriber whose week is over the posts waiting for
    them (still out), in one digest; commit a batch at a time and return how
    many digests were written. Safe in any number of processes at once: each
    digest first claims its subscriber's week with a conditional update."""
    batch = max(1, int(current_app.config["NEWSLETTER_BATCH"]))
    written = 0
    after = 0
    while True:
        now = utcnow()
        cutoff = now - DIGEST_EVERY
        subscribers = db.session.scalars(
            _digests_due(cutoff).where(Subscriber.id > after).limit(batch)
        ).all()
        if not subscribers:
            db.session.rollback()
            return written
        for subscriber in subscribers:
            written += _digest_for(subscriber, now, cutoff)
        after = subscribers[-1].id
        db.session.commit()


def send_waiting_digest(subscriber: Subscriber) -> int:
    """Mail ``subscriber`` the posts waiting for its digest now, whatever day
    of its week it is (it stops taking digests); the caller commits. 1 if a
    digest was written."""
    now = utcnow()
    return _digest_for(subscriber, now, now)


def _digest_for(subscriber: Subscriber, now: dt.datetime, cutoff: dt.datetime) -> int:
    """Write one subscriber's digest (the caller commits); 1 if written."""
    rows = db.session.execute(
        sa.select(PostMailing.post_id, Post)
        .join(Post, Post.id == PostMailing.post_id)
        .where(
            PostMailing.subscriber_id == subscriber.id, PostMailing.mail_id.is_(None)
        )
        .order_by(Post.published.desc(), Post.id.desc())
    ).all()
    posts = [post for _, post in rows if _mailable(post)]
    if not posts:
        return 0
    claimed = db.session.execute(
        sa.update(Subscriber)
        .where(
            Subscriber.id == subscriber.id,
            sa.func.coalesce(Subscriber.last_digest, Subscriber.confirmed) <= cutoff,
        )
        .values(last_digest=now)
        .execution_options(synchronize_session=False)
    )
    if affected_rows(claimed) != 1:
        return 0  # another process wrote this week's digest
    shown = posts[:DIGEST_POSTS]
    digest = _write(
        "digest",
        posts=[_mail_post(post) for post in shown],
        more=len(posts) - len(shown),
    )
    mail = add_mail(subscriber.email, **digest.for_subscriber(subscriber))
    db.session.flush()
    db.session.execute(
        sa.update(PostMailing)
        .where(
            PostMailing.subscriber_id == subscriber.id,
            PostMailing.post_id.in_([post.id for post in posts]),
            PostMailing.mail_id.is_(None),
        )
        .values(mail_id=mail.id)
        .execution_options(synchronize_session=False)
    )
    return 1
