"""Writers' and administrators' subscribers: counts, lists, removal (audited
for administrators), CSV export and import (confirmation mails, never a
silent subscription), the /admin setting, the site's export, and mail
stopped by suspension, removal and deletion."""

import csv
import io
import json
import zipfile

import pytest
import sqlalchemy as sa

from flaskr.blueprints.admin import subscribers as admin_subscribers
from flaskr.db import db
from flaskr.db import utcnow
from flaskr.models import AuditEntry
from flaskr.models import OutboxMail
from flaskr.models import Post
from flaskr.models import PostMailing
from flaskr.models import SiteSettings
from flaskr.models import Subscriber
from flaskr.models import Subscription
from flaskr.schema import init_db
from flaskr.services.accounts import users as accounts
from flaskr.services.accounts.directory import find_user
from flaskr.services.base import addresses
from flaskr.services.base.errors import Invalid
from flaskr.services.base.errors import NotAllowed
from flaskr.services.base.mail import deliver_due_mail
from flaskr.services.governance import members
from flaskr.services.governance import removal
from flaskr.services.portability.exports import export_zip
from flaskr.services.portability.exports import Scope
from flaskr.services.portability.imports import import_export
from flaskr.services.social import subscriber_admin
from flaskr.services.social import subscriber_csv
from flaskr.services.social import subscriber_links
from tests.conftest import add_test_data
from tests.conftest import csrf_token_from
from tests.helpers import logged_in
from tests.helpers import make_admin
from tests.helpers import post_files

SITE = None


def _subscriber(
    address, *, follows=(SITE,), confirmed=True, user=None, cadence="each"
) -> int:
    """A subscriber row as the subscribe pages would leave it: ``follows``
    usernames, ``SITE`` for the whole site."""
    subscriber = Subscriber(
        email=address,
        email_key=addresses.email_key(address),
        link_key=subscriber_links.new_link_key(),
        confirmed=utcnow() if confirmed else None,
        user_id=user.id if user else None,
        cadence=cadence,
    )
    db.session.add(subscriber)
    db.session.flush()
    for name in follows:
        author = find_user(name) if name else None
        db.session.add(
            Subscription(
                subscriber_id=subscriber.id, author_id=author.id if author else None
            )
        )
    db.session.commit()
    return subscriber.id


def _writers_see(app, allowed=True):
    with app.app_context():
        db.session.get(SiteSettings, 1).writers_see_subscribers = allowed
        db.session.commit()


def _addresses():
    return set(db.session.scalars(sa.select(Subscriber.email)))


@pytest.fixture
def audience(app):
    """test is followed by ann (and the site) and eli; other by cat; the
    site by dan; bob asked and has not confirmed (following nothing yet:
    what to follow travels in the confirmation link)."""
    with app.app_context():
        _subscriber("ann@example.com", follows=["test", SITE])
        _subscriber("eli@example.com", follows=["test"])
        _subscriber("bob@example.com", follows=[], confirmed=False)
        _subscriber("cat@example.com", follows=["other"])
        _subscriber("dan@example.com", follows=[SITE])
    return app


# Who sees what.


def test_a_writer_sees_counts_not_addresses_by_default(audience):
    writer = logged_in(audience, "test")
    page = writer.get("/subscribers")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "ann@example.com" not in text and "eli@" not in text
    assert "<dt>Subscribers</dt><dd>2</dd>" in text
    assert "how many subscribers they have, not who" in text
    assert writer.get("/subscribers.csv").status_code == 403


def test_with_the_setting_a_writer_sees_their_own_subscribers(audience):
    _writers_see(audience)
    text = logged_in(audience, "test").get("/subscribers").get_data(as_text=True)
    assert "ann@example.com" in text and "eli@example.com" in text
    # Not other writers' nor the site's, nor one that asked and waits.
    for name in ("cat", "dan", "bob"):
        assert f"{name}@example.com" not in text


def test_readers_and_visitors_are_kept_out(audience, client):
    assert client.get("/subscribers").status_code == 302
    assert client.get("/admin/subscribers").status_code == 302
    with audience.app_context():
        find_user("other").role = "reader"
        db.session.commit()
    reader = logged_in(audience, "other")
    assert reader.get("/subscribers").status_code == 403
    assert reader.get("/admin/subscribers").status_code == 403
    assert reader.get("/admin/subscribers.csv").status_code == 403


def test_an_administrator_sees_every_address_and_what_it_follows(audience):
    make_admin(audience, "test")
    text = logged_in(audience, "test").get("/admin/subscribers").get_data(True)
    for name in ("ann", "bob", "cat", "dan", "eli"):
        assert f"{name}@example.com" in text
    assert subscriber_admin.WHOLE_SITE in text
    searched = logged_in(audience, "test").get("/admin/subscribers?q=CAT@")
    assert "cat@example.com" in searched.get_data(True)
    assert "ann@example.com" not in searched.get_data(True)
    assert (
        logged_in(audience, "test").get(f"/admin/subscribers?q={'x' * 101}").status_code
        == 400
    )
    # A NUL is in no address, and PostgreSQL refuses one in a query: a 400.
    nul = logged_in(audience, "test").get("/admin/subscribers?q=a%00b")
    assert nul.status_code == 400
    assert b"cannot contain a NUL character" in nul.data


# Removing one.


def test_an_administrator_removes_a_subscriber_from_everything(audience):
    make_admin(audience, "test")
    admin = logged_in(audience, "test")
    with audience.app_context():
        ann = db.session.scalar(
            sa.select(Subscriber.id).filter_by(email="ann@example.com")
        )
    token = csrf_token_from(admin, "/admin/subscribers")
    response = admin.post(
        f"/admin/subscribers/{ann}/remove", data={"csrf_token": token}
    )
    assert response.status_code == 302
    with audience.app_context():
        assert "ann@example.com" not in _addresses()
        assert (
            db.session.scalar(
                sa.select(sa.func.count())
                .select_from(Subscription)
                .filter_by(subscriber_id=ann)
            )
            == 0
        )
        entry = db.session.scalars(
            sa.select(AuditEntry).filter_by(action="subscriber_removed")
        ).one()
        assert entry.actor_name == "test"
        # Recognisable, not the whole address.
        assert "a…@example.com" in entry.detail and "ann@" not in entry.detail
    # Without a token nothing goes.
    with audience.app_context():
        dan = db.session.scalar(
            sa.select(Subscriber.id).filter_by(email="dan@example.com")
        )
    assert admin.post(f"/admin/subscribers/{dan}/remove").status_code == 400
    with audience.app_context():
        assert "dan@example.com" in _addresses()


def test_a_writer_removes_a_subscriber_from_their_list_only(audience):
    _writers_see(audience)
    writer = logged_in(audience, "test")
    with audience.app_context():
        ids = dict(db.session.execute(sa.select(Subscriber.email, Subscriber.id)).all())
    token = csrf_token_from(writer, "/subscribers")
    # Ann also follows the site: she stays, for the site.
    assert (
        writer.post(
            f"/subscribers/{ids['ann@example.com']}/remove", data={"csrf_token": token}
        ).status_code
        == 302
    )
    # Eli followed only test: he goes.
    assert (
        writer.post(
            f"/subscribers/{ids['eli@example.com']}/remove", data={"csrf_token": token}
        ).status_code
        == 302
    )
    # Cat is other's: not on test's list.
    refused = writer.post(
        f"/subscribers/{ids['cat@example.com']}/remove", data={"csrf_token": token}
    )
    assert refused.status_code in (400, 422)
    with audience.app_context():
        assert _addresses() == {
            f"{name}@example.com" for name in ("ann", "bob", "cat", "dan")
        }
        test = find_user("test")
        assert (
            db.session.scalar(
                sa.select(sa.func.count())
                .select_from(Subscription)
                .filter_by(author_id=test.id)
            )
            == 0
        )
        # A writer's own list is theirs: not an audited decision.
        assert (
            db.session.scalar(sa.select(sa.func.count()).select_from(AuditEntry)) == 0
        )


def test_a_writer_who_sees_counts_only_cannot_remove(audience):
    with audience.app_context():
        test = find_user("test")
        ann = db.session.scalar(
            sa.select(Subscriber.id).filter_by(email="ann@example.com")
        )
        with pytest.raises(NotAllowed):
            subscriber_admin.remove_subscriber(test, test, ann)
        with pytest.raises(NotAllowed):
            subscriber_admin.list_subscribers(test, test)
        # Nor see another writer's count.
        with pytest.raises(NotAllowed):
            subscriber_admin.audience(test, find_user("other"))
        assert subscriber_admin.audience(test, test) == subscriber_admin.Audience(2, 0)


# CSV export.


def _rows(response):
    return list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))


def test_the_export_is_csv_with_each_confirmation_state(audience):
    make_admin(audience, "test")
    with audience.app_context():
        _subscriber("=1+2@example.com", follows=["other"])
    response = logged_in(audience, "test").get("/admin/subscribers.csv")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"].startswith("attachment;")
    assert response.headers["Cache-Control"] == "no-store"
    rows = {row["email"]: row for row in _rows(response)}
    assert set(rows) == {
        "ann@example.com",
        "bob@example.com",
        "eli@example.com",
        "cat@example.com",
        "dan@example.com",
        # A spreadsheet shows it as text rather than running it.
        "'=1+2@example.com",
    }
    assert rows["ann@example.com"]["state"] == "confirmed"
    assert rows["ann@example.com"]["confirmed"].endswith("+00:00")
    assert rows["bob@example.com"]["state"] == "waiting"
    assert rows["bob@example.com"]["confirmed"] == ""
    assert rows["ann@example.com"]["follows"] == f"{subscriber_admin.WHOLE_SITE}; test"


def test_a_writer_exports_their_own_subscribers_when_allowed(audience):
    _writers_see(audience)
    rows = _rows(logged_in(audience, "test").get("/subscribers.csv"))
    assert {row["email"] for row in rows} == {"ann@example.com", "eli@example.com"}


# CSV import.


def _import(client, path, data, filename="list.csv"):
    token = csrf_token_from(client, path)
    return post_files(
        client,
        f"{path}/import",
        {"csrf_token": token, "file": (io.BytesIO(data), filename)},
    )


def test_an_import_mails_confirmations_and_subscribes_nobody(
    mail_app, smtp, password_hashes
):
    app = mail_app
    with app.app_context():
        add_test_data(password_hashes)
        _subscriber("ann@example.com", follows=["test"])
        _subscriber("cat@example.com", follows=["other"])
    make_admin(app, "test")
    _writers_see(app)
    writer = logged_in(app, "test")
    data = (
        b"Name,Email\n"
        b"Eve,eve@example.com\n"
        b"Ann,ann@example.com\n"
        b"Cat,cat@example.com\n"
        b"Eve again,EVE@example.com\n"
        b"Fay,fay@example.com\n"
    )
    response = _import(writer, "/subscribers", data)
    assert response.status_code == 302
    page = writer.get("/subscribers").get_data(as_text=True)
    assert "Confirmation mails go to 2 new addresses" in page
    assert "2 addresses were already on this site" in page
    with app.app_context():
        new = db.session.scalars(
            sa.select(Subscriber).where(
                Subscriber.email.in_(["eve@example.com", "fay@example.com"])
            )
        ).all()
        assert len(new) == 2
        assert all(subscriber.confirmed is None for subscriber in new)
        test_id = find_user("test").id
        # They follow nothing until they confirm: what to follow is in
        # their link.
        for subscriber in new:
            assert (
                db.session.scalars(
                    sa.select(Subscription.author_id).filter_by(
                        subscriber_id=subscriber.id
                    )
                ).all()
                == []
            )
        # Cat follows other only: the import did not add test to her.
        cat = db.session.scalars(
            sa.select(Subscriber).filter_by(email="cat@example.com")
        ).one()
        assert db.session.scalars(
            sa.select(Subscription.author_id).filter_by(subscriber_id=cat.id)
        ).all() == [find_user("other").id]
        assert deliver_due_mail() == 2
    received = {message["To"]: message for message in smtp.inbox.messages}
    assert set(received) == {"eve@example.com", "fay@example.com"}
    body = received["eve@example.com"].get_body(("plain",)).get_content()
    assert "https://flaskr.example/subscribe/confirm/" in body
    assert "test" in received["eve@example.com"]["Subject"]
    with app.app_context():
        link = body.split("https://flaskr.example/subscribe/confirm/")[1].split()[0]
        token, _, follow = link.partition("?follow=")
        assert follow == str(test_id)
        eve = subscriber_links.subscriber_for(token, subscriber_links.CONFIRM)
        assert eve is not None and eve.email == "eve@example.com"


def test_a_file_of_bare_addresses_imports_for_the_site(audience):
    make_admin(audience, "test")
    admin = logged_in(audience, "test")
    response = _import(
        admin, "/admin/subscribers", b"gil@example.com\r\nhal@example.com\r\n"
    )
    assert response.status_code == 302
    with audience.app_context():
        gil = db.session.scalars(
            sa.select(Subscriber).filter_by(email="gil@example.com")
        ).one()
        assert gil.confirmed is None
        mails = db.session.scalars(sa.select(OutboxMail)).all()
        assert sorted(mail.recipient for mail in mails) == [
            "gil@example.com",
            "hal@example.com",
        ]
        assert all("?follow=site" in mail.text_body for mail in mails)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "The file is empty."),
        (b"email\nok@example.com\nnot an address\n\nalso@bad@\n", "Line 3:"),
        (b"\xff\xfe\x00bad", "not UTF-8"),
        (b"email\nx\x00y@example.com\n", "not text"),
        (b'email\nok@example.com,"open quote\n', "Line"),
        (
            b"email\n"
            + b"".join(
                b"p%d@example.com\n" % n
                for n in range(subscriber_csv.IMPORT_MAX_ROWS + 1)
            ),
            "more than",
        ),
        (b"a@example.com\n" * 20000, "larger than"),
    ],
)
def test_a_bad_file_is_refused_whole_with_its_lines(audience, data, message):
    make_admin(audience, "test")
    admin = logged_in(audience, "test")
    response = _import(admin, "/admin/subscribers", data)
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    with audience.app_context():
        assert _addresses() == {
            f"{n}@example.com" for n in ("ann", "bob", "cat", "dan", "eli")
        }
        assert (
            db.session.scalar(sa.select(sa.func.count()).select_from(OutboxMail)) == 0
        )


def test_bad_lines_are_named_and_counted(audience):
    with audience.app_context():
        admin = find_user("test")
        admin.role = "admin"
        lines = "\n".join(
            ["email"] + [f"bad {n}" for n in range(15)] + ["ok@example.com"]
        )
        with pytest.raises(Invalid) as refused:
            subscriber_csv.import_csv(admin, None, lines.encode())
        messages = refused.value.problems["file"]
        assert messages[1].startswith("Line 2:")
        assert messages[-1] == "… and 5 more lines."
        assert "ok@example.com" not in _addresses()


def test_a_writer_who_sees_counts_only_cannot_import(audience):
    writer = logged_in(audience, "test")
    assert _import(writer, "/subscribers", b"x@example.com\n").status_code in (400, 403)
    with audience.app_context():
        with pytest.raises(NotAllowed):
            subscriber_csv.import_csv(
                find_user("test"), find_user("test"), b"x@example.com\n"
            )
        assert "x@example.com" not in _addresses()


def test_an_import_without_a_file_asks_for_one(audience):
    make_admin(audience, "test")
    admin = logged_in(audience, "test")
    token = csrf_token_from(admin, "/admin/subscribers")
    response = admin.post("/admin/subscribers/import", data={"csrf_token": token})
    assert response.status_code == 422
    assert "Choose a CSV file." in response.get_data(as_text=True)


# The setting on /admin.


def test_the_administrator_decides_what_writers_see(audience):
    make_admin(audience, "test")
    admin = logged_in(audience, "test")
    token = csrf_token_from(admin, "/admin")
    response = admin.post(
        "/admin/subscriber-visibility",
        data={"csrf_token": token, "subscribers-writers_see": "y"},
    )
    assert response.status_code == 302
    with audience.app_context():
        assert db.session.get(SiteSettings, 1).writers_see_subscribers is True
        entry = db.session.scalars(sa.select(AuditEntry)).one()
        assert entry.action == "subscriber_visibility_changed"
    # Other writers now see their list.
    other = logged_in(audience, "other")
    assert "cat@example.com" in other.get("/subscribers").get_data(True)
    admin.post("/admin/subscriber-visibility", data={"csrf_token": token})
    with audience.app_context():
        assert db.session.get(SiteSettings, 1).writers_see_subscribers is False
    assert "cat@example.com" not in other.get("/subscribers").get_data(True)
    refused = other.post(
        "/admin/subscriber-visibility",
        data={
            "csrf_token": csrf_token_from(other, "/subscribers"),
            "subscribers-writers_see": "y",
        },
    )
    assert refused.status_code == 403


# The site's export.


def test_the_site_export_holds_subscribers_and_their_state(audience):
    with audience.app_context():
        _subscriber(
            "gus@example.com", follows=[SITE], user=find_user("other"), cadence="weekly"
        )
        site = zipfile.ZipFile(io.BytesIO(b"".join(export_zip(Scope()))))
        records = {
            record["email"]: record
            for record in json.loads(site.read("subscribers.json"))
        }
        manifest = json.loads(site.read("manifest.json"))
        one = zipfile.ZipFile(
            io.BytesIO(b"".join(export_zip(Scope(writer_id=find_user("test").id))))
        )
    assert manifest["counts"]["subscribers"] == 6
    assert "subscribers.json" in manifest["files"]
    assert records["ann@example.com"]["confirmed"] is not None
    assert records["ann@example.com"]["follows"] == ["test", None]
    assert records["bob@example.com"]["confirmed"] is None
    assert records["bob@example.com"]["follows"] == []
    assert records["gus@example.com"]["account"] == "other"
    assert records["gus@example.com"]["cadence"] == "weekly"
    # A writer's own download holds no readers' addresses.
    assert "subscribers.json" not in one.namelist()


# Mail stopped: by a removal from a list, and to and from suspended,
# removed and deleted accounts.


def _queued_mailing(post_id, subscriber_id, recipient):
    mail = OutboxMail(
        recipient=recipient,
        subject="A new post",
        text_body="text",
        html_body="<p>html</p>",
        message_id=f"<{post_id}.{subscriber_id}@flaskr.example>",
        attempts=0,
        failed=False,
    )
    db.session.add(mail)
    db.session.flush()
    db.session.add(
        PostMailing(post_id=post_id, subscriber_id=subscriber_id, mail_id=mail.id)
    )
    db.session.commit()
    return mail.id


@pytest.fixture
def mailings(audience):
    """other has a subscriber row of its own (following test) and a post;
    mails wait in the outbox: test's post to other's row, other's post to
    dan, and the suspension's notice."""
    with audience.app_context():
        test, other = find_user("test"), find_user("other")
        other.email, other.email_key = "other@example.com", "other@example.com"
        db.session.commit()
        own = _subscriber("other@example.com", follows=["test"], user=other)
        post = Post(
            author_id=other.id,
            title="Other's",
            body="",
            body_html="",
            published=utcnow(),
        )
        db.session.add(post)
        db.session.commit()
        dan = db.session.scalar(
            sa.select(Subscriber.id).filter_by(email="dan@example.com")
        )
        test_post = db.session.scalar(sa.select(Post.id).filter_by(author_id=test.id))
        return {
            "to_other": _queued_mailing(test_post, own, "other@example.com"),
            "from_other": _queued_mailing(post.id, dan, "dan@example.com"),
            "unrelated": _queued_mailing(test_post, dan, "dan@example.com"),
            "own": own,
        }


def _state(mail_id):
    mail = db.session.get(OutboxMail, mail_id)
    if not mail.failed:
        return "waiting"
    return {
        subscriber_admin.STOPPED: "stopped",
        subscriber_admin.REMOVED_BY_HAND: "removed",
    }[mail.last_error]


def test_a_suspension_stops_mail_to_and_from_the_account(audience, mailings):
    make_admin(audience, "test")
    with audience.app_context():
        other = find_user("other")
        # A weekly digest to ann with a post of each writer still goes.
        ann = db.session.scalar(
            sa.select(Subscriber.id).filter_by(email="ann@example.com")
        )
        posts = db.session.scalars(sa.select(Post.id).order_by(Post.id)).all()
        digest = _queued_mailing(posts[0], ann, "ann@example.com")
        db.session.add(PostMailing(post_id=posts[1], subscriber_id=ann, mail_id=digest))
        db.session.commit()
        members.suspend(find_user("test"), other, "Spam.")
        assert _state(mailings["to_other"]) == "stopped"
        assert _state(mailings["from_other"]) == "stopped"
        assert _state(mailings["unrelated"]) == "waiting"
        assert _state(digest) == "waiting"
        # The notice of the suspension itself still goes.
        assert (
            db.session.scalar(
                sa.select(sa.func.count())
                .select_from(OutboxMail)
                .filter_by(recipient="other@example.com", failed=False)
            )
            == 1
        )
        # Suspension forgets nothing: the newsletter leaves out the row of
        # an account that is not active and a withheld post, until lifted.
        assert db.session.get(Subscriber, mailings["own"]) is not None
        withheld = db.session.scalars(
            sa.select(Post.withheld).filter_by(author_id=other.id)
        ).all()
        assert withheld and all(withheld)
        members.lift(find_user("test"), other)
        assert _state(mailings["to_other"]) == "stopped"  # stopped for good


def test_a_removal_stops_mail_to_and_from_the_account(audience, mailings):
    make_admin(audience, "test")
    with audience.app_context():
        other = find_user("other")
        counts = removal.removal_counts(other)
        removal.remove(
            find_user("test"),
            other,
            "Spam.",
            expected_posts=counts.posts,
            expected_comments=counts.comments,
        )
        assert _state(mailings["to_other"]) == "stopped"
        assert _state(mailings["from_other"]) == "stopped"
        assert _state(mailings["unrelated"]) == "waiting"


@pytest.mark.parametrize("keep_posts", [True, False])
def test_deleting_an_account_forgets_its_subscriptions(audience, mailings, keep_posts):
    with audience.app_context():
        # An address it subscribed with before it had an account goes too.
        other = find_user("other")
        _subscriber("other+x@example.com", follows=[SITE])
        if keep_posts:
            # Its address subscribed without the account: it goes as well.
            db.session.get(Subscriber, mailings["own"]).user_id = None
            db.session.commit()
        posts = db.session.scalars(
            sa.select(Post.id).filter_by(author_id=other.id)
        ).all()
        accounts.delete_account(other, "other", keep_posts=keep_posts)
        assert _state(mailings["to_other"]) == "stopped"
        assert "other@example.com" not in _addresses()
        assert "other+x@example.com" in _addresses()  # another address
        # Its writers' lists lose it; cat followed other and now nothing.
        cat = db.session.scalar(
            sa.select(Subscriber.id).filter_by(email="cat@example.com")
        )
        assert (
            db.session.scalar(
                sa.select(sa.func.count())
                .select_from(Subscription)
                .filter_by(subscriber_id=cat)
            )
            == 0
        )
        if keep_posts:
            assert _state(mailings["from_other"]) == "stopped"
            kept = db.session.scalars(sa.select(Post).where(Post.id.in_(posts))).all()
            assert kept and not any(post.mail_subscribers for post in kept)
        else:
            assert db.session.get(OutboxMail, mailings["from_other"]).sent is None
            assert _state(mailings["from_other"]) == "stopped"
        assert _state(mailings["unrelated"]) == "waiting"


def test_importing_a_site_export_subscribes_nobody(audience):
    with audience.app_context():
        data = b"".join(export_zip(Scope()))
        init_db()  # an empty site
        report = import_export(io.BytesIO(data))
        assert report.failed == []
        assert report.created["writer"] == 2
        assert _addresses() == set()
        assert (
            db.session.scalar(sa.select(sa.func.count()).select_from(OutboxMail)) == 0
        )


def test_a_removal_from_a_list_stops_what_waits_for_it(audience, mailings):
    make_admin(audience, "test")
    with audience.app_context():
        test, other = find_user("test"), find_user("other")
        ann = db.session.scalar(
            sa.select(Subscriber.id).filter_by(email="ann@example.com")
        )
        test_post = db.session.scalar(sa.select(Post.id).filter_by(author_id=test.id))
        other_post = db.session.scalar(sa.select(Post.id).filter_by(author_id=other.id))
        of_test = _queued_mailing(test_post, ann, "ann@example.com")
        of_other = _queued_mailing(other_post, ann, "ann@example.com")
        # test drops ann from their list: she still follows the site, and
        # the site's other writer's post still goes to her.
        subscriber_admin.remove_subscriber(test, test, ann)
        assert _state(of_test) == "removed"
        assert _state(of_other) == "waiting"
        assert db.session.get(Subscriber, ann) is not None
        dan = db.session.scalar(
            sa.select(Subscriber.id).filter_by(email="dan@example.com")
        )
        # The administrator removes dan from everything.
        subscriber_admin.remove_subscriber(test, None, dan)
        assert _state(mailings["from_other"]) == "removed"
        assert _state(mailings["unrelated"]) == "removed"
        assert _state(mailings["to_other"]) == "waiting"


def test_imports_are_throttled_per_client(app_with):
    app = app_with(RATELIMIT_ENABLED=True)
    make_admin(app, "test")
    admin = logged_in(app, "test")
    allowed = int(admin_subscribers.IMPORT_LIMITS.split()[0])
    statuses = [
        _import(admin, "/admin/subscribers", b"not an address\n").status_code
        for _ in range(allowed + 1)
    ]
    assert statuses == [422] * allowed + [429]
