"""Delivering activities to remote inboxes (``services/federation/delivery.py``)
and the event line's ``federation`` handler (``publishing.py``): a real HTTP
server on 127.0.0.1 receives them, and each POST's signature is checked
against the writer's key."""

import contextlib
import datetime as dt
import email.utils
import time

import pytest
import sqlalchemy as sa
import time_machine
from werkzeug.wrappers import Request
from werkzeug.wrappers import Response

from flaskr.db import db
from flaskr.models import ActorKey
from flaskr.models import BlockedDomain
from flaskr.models import FederationDelivery
from flaskr.models import Post
from flaskr.models import RemoteActor
from flaskr.models import RemoteFollower
from flaskr.models import User
from flaskr.models.governance import REMOVED
from flaskr.services.accounts import profiles
from flaskr.services.accounts import users
from flaskr.services.content import lifecycle
from flaskr.services.content import writing
from flaskr.services.event_handlers import deliver_due_events
from flaskr.services.federation import delivery
from flaskr.services.federation import follows as follows_service
from flaskr.services.federation import ids
from flaskr.services.federation import keys
from flaskr.services.federation import signatures
from flaskr.services.governance import members
from flaskr.services.governance import removal
from tests.conftest import FEDERATION_TEST_CONFIG
from tests.fediverse import Received
from tests.fediverse import RemoteServer

ARTICLE_KEYS = {"id", "type", "attributedTo", "name", "content", "to", "cc"}


class Inboxes(RemoteServer):
    """A remote server whose inboxes answer as a test says: ``status_of`` a
    path (else ``inbox_status``), with ``answer_headers``, after ``delay``
    seconds."""

    def __init__(self) -> None:
        super().__init__()
        self.status_of: dict[str, int] = {}
        self.answer_headers: dict[str, str] = {}
        self.delay = 0.0

    def _wsgi(self, environ, start_response):
        request = Request(environ)
        if request.method != "POST" or not request.path.endswith("inbox"):
            return super()._wsgi(environ, start_response)
        body = request.get_data()
        time.sleep(self.delay)
        with self._lock:
            self.received.append(
                Received(
                    "POST",
                    request.full_path.rstrip("?"),
                    {name.lower(): value for name, value in request.headers.items()},
                    body,
                )
            )
        status = self.status_of.get(request.path, self.inbox_status)
        response = Response(b"", status=status, headers=self.answer_headers)
        return response(environ, start_response)


@pytest.fixture
def server():
    with Inboxes() as running:
        yield running


@pytest.fixture
def fed(app_with):
    return app_with(**FEDERATION_TEST_CONFIG)


def follow(server, name, *, user_id=1, shared=True):
    """A remote actor ``name`` on ``server`` following writer ``user_id``."""
    remote = server.add_user(name)
    actor = db.session.scalar(sa.select(RemoteActor).filter_by(uri=remote.uri))
    if actor is None:
        actor = RemoteActor(
            uri=remote.uri,
            domain=server.base.removeprefix("http://"),
            inbox=remote.inbox,
            shared_inbox=f"{server.base}/inbox" if shared else None,
            username=name,
            key_id=remote.key_id,
            public_key_pem=remote.public_pem,
        )
        db.session.add(actor)
        db.session.flush()
    db.session.add(
        RemoteFollower(
            user_id=user_id, actor_id=actor.id, follow_id=f"{remote.uri}#follow"
        )
    )
    db.session.commit()
    return actor


def writer(name="test"):
    return db.session.scalars(sa.select(User).filter_by(username=name)).one()


def publish(title="Hello fediverse", **fields):
    return writing.create_post(
        writer(), title, "Some *text*.", tags=[], publish=True, **fields
    )


@contextlib.contextmanager
def frozen(app, moment):
    """``app``'s context with the clock stopped at ``moment``."""
    with time_machine.travel(moment, tick=False), app.app_context():
        yield


def handle_and_send():
    """Run the event line, then the sender, as a server's timer does."""
    deliver_due_events()
    return delivery.deliver_due()


def checked(received: Received, owner="1"):
    """The activity a POST carried, once its signature checks with the key
    of ``owner`` (as it is now)."""
    parts = signatures.parse_signature(received.headers["signature"])
    sent_at = email.utils.parsedate_to_datetime(received.headers["date"])
    signatures.verify(
        "POST",
        received.path,
        received.headers,
        received.body,
        parts,
        keys.public_pem(owner),
        sent_at,
        dt.timedelta(minutes=1),
    )
    assert parts.key_id == ids.key_id(owner)
    return received.json()


def rows():
    db.session.expire_all()  # the sender writes with UPDATE statements
    return db.session.scalars(
        sa.select(FederationDelivery).order_by(FederationDelivery.id)
    ).all()


def test_a_post_goes_once_to_each_server_signed(fed, server):
    with fed.app_context():
        follow(server, "ann")
        follow(server, "bob")  # same server: one POST for both
        follow(server, "cat", shared=False)  # no shared inbox: its own
        post = publish()
        assert handle_and_send() == 2
        posts = server.inbox_posts()
        assert sorted(item.path for item in posts) == ["/inbox", "/users/cat/inbox"]
        for item in posts:
            activity = checked(item)
            assert activity["type"] == "Create"
            assert activity["actor"] == ids.actor(1)
            assert activity["to"] == [ids.PUBLIC]
            assert activity["cc"] == [ids.followers(1)]
            assert set(activity["object"]) >= ARTICLE_KEYS
            assert activity["object"]["id"] == ids.article(post.id)
            assert item.headers["content-type"].startswith("application/ld+json")
        assert all(row.done is not None for row in rows())
        # Nothing goes twice: not on the next round, nor if the handler ran
        # again on the same event.
        assert handle_and_send() == 0
        assert len(server.inbox_posts()) == 2


def test_a_draft_and_a_writer_without_followers_send_nothing(fed, server):
    with fed.app_context():
        writing.create_post(writer(), "Draft", "text", tags=[], publish=False)
        publish("Nobody follows yet")
        handle_and_send()
        assert rows() == []
        follow(server, "ann")
        post = db.session.scalars(sa.select(Post).filter_by(title="Draft")).one()
        lifecycle.move_to_trash(writer(), post)
        handle_and_send()
        # A post that never went out is deleted from no server.
        assert server.inbox_posts() == []


def test_an_edit_sends_an_update_per_version(fed, server):
    with fed.app_context():
        follow(server, "ann")
        post = publish()
        handle_and_send()
        writing.update_post(writer(), post, "Hello again", "New *text*.", tags=[])
        handle_and_send()
        writing.update_post(writer(), post, "Hello thrice", "New *text*.", tags=[])
        handle_and_send()
        sent = [checked(item) for item in server.inbox_posts()]
        assert [a["type"] for a in sent] == ["Create", "Update", "Update"]
        assert sent[1]["object"]["name"] == "Hello again"
        assert sent[2]["object"]["name"] == "Hello thrice"
        assert len({a["id"] for a in sent}) == 3
        assert sent[1]["id"].startswith(ids.article(post.id) + "#updates/")


@pytest.mark.parametrize(
    "how", ["unpublish", "trash", "delete", "unpublish in the editor"]
)
def test_a_post_taken_down_is_deleted_remotely(fed, server, how):
    with fed.app_context():
        follow(server, "ann")
        post = publish()
        handle_and_send()
        if how == "unpublish":
            lifecycle.unpublish(writer(), post)
        elif how == "unpublish in the editor":
            writing.update_post(
                writer(), post, post.title, "x", tags=[], unpublish=True
            )
        else:
            lifecycle.move_to_trash(writer(), post)
            if how == "delete":
                lifecycle.delete_forever(writer(), post)
        handle_and_send()
        sent = [checked(item) for item in server.inbox_posts()]
        assert sent[0]["type"] == "Create"
        deletes = sent[1:]
        assert deletes and {a["type"] for a in deletes} == {"Delete"}
        for activity in deletes:
            assert activity["object"] == {
                "id": ids.article(post.id),
                "type": "Tombstone",
            }
            assert activity["to"] == [ids.PUBLIC]


def test_a_restored_post_is_created_again(fed, server):
    with fed.app_context():
        follow(server, "ann")
        post = publish()
        handle_and_send()
        lifecycle.move_to_trash(writer(), post)
        handle_and_send()
        lifecycle.restore(writer(), post)
        handle_and_send()
        sent = [checked(item) for item in server.inbox_posts()]
        assert [a["type"] for a in sent] == ["Create", "Delete", "Create"]
        assert sent[0]["id"] != sent[2]["id"]


def test_a_scheduled_post_goes_when_it_comes_out(fed, server):
    now = dt.datetime.now(dt.UTC)
    with fed.app_context():
        follow(server, "ann")
        at = (now + dt.timedelta(hours=2)).replace(microsecond=0)
        publish("Later", schedule_at=at)
        handle_and_send()
        assert server.inbox_posts() == []
    with time_machine.travel(at + dt.timedelta(minutes=1)), fed.app_context():
        handle_and_send()
        [item] = server.inbox_posts()
        activity = checked(item)
        assert activity["type"] == "Create"
        assert activity["object"]["name"] == "Later"


def test_a_suspended_writer_s_post_does_not_go(fed, server):
    with fed.app_context():
        follow(server, "ann")
        publish()
        user = writer()
        user.state = "suspended"
        db.session.commit()
        handle_and_send()
        assert server.inbox_posts() == []


def test_a_server_error_is_retried_with_back_off(fed, server):
    start = dt.datetime.now(dt.UTC)
    server.inbox_status = 500
    with time_machine.travel(start, tick=False), fed.app_context():
        follow(server, "ann")
        publish()
        assert handle_and_send() == 0
        [row] = rows()
        assert (row.attempts, row.done, row.failed) == (1, None, False)
        assert row.last_error == "answered 500"
        assert row.next_attempt == start + dt.timedelta(minutes=1)
        delivery.deliver_due()  # not due yet: not tried
        assert len(server.inbox_posts()) == 1
    with frozen(fed, start + dt.timedelta(seconds=61)):
        delivery.deliver_due()
        [row] = rows()
        assert row.attempts == 2
        assert row.next_attempt == utc_now() + dt.timedelta(minutes=2)
    server.inbox_status = 202
    with frozen(fed, start + dt.timedelta(minutes=4)):
        assert delivery.deliver_due() == 1
        [row] = rows()
        assert row.done is not None and row.last_error is None
    assert len(server.inbox_posts()) == 3
    assert len({item.json()["id"] for item in server.inbox_posts()}) == 1


def utc_now():
    return dt.datetime.now(dt.UTC)


@pytest.mark.parametrize("status", [429, 503])
def test_retry_after_is_honoured(fed, server, status):
    server.inbox_status = status
    server.answer_headers = {"Retry-After": "600"}
    start = dt.datetime.now(dt.UTC)
    with time_machine.travel(start, tick=False), fed.app_context():
        follow(server, "ann")
        publish()
        handle_and_send()
        [row] = rows()
        assert row.next_attempt == start + dt.timedelta(seconds=600)
        assert not row.failed


def test_attempts_run_out(fed, server):
    server.inbox_status = 502
    start = dt.datetime.now(dt.UTC)
    with fed.app_context():
        follow(server, "ann")
        publish()
        deliver_due_events()
    attempts = fed.config["FEDERATION_MAX_ATTEMPTS"]
    for day in range(attempts):
        with frozen(fed, start + dt.timedelta(days=day, minutes=1)):
            delivery.deliver_due()
    with fed.app_context():
        [row] = rows()
        assert row.failed and row.attempts == attempts
    assert len(server.inbox_posts()) == attempts


def test_gone_fails_for_good_and_drops_the_follower(fed, server, security_events):
    server.status_of["/users/cat/inbox"] = 410
    with fed.app_context():
        follow(server, "ann")
        follow(server, "cat", shared=False)
        publish()
        handle_and_send()
        by_inbox = {row.inbox: row for row in rows()}
        gone = by_inbox[f"{server.base}/users/cat/inbox"]
        assert gone.failed and gone.last_error == "answered 410"
        assert by_inbox[f"{server.base}/inbox"].done is not None
        followers = db.session.scalars(
            sa.select(RemoteActor.username).join(
                RemoteFollower, RemoteFollower.actor_id == RemoteActor.id
            )
        ).all()
        assert followers == ["ann"]
    assert any(e["event"] == "fediverse_followers_gone" for e in security_events)


def test_a_refusal_fails_for_good(fed, server):
    server.inbox_status = 400
    with fed.app_context():
        follow(server, "ann")
        publish()
        handle_and_send()
        [row] = rows()
        assert row.failed and row.attempts == 1
        assert db.session.scalar(sa.select(sa.func.count(RemoteFollower.actor_id))) == 1
    with time_machine.travel(utc_now() + dt.timedelta(days=2)), fed.app_context():
        delivery.deliver_due()
    assert len(server.inbox_posts()) == 1


def test_a_failing_inbox_holds_back_its_other_deliveries(fed, server):
    server.status_of["/inbox"] = 500
    start = dt.datetime.now(dt.UTC)
    with time_machine.travel(start, tick=False), fed.app_context():
        follow(server, "ann")
        follow(server, "cat", shared=False)
        for number in range(3):
            publish(f"Post {number}")
        deliver_due_events()
        delivery.deliver_due()
        paths = [item.path for item in server.inbox_posts()]
        # The dead inbox cost one attempt; the live one got all three.
        assert paths.count("/inbox") == 1
        assert paths.count("/users/cat/inbox") == 3
        waiting = [row for row in rows() if row.inbox.endswith("/ap/inbox") is False]
        shared = [row for row in waiting if row.inbox == f"{server.base}/inbox"]
        assert [row.attempts for row in shared] == [1, 0, 0]
        assert {row.next_attempt for row in shared} == {start + dt.timedelta(minutes=1)}
    server.status_of.clear()
    with frozen(fed, start + dt.timedelta(minutes=2)):
        assert delivery.deliver_due() == 3
    assert [item.path for item in server.inbox_posts()].count("/inbox") == 4


def test_a_dead_sender_s_claim_is_sent_once_by_another(fed, server):
    start = dt.datetime.now(dt.UTC)
    with time_machine.travel(start, tick=False), fed.app_context():
        follow(server, "ann")
        publish()
        deliver_due_events()
        # A sender claims it and dies before POSTing.
        [claimed] = delivery._claim(20)
        assert delivery.deliver_due() == 0  # its lease holds
        assert server.inbox_posts() == []
    later = start + delivery.CLAIM_LEASE + dt.timedelta(seconds=1)
    with time_machine.travel(later, tick=False), fed.app_context():
        assert delivery.deliver_due() == 1
        assert delivery.deliver_due() == 0
        [row] = rows()
        assert row.id == claimed.id and row.attempts == 2 and row.done is not None
    [item] = server.inbox_posts()
    assert item.json()["type"] == "Create"


def test_a_blocked_server_gets_nothing(fed, server):
    with fed.app_context():
        follow(server, "ann")
        publish()
        db.session.add(BlockedDomain(domain="127.0.0.1"))
        db.session.commit()
        handle_and_send()
        [row] = rows()
        assert row.failed and row.last_error == "domain blocked"
    assert server.inbox_posts() == []


def test_a_deleted_account_s_actor_is_deleted_remotely(fed, server):
    with fed.app_context():
        follow(server, "ann")
        follow(server, "cat", shared=False)
        publish()
        handle_and_send()
        public_pem = keys.public_pem("1")
        users.delete_account(writer(), "test", keep_posts=False)
        event_inboxes = handle_and_send()
        assert event_inboxes == 2
        # Its key signed the Delete, then went.
        assert db.session.get(ActorKey, "1") is None
    deletes = [item for item in server.inbox_posts()[2:]]
    assert sorted(item.path for item in deletes) == ["/inbox", "/users/cat/inbox"]
    for item in deletes:
        parts = signatures.parse_signature(item.headers["signature"])
        signatures.verify(
            "POST",
            item.path,
            item.headers,
            item.body,
            parts,
            public_pem,
            email.utils.parsedate_to_datetime(item.headers["date"]),
            dt.timedelta(minutes=1),
        )
        activity = item.json()
        assert activity["type"] == "Delete"
        assert activity["actor"] == activity["object"] == "http://localhost/ap/users/1"


def test_a_deleted_account_without_followers_loses_its_key_at_once(fed, server):
    with fed.app_context():
        keys.key_of("1")
        db.session.commit()
        users.delete_account(writer(), "test", keep_posts=True)
        deliver_due_events()
        assert db.session.get(ActorKey, "1") is None
        assert rows() == []


def test_a_rename_updates_the_actor(fed, server):
    with fed.app_context():
        follow(server, "ann")
        users.rename(writer(), "tess", "test")
        handle_and_send()
        [item] = server.inbox_posts()
        activity = checked(item)
        assert activity["type"] == "Update"
        assert activity["object"]["preferredUsername"] == "tess"


def test_a_profile_change_updates_the_actor(fed, server):
    with fed.app_context():
        follow(server, "ann")
        profiles.update_profile(
            writer(), display_name="Tess Writer", bio="Writes.", website=""
        )
        follows_service.set_approval(writer(), True)
        follows_service.set_approval(writer(), True)  # no change: nothing sent
        handle_and_send()
        updates = [checked(item) for item in server.inbox_posts()]
        assert [update["type"] for update in updates] == ["Update", "Update"]
        assert updates[0]["object"]["name"] == "Tess Writer"
        assert updates[1]["object"]["manuallyApprovesFollowers"] is True


def test_rotate_keys_tells_the_followers(fed, server):
    runner = fed.test_cli_runner()
    with fed.app_context():
        follow(server, "ann")
        old = keys.public_pem("1")
        db.session.commit()
    result = runner.invoke(args=["federation", "rotate-keys", "--user", "test"])
    assert result.exit_code == 0, result.output
    assert "Rotated 1 key." in result.output
    result = runner.invoke(args=["deliver-federation"])
    assert "Delivered 1 activity." in result.output
    with fed.app_context():
        new = keys.public_pem("1")
        assert new != old
        [item] = server.inbox_posts()
        activity = checked(item)  # signed with the new key
        assert activity["type"] == "Update"
        assert activity["object"]["publicKey"]["publicKeyPem"] == new


def test_rotate_the_site_key_tells_every_known_server(fed, server):
    runner = fed.test_cli_runner()
    with fed.app_context():
        follow(server, "ann")
        follow(server, "cat", shared=False)
    result = runner.invoke(args=["federation", "rotate-keys", "--site"])
    assert result.exit_code == 0, result.output
    runner.invoke(args=["deliver-federation"])
    with fed.app_context():
        posts = server.inbox_posts()
        assert sorted(item.path for item in posts) == ["/inbox", "/users/cat/inbox"]
        for item in posts:
            activity = checked(item, owner="site")
            assert activity["object"]["id"] == ids.site_actor()


@pytest.mark.parametrize(
    "args", [[], ["--user", "test", "--site"], ["--user", "nobody"]]
)
def test_rotate_keys_wants_one_known_choice(fed, args):
    result = fed.test_cli_runner().invoke(args=["federation", "rotate-keys", *args])
    assert result.exit_code != 0


def test_status_shows_what_waits_by_inbox(fed, server):
    server.status_of["/inbox"] = 500
    server.status_of["/users/cat/inbox"] = 403
    with fed.app_context():
        follow(server, "ann")
        follow(server, "cat", shared=False)
        publish()
        handle_and_send()
    output = fed.test_cli_runner().invoke(args=["federation", "status"]).output
    lines = output.splitlines()
    assert lines[0].startswith(f"{server.base}/inbox: 1 queued, 0 failed, next try")
    assert "(last error: answered 500)" in lines[0]
    assert lines[1] == (
        f"{server.base}/users/cat/inbox: 0 queued, 1 failed (last error: answered 403)"
    )


def test_every_server_s_timer_sends(fed, server):
    with fed.app_context():
        follow(server, "ann")
        publish()
    fed.extensions["flaskr.background"].run_once()
    [item] = server.inbox_posts()
    assert item.json()["type"] == "Create"


def test_nothing_goes_when_the_site_does_not_federate(app_with, server):
    app = app_with(**FEDERATION_TEST_CONFIG, FEDERATION=False)
    with app.app_context():
        follow(server, "ann")
        publish()
        assert handle_and_send() == 0
        assert rows() == []


def test_a_failure_holds_back_what_falls_due_before_the_retry(fed, server):
    server.inbox_status = 500
    start = dt.datetime.now(dt.UTC)
    with time_machine.travel(start, tick=False), fed.app_context():
        follow(server, "ann")
        publish("First")
        publish("Second")
        deliver_due_events()
        second = rows()[1]
        # In a back-off of its own that ends before the first's retry.
        second.next_attempt = start + dt.timedelta(seconds=30)
        db.session.commit()
        delivery.deliver_due()
        assert len(server.inbox_posts()) == 1
        first, second = rows()
        assert first.attempts == 1 and second.attempts == 0
        assert (
            second.next_attempt == first.next_attempt == start + dt.timedelta(minutes=1)
        )


def test_no_transaction_is_open_while_posting(fed, server, monkeypatch):
    seen = []
    post = delivery.client.deliver

    def deliver(*args, **kwargs):
        seen.append(db.session().in_transaction())
        return post(*args, **kwargs)

    monkeypatch.setattr(delivery.client, "deliver", deliver)
    with fed.app_context():
        follow(server, "ann")
        follow(server, "cat", shared=False)
        publish()
        assert handle_and_send() == 2
    assert seen == [False, False]


def test_a_purged_account_s_actor_is_deleted_remotely(fed, server):
    with fed.app_context():
        follow(server, "ann")
        keys.key_of("1")
        user = writer()
        user.state = REMOVED
        user.state_changed = dt.datetime(2020, 1, 1, tzinfo=dt.UTC)
        db.session.commit()
        assert removal.purge_removed_accounts() == 1
        assert handle_and_send() == 1
        assert db.session.get(ActorKey, "1") is None
    [item] = server.inbox_posts()
    assert item.json()["type"] == "Delete"
    assert item.json()["object"] == "http://localhost/ap/users/1"


def make_admin(name="other"):
    user = writer(name)
    user.role = "admin"
    db.session.commit()
    return user


def test_a_suspension_deletes_the_posts_and_lifting_it_sends_them_again(fed, server):
    with fed.app_context():
        follow(server, "ann")
        post = publish()
        writing.create_post(writer(), "A draft", "Not out.", tags=[], publish=False)
        handle_and_send()
        admin = make_admin()
        members.suspend(admin, writer(), "Spam")
        handle_and_send()
        members.lift(admin, writer())
        handle_and_send()
        kinds = [
            (activity["type"], activity["object"]["id"])
            for activity in (checked(item) for item in server.inbox_posts())
        ]
        article = ids.article(post.id)
    # The tutorial's test post never went out, and the draft never will.
    assert kinds == [("Create", article), ("Delete", article), ("Create", article)]


def test_a_removal_deletes_the_posts_and_a_restore_sends_them_again(fed, server):
    with fed.app_context():
        follow(server, "ann")
        post = publish()
        handle_and_send()
        admin = make_admin()
        counts = removal.removal_counts(writer())
        removal.remove(
            admin,
            writer(),
            "Spam",
            expected_posts=counts.posts,
            expected_comments=counts.comments,
        )
        handle_and_send()
        removal.restore(admin, writer())
        handle_and_send()
        kinds = [
            (activity["type"], activity["object"]["id"])
            for activity in (checked(item) for item in server.inbox_posts())
        ]
        article = ids.article(post.id)
    assert kinds == [("Create", article), ("Delete", article), ("Create", article)]


def test_a_suspension_lifted_before_it_was_handled_sends_nothing(fed, server):
    with fed.app_context():
        follow(server, "ann")
        publish()
        handle_and_send()
        admin = make_admin()
        members.suspend(admin, writer(), "Spam")
        members.lift(admin, writer())
        handle_and_send()
        kinds = [checked(item)["type"] for item in server.inbox_posts()]
    # The Delete is skipped (active again); the Create goes with a new id,
    # harmless to a server that still has the post.
    assert kinds[:1] == ["Create"] and "Delete" not in kinds
