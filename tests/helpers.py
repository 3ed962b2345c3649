"""Builders the tests share: pictures, posts, logged-in clients, uploads.

Fixtures stay in ``conftest.py``; what a test calls directly lives here, so no
test module imports another (``test_layers`` checks it).
"""

import datetime as dt
import io
import socket

import sqlalchemy as sa
from PIL import Image as Pillow
from werkzeug.test import EnvironBuilder

from flaskr.db import db
from flaskr.db import utcnow
from flaskr.models import Event
from flaskr.models import EventDelivery
from flaskr.models import Follow
from flaskr.models import Like
from flaskr.models import OutboxMail
from flaskr.models import Post
from flaskr.models import PostRevision
from flaskr.models import PostTag
from flaskr.models import SiteVersion
from flaskr.models import Tag
from flaskr.models import User
from flaskr.models.governance import WITHDRAWN_STATES
from flaskr.services.accounts.directory import find_user
from flaskr.services.base import events
from flaskr.services.base import images
from flaskr.services.base.events import Handler
from flaskr.services.base.images import process_upload
from flaskr.services.base.mail import record_mail
from flaskr.services.base.site import set_admin
from flaskr.services.content import lifecycle
from flaskr.services.content import media
from flaskr.services.content import writing
from flaskr.services.social import follows
from flaskr.services.social import reactions
from tests.conftest import AuthActions
from tests.conftest import csrf_token_from
from tests.conftest import make_post

#: EXIF's GPS directory and orientation tags.
GPS_IFD = 0x8825
ORIENTATION = 0x0112


def jpeg_with_gps(size=(64, 32), orientation=None):
    """A JPEG carrying EXIF with a GPS position (and optionally an orientation)."""
    picture = Pillow.new("RGB", size, (200, 30, 30))
    exif = Pillow.Exif()
    exif[0x010F] = "Camera maker"  # Make
    exif.get_ifd(GPS_IFD).update(
        {1: "N", 2: (52.0, 31.0, 12.0), 3: "E", 4: (13.0, 24.0, 1.0)}
    )
    if orientation:
        exif[ORIENTATION] = orientation
    buffer = io.BytesIO()
    picture.save(buffer, "JPEG", exif=exif.tobytes())
    return buffer.getvalue()


def png(size=(40, 40), mode="RGBA"):
    """A blank PNG of ``size``."""
    buffer = io.BytesIO()
    Pillow.new(mode, size).save(buffer, "PNG")
    return buffer.getvalue()


def upload(client, path="/create", data=b"", filename="photo.jpg", **fields):
    """Submit the post form at ``path`` with ``data`` as its picture (none if
    ``data`` is ``None``)."""
    form = {
        "title": "With a picture",
        "body": "",
        "tags": "",
        "image_alt": "A red square",
        **fields,
        "csrf_token": csrf_token_from(client, path),
    }
    if data is not None:
        form["image_file"] = (io.BytesIO(data), filename)
    return post_files(client, path, form)


def post_files(client, path, form):
    """POST a form with files. Werkzeug spools a large request body to a
    temporary file that nothing closes; the request is built here so that
    it can be closed."""
    builder = EnvironBuilder(path=path, method="POST", data=form)
    environ = builder.get_environ()
    try:
        return client.open(environ)
    finally:
        environ["wsgi.input"].close()
        builder.close()


def write(client, path="/create", **fields):
    """Submit the post form at ``path`` (action: publish, draft, save, preview)."""
    data = {"title": "A title", "body": "", "tags": "", **fields}
    data["csrf_token"] = csrf_token_from(client, path)
    return client.post(path, data=data)


def write_in_editor(client, path="/create", action="publish", **fields):
    """Submit the editor's whole form at ``path``: a body long enough to
    show, an empty summary and address, and ``action``."""
    data = {
        "title": "A title",
        "body": "The body of the post, which is long enough to show.",
        "tags": "",
        "summary": "",
        "slug": "",
        "action": action,
        **fields,
        "csrf_token": csrf_token_from(client, path),
    }
    return client.post(path, data=data)


def post_row(app, post_id):
    """The post's row, readable outside the app context."""
    with app.app_context():
        post = db.session.get(Post, post_id)
        db.session.expunge(post)
        return post


def newest(app):
    """The id of the post written last."""
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.max(Post.id)))


def revisions(app, post_id):
    """(id, title, body) of each of the post's revisions, oldest first."""
    with app.app_context():
        return db.session.execute(
            sa.select(PostRevision.id, PostRevision.title, PostRevision.body)
            .where(PostRevision.post_id == post_id)
            .order_by(PostRevision.id)
        ).all()


def logged_in(app, username="test", password=None, browser="Browser A"):
    """A client logged in as ``username`` (whose password, in the test data,
    is the username), naming itself ``browser``."""
    client = app.test_client()
    client.environ_base["HTTP_USER_AGENT"] = browser
    response = AuthActions(client).login(username, password or username)
    assert response.status_code == 302
    return client


def submit_account_form(client, action, prefix, **fields):
    """Submit one of the account page's forms: ``fields`` named without the
    form's ``prefix``."""
    token = csrf_token_from(client, "/auth/account")
    data = {f"{prefix}-{name}": value for name, value in fields.items()}
    return client.post(
        f"/auth/account/{action}", data={**data, f"{prefix}-csrf_token": token}
    )


def rename(client, username, password="test"):
    return submit_account_form(
        client, "username", "rename", username=username, password=password
    )


def save_profile(client, display_name="", bio="", website=""):
    return submit_account_form(
        client,
        "profile",
        "profile",
        display_name=display_name,
        bio=bio,
        website=website,
    )


def upload_avatar(client, data, filename="me.jpg"):
    token = csrf_token_from(client, "/auth/account")
    form = {"avatar-csrf_token": token}
    if data is not None:
        form["avatar-picture"] = (io.BytesIO(data), filename)
    return post_files(client, "/auth/account/avatar", form)


def post_account_form(client, action, **fields):
    """Submit one of the account page's forms, ``fields`` named in full."""
    token = csrf_token_from(client, "/auth/account")
    return client.post(f"/auth/account/{action}", data={**fields, "csrf_token": token})


def delete_account(client, password, posts):
    return post_account_form(
        client, "delete", **{"delete-password": password, "delete-posts": posts}
    )


def comment(client, body, post_id=1):
    """Comment on the post, from its page's form."""
    token = csrf_token_from(client, f"/{post_id}")
    return client.post(f"/{post_id}/comments", data={"body": body, "csrf_token": token})


def like(client, post_id=1, liked="yes"):
    """Like (or with ``liked=""``, unlike) the post, from its page's form."""
    token = csrf_token_from(client, f"/{post_id}")
    return client.post(f"/{post_id}/like", data={"liked": liked, "csrf_token": token})


def make_admin(app, username="test"):
    """Make ``username`` the site's administrator."""
    with app.app_context():
        set_admin(
            db.session.scalars(sa.select(User).filter_by(username=username)).one()
        )


def assert_counts_match_rows() -> None:
    """Every kept count equals the rows it counts."""
    db.session.expire_all()
    counted = sa.and_(Post.published.is_not(None), Post.deleted.is_(None))
    site = db.session.scalar(sa.select(sa.func.count()).where(counted))
    assert db.session.get(SiteVersion, 1).post_count == site
    for user in db.session.scalars(sa.select(User)):
        own = sa.select(sa.func.count()).where(counted, Post.author_id == user.id)
        assert user.post_count == db.session.scalar(own), user.username
        followers = sa.select(sa.func.count()).where(Follow.followed_id == user.id)
        assert user.follower_count == db.session.scalar(followers), user.username
        following = sa.select(sa.func.count()).where(Follow.follower_id == user.id)
        assert user.following_count == db.session.scalar(following), user.username
    for tag in db.session.scalars(sa.select(Tag)):
        tagged = (
            sa.select(sa.func.count())
            .select_from(PostTag)
            .join(Post, Post.id == PostTag.post_id)
            .where(counted, PostTag.tag_id == tag.id)
        )
        assert tag.post_count == db.session.scalar(tagged), tag.name


def seed_blog(app):
    """test writes a published post with a cover and a library picture in its
    text, a draft, a scheduled post and a trashed one; other comments, likes
    and follows."""
    with app.app_context():
        test, other = find_user("test"), find_user("other")
        picture = media.add_picture(
            test,
            process_upload(io.BytesIO(png()), max_bytes=10**7, max_pixels=10**8),
            "A red square",
        )
        post = writing.create_post(
            test,
            "Hello export",
            f"Text with a picture:\n\n{media.markdown_for(picture)}",
            tags=["travel", "food"],
            publish=True,
            summary="A summary.",
        )
        processed = process_upload(io.BytesIO(png()), max_bytes=10**7, max_pixels=10**8)
        images.attach(post, processed, "The cover")
        db.session.commit()
        writing.create_post(test, "A draft", "Not yet.", tags=[], publish=False)
        writing.create_post(
            test,
            "Later",
            "Soon.",
            tags=["soon"],
            publish=False,
            schedule_at=utcnow() + dt.timedelta(days=2),
        )
        gone = writing.create_post(test, "Gone", "Bye.", tags=[], publish=True)
        lifecycle.move_to_trash(gone.author, gone)
        writing.create_post(other, "Other's post", "Theirs.", tags=[], publish=True)
        reactions.add_comment(post, other, "Nice *one*.", post_link="/")
        reactions.set_like(other, post, liked=True)
        follows.follow(other, test)
        return post.slug, picture.key


def add_posts(app, count, author_id=1, start=dt.datetime(2020, 1, 1, tzinfo=dt.UTC)):
    """``count`` published posts by ``author_id``, a minute apart from ``start``."""
    with app.app_context():
        db.session.add_all(
            make_post(
                author_id,
                f"post {number}",
                f"body {number}",
                published=start + dt.timedelta(minutes=number),
            )
            for number in range(count)
        )
        db.session.commit()


def count_posts(app):
    """How many posts there are, in any state."""
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count()).select_from(Post))


#: Values a stranger might put anywhere: out-of-range and malformed numbers,
#: markup, control characters, long and odd text.
HOSTILE = [
    "",
    "0",
    "1",
    "2",
    "-1",
    "3",
    str(2**63),
    str(2**64),
    "1" + "0" * 30,
    "9" * 5000,
    "1.5",
    "1e3",
    "0x10",
    "٣",
    "abc",
    " 1 ",
    "<script>alert(1)</script>",
    "' OR 1=1 --",
    '"',
    "((((",
    "NEAR(a b)",
    "\x00",
    "\x00\x01\x7f",
    "\ud7ff\ue000\uffff",
    "é" * 300,
    "x" * 20000,
    "../../etc/passwd",
    "%2e%2e%2f",
    "//evil.example/",
    "https://evil.example/",
    "javascript:alert(1)",
    "publish",
    "draft",
    "save",
    "preview",
    "y",
    "on",
    "test",
    "other",
    "python, flask",
    "*python* `code` > quote",
]


def database_rows() -> dict[str, list[tuple[object, ...]]]:
    """Every row of every table, in a stable order, as this session would
    commit them: pending changes are flushed first, so a refused use case that
    left half its work in the session shows up as a difference."""
    db.session.expire_all()
    return {
        table.name: sorted(
            (tuple(row) for row in db.session.execute(sa.select(table))), key=repr
        )
        for table in db.metadata.sorted_tables
    }


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on (for a server a test
    starts)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


# The event line.

LONG_AGO = dt.datetime(2020, 1, 1, tzinfo=dt.UTC)


def leave_a_mark(handler: str, event: Event) -> None:
    """What the test handlers do: one mail in the outbox, addressed to say
    which handler handled which event (committed with the delivery)."""
    record_mail(f"{handler}.{event.id}@example.org", "test")


def marks(app) -> list[str]:
    """The addresses of every handler's marks, one per run that counted."""
    with app.app_context():
        query = sa.select(OutboxMail.recipient).order_by(OutboxMail.id)
        return list(db.session.scalars(query))


def event_handler(name: str, *kinds: str, run=None) -> Handler:
    return Handler(
        name=name,
        kinds=frozenset(kinds or {events.POST_PUBLISHED}),
        run=run or (lambda event: leave_a_mark(name, event)),
    )


def record(app, kind=events.POST_PUBLISHED, count=1, **fields) -> list[int]:
    """Record ``count`` events of ``kind`` and commit; their ids."""
    with app.app_context():
        for _ in range(count):
            events.record_event(kind, **fields)
        db.session.commit()
        query = sa.select(Event.id).order_by(Event.id.desc()).limit(count)
        return sorted(db.session.scalars(query))


def deliver(app, *handlers: Handler) -> int:
    """Deliver what is due to ``handlers``; how many deliveries ran."""
    with app.app_context():
        return events.deliver_due_events(handlers)


def recorded(app) -> list[tuple[str, int | None, int | None]]:
    """Every event as (kind, post id, user id), oldest first."""
    with app.app_context():
        rows = db.session.execute(
            sa.select(Event.kind, Event.post_id, Event.user_id).order_by(Event.id)
        )
        return [tuple(row) for row in rows]


def deliveries(app) -> list[EventDelivery]:
    with app.app_context():
        rows = db.session.scalars(
            sa.select(EventDelivery).order_by(
                EventDelivery.event_id, EventDelivery.handler
            )
        ).all()
        db.session.expunge_all()
        return list(rows)


def make_all_due(app) -> None:
    with app.app_context():
        db.session.execute(sa.update(EventDelivery).values(next_attempt=LONG_AGO))
        db.session.commit()


def user_named(name: str) -> User:
    return db.session.scalars(sa.select(User).filter_by(username=name)).one()


def schedule(post_title: str, at: dt.datetime) -> Post:
    return writing.create_post(
        user_named("test"), post_title, "text", tags=[], publish=False, schedule_at=at
    )


# Moderation (issue 34): accounts of each role, the comment settings, counts.


def add_user(username, *, role="author", created=None, email=None, password_hash=None):
    """Add and commit an active account with ``role``; its password is its
    name when ``password_hash`` is one of the ``password_hashes``."""
    user = User(username, password_hash or "not a hash: cannot log in")
    user.role = role
    if created is not None:
        user.created = created
    if email is not None:
        user.email = email
        user.email_key = email.casefold()
    db.session.add(user)
    db.session.commit()
    return user


def set_comment_settings(**fields):
    """Set the site's comment settings' columns directly; commit."""
    from flaskr.services.base import site

    row = site.settings()
    for name, value in fields.items():
        setattr(row, name, value)
    db.session.commit()


def visible_comment_count(post_id):
    """What ``Post.comment_count`` should say: visible comments of accounts
    not suspended."""
    from flaskr.models import Comment

    return db.session.scalar(
        sa.select(sa.func.count()).where(
            Comment.post_id == post_id,
            Comment.state == "visible",
            Comment.withheld.is_(False),
        )
    )


def comments_link(post):
    """The post link the comment use cases put in mails."""
    return f"http://localhost/{post.id}#comments"


def assert_counts_match_what_readers_see() -> None:
    """Every kept count equals the rows readers may see: posts withheld from
    a suspended writer, and the likes and follows of suspended or removed
    accounts, are left out (``services/governance/standing.py``)."""
    db.session.expire_all()
    counted = sa.and_(
        Post.published.is_not(None), Post.deleted.is_(None), Post.withheld.is_(False)
    )
    site = db.session.scalar(sa.select(sa.func.count()).where(counted))
    assert db.session.get(SiteVersion, 1).post_count == site
    shown = sa.select(User.id).where(User.state.not_in(WITHDRAWN_STATES))
    for user in db.session.scalars(sa.select(User)):
        own = sa.select(sa.func.count()).where(counted, Post.author_id == user.id)
        assert user.post_count == db.session.scalar(own), user.username
        if user.state in WITHDRAWN_STATES:
            continue
        followers = sa.select(sa.func.count()).where(
            Follow.followed_id == user.id, Follow.follower_id.in_(shown)
        )
        assert user.follower_count == db.session.scalar(followers), user.username
        following = sa.select(sa.func.count()).where(
            Follow.follower_id == user.id, Follow.followed_id.in_(shown)
        )
        assert user.following_count == db.session.scalar(following), user.username
    for post in db.session.scalars(sa.select(Post)):
        likes = sa.select(sa.func.count()).where(
            Like.post_id == post.id, Like.user_id.in_(shown)
        )
        assert post.like_count == db.session.scalar(likes), post.title
    for tag in db.session.scalars(sa.select(Tag)):
        tagged = (
            sa.select(sa.func.count())
            .select_from(PostTag)
            .join(Post, Post.id == PostTag.post_id)
            .where(counted, PostTag.tag_id == tag.id)
        )
        assert tag.post_count == db.session.scalar(tagged), tag.name


def moderator_client(app, username="test", role="admin"):
    """A client logged in as ``username`` after giving them ``role``."""
    with app.app_context():
        user = db.session.scalars(sa.select(User).filter_by(username=username)).one()
        user.role = role
        db.session.commit()
    return logged_in(app, username)
