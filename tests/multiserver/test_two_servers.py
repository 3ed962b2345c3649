"""Two gunicorn servers sharing only PostgreSQL and Redis behave as one site.

Run with ``./dev.sh multiserver`` (CI does): it needs the machine's PostgreSQL
(``FLASKR_TEST_DATABASE_URL``, whose tables it empties) and Redis
(``FLASKR_TEST_REDIS_URL``).
"""

from __future__ import annotations

import io
import re
import threading
import time

import pytest
import redis
import requests
from PIL import Image as Pillow

from tests.multiserver.conftest import Browser
from tests.multiserver.conftest import DATABASE
from tests.multiserver.conftest import PAGE_PREFIX
from tests.multiserver.conftest import PASSWORD
from tests.multiserver.conftest import REDIS
from tests.multiserver.conftest import unique

pytestmark = pytest.mark.multiserver


def test_a_session_made_on_one_works_on_the_other(servers):
    a, b = servers
    browser = Browser()
    name = unique("alice")
    browser.register_and_log_in(a, name)
    page = browser.get(b, "/auth/account")
    assert page.status_code == 200
    assert f"<strong>{name}</strong>" in page.text


def test_logging_out_on_one_ends_the_session_on_both(servers):
    a, b = servers
    browser = Browser()
    browser.register_and_log_in(a, unique("bob"))
    copied = dict(browser.http.cookies)
    assert browser.post(b, "/auth/logout", "/auth/logout").status_code == 302
    assert not browser.logged_in(a)
    thief = Browser()
    thief.http.cookies.update(copied)
    assert not thief.logged_in(a) and not thief.logged_in(b)


def test_a_password_change_on_one_logs_out_sessions_on_the_other(servers):
    a, b = servers
    name = unique("carol")
    laptop, phone = Browser(), Browser()
    laptop.register_and_log_in(a, name)
    assert phone.log_in(b, name).status_code == 302
    response = laptop.post(
        a,
        "/auth/account/password",
        "/auth/account",
        **{
            "password-current_password": PASSWORD,
            "password-new_password": "a new one!",
        },
    )
    assert response.status_code == 302
    assert not phone.logged_in(b) and not phone.logged_in(a)
    assert laptop.logged_in(a) and laptop.logged_in(b)


def test_rate_limits_count_across_both(servers):
    a, b = servers
    name = unique("dave")
    Browser().register_and_log_in(a, name)
    for attempt in range(5):
        server = (a, b)[attempt % 2]
        assert Browser().log_in(server, name, "wrong").status_code == 422
    for server in (a, b):
        response = Browser().log_in(server, name)  # the right password
        assert response.status_code == 429
        assert int(response.headers["Retry-After"]) > 0


def test_posts_and_images_written_on_one_are_on_the_other_at_once(servers):
    a, b = servers
    writer = Browser()
    writer.register_and_log_in(a, unique("erin"))
    picture = io.BytesIO()
    Pillow.new("RGB", (30, 20), (0, 128, 255)).save(picture, "PNG")
    title = unique("Shared post ")
    response = writer.post(
        a,
        "/create",
        "/create",
        title=title,
        body="Written on server A",
        tags="shared",
        image_alt="A blue rectangle",
        action="publish",
        _files={"image_file": ("blue.png", picture.getvalue(), "image/png")},
    )
    assert response.status_code == 302
    post_path = response.headers["Location"]

    reader = Browser()
    assert title in reader.get(b, "/").text
    page = reader.get(b, post_path)
    assert page.status_code == 200
    image = re.search(
        r'<img src="(/images/\d+\.webp)" alt="A blue rectangle"', page.text
    )
    served = reader.get(b, image.group(1))
    assert served.status_code == 200
    assert served.headers["Content-Type"] == "image/webp"
    assert title in reader.get(b, "/tag/shared").text


def test_pages_kept_by_either_server_change_at_once(servers):
    """Every worker of both servers keeps the post page (for a visitor and for
    a logged-in reader); an edit on one server shows on all of them at once."""
    a, b = servers
    writer = Browser()
    writer.register_and_log_in(a, unique("fay"))
    before, after = unique("before"), unique("after")
    title = unique("Kept post ")
    response = writer.post(
        a, "/create", "/create", title=title, body=before, action="publish"
    )
    post_path = response.headers["Location"]
    visitor, member = Browser(), Browser()
    member.register_and_log_in(b, unique("gus"))
    readings = [(server, who) for server in (a, b) for who in (visitor, member)] * 6
    for server, who in readings:
        assert before in who.get(server, post_path).text

    # The post's own actions stay under its id; its address is /p/<slug>.
    post_id = re.search(r'href="/(\d+)/update"', writer.get(a, post_path).text)
    assert post_id is not None
    edit = f"/{post_id.group(1)}/update"
    assert writer.post(a, edit, edit, title=title, body=after).status_code == 302
    for server, who in readings:
        page = who.get(server, post_path).text
        assert after in page
        assert before not in page


def test_a_page_asked_once_on_each_server_is_kept_once_for_both(servers):
    """The first request (on one server) is remembered in Redis, so the second
    (on the other) keeps the page there; then every worker of both serves it,
    and an edit on either still shows at once everywhere."""
    a, b = servers
    writer = Browser()
    name = unique("uma")
    writer.register_and_log_in(a, name)
    title = unique("Shared ")
    response = writer.post(
        a, "/create", "/create", title=title, body="x", action="publish"
    )
    post_path = response.headers["Location"]
    shared = redis.Redis.from_url(REDIS)
    before = set(shared.scan_iter(match=PAGE_PREFIX + "*page:*"))

    def read(server: str) -> str:
        # Behind a load balancer both servers see the site's one host name.
        site = {"Host": a.removeprefix("http://")}
        return requests.get(server + post_path, headers=site, timeout=10).text

    assert title in read(a)
    assert title in read(b)
    assert len(set(shared.scan_iter(match=PAGE_PREFIX + "*page:*")) - before) == 1
    for server in (a, b) * 4:
        assert title in read(server)
    post_id = re.search(r'href="/(\d+)/update"', writer.get(a, post_path).text)
    assert post_id is not None
    edit = f"/{post_id.group(1)}/update"
    renamed = unique("Renamed ")
    assert writer.post(b, edit, edit, title=renamed, body="x").status_code == 302
    for server in (a, b) * 4:
        assert renamed in read(server)


def test_likes_and_comments_on_one_server_show_on_kept_pages_of_both(servers):
    """A like and a comment on one server show at once on the post's page and
    the index kept by every worker of both servers (they move the post's
    stamp, not the site version: tests/test_page_cache.py checks that pages
    of other posts stay kept)."""
    a, b = servers
    writer, fan = Browser(), Browser()
    writer.register_and_log_in(a, unique("kim"))
    fan.register_and_log_in(b, unique("lee"))
    response = writer.post(
        a, "/create", "/create", title=unique("Liked "), body="text", action="publish"
    )
    liked = response.headers["Location"]
    visitor = Browser()
    readings = [(server, path) for server in (a, b) for path in (liked, "/")] * 6
    for server, path in readings:
        # Counts show only once there is something to count.
        assert "1 like<" not in visitor.get(server, path).text
    found = re.search(r'action="/(\d+)/like"', fan.get(b, liked).text)
    assert found is not None
    actions = f"/{found.group(1)}"
    assert fan.post(b, f"{actions}/like", liked, liked="yes").status_code == 302
    comment = unique("A comment ")
    assert fan.post(a, f"{actions}/comments", liked, body=comment).status_code == 302
    for server, path in readings:
        page = visitor.get(server, path).text
        assert "1 like<" in page
        assert "1 comment<" in page or comment in page


def test_a_follow_on_one_server_shows_on_kept_pages_of_both(servers):
    """A reader's author page, kept by every worker of both servers, shows the
    new follow at once, and so does an API token on the other server."""
    a, b = servers
    writer_name, reader_name = unique("hal"), unique("ivy")
    Browser().register_and_log_in(a, writer_name)
    reader = Browser()
    reader.register_and_log_in(a, reader_name)
    page = f"/u/{writer_name}"
    for server in (a, b) * 6:
        assert "1 follower<" not in reader.get(server, page).text
    assert (
        reader.post(a, f"{page}/follow", page, following="yes", next=page).status_code
        == 302
    )
    for server in (a, b) * 6:
        text = reader.get(server, page).text
        assert "1 follower<" in text and 'aria-pressed="true"' in text
    # An API token from one server works on the other, until the account
    # page of either ends it.
    user = {"username": unique("joe"), "email": "joe@example.org", "password": PASSWORD}
    token = requests.post(f"{a}/api/users", json={"user": user}, timeout=10).json()
    headers = {"Authorization": f"Token {token['user']['token']}"}
    assert requests.get(f"{b}/api/user", headers=headers, timeout=10).ok


def test_mail_recorded_while_smtp_is_down_arrives_once_from_two_servers(servers, smtp):
    """Every worker of both servers looks for due mail on its timer, at once:
    each mail still goes out exactly once (claimed with FOR UPDATE SKIP
    LOCKED). The requests here change nothing: the timers do the work."""
    import datetime as dt

    import sqlalchemy as sa

    from flaskr import create_app
    from flaskr.db import db
    from flaskr.models import OutboxMail
    from flaskr.services.base.mail import record_mail
    from tests.conftest import make_config

    smtp.stop()
    recorder = create_app(make_config(DATABASE, MAIL_SERVER="127.0.0.1"))
    with recorder.app_context():
        # Only this test's mail: earlier tests' registrations mailed links.
        db.session.execute(sa.delete(OutboxMail))
        for number in range(30):
            record_mail(f"reader{number}@example.org", "test")
        db.session.commit()
    tried = sa.select(sa.func.count()).where(
        OutboxMail.sent.is_(None), OutboxMail.attempts >= 1
    )
    deadline = time.monotonic() + 20
    with recorder.app_context():
        # Each server tries on its timer, fails, and backs off.
        while db.session.scalar(tried) < 30 and time.monotonic() < deadline:
            for server in servers:
                requests.get(f"{server}/hello", timeout=10)
            db.session.rollback()
            time.sleep(0.2)
        assert db.session.scalar(tried) == 30

    smtp.start()
    with recorder.app_context():
        db.session.execute(
            sa.update(OutboxMail).values(
                next_attempt=dt.datetime(2020, 1, 1, tzinfo=dt.UTC)
            )
        )
        db.session.commit()

    def hit(server: str) -> None:
        for _ in range(5):
            requests.get(f"{server}/hello", timeout=10)

    threads = [threading.Thread(target=hit, args=(server,)) for server in servers * 3]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    # The inbox is the module's: the test before this one registers an
    # account, whose mail goes out after its response and may land before
    # this test stops the server or never (deleted above), as timing has it.
    def readers() -> list[str]:
        return sorted(
            message["To"]
            for message in smtp.inbox.messages
            if message["To"].startswith("reader")
        )

    deadline = time.monotonic() + 20
    while len(readers()) < 30 and time.monotonic() < deadline:
        requests.get(f"{servers[0]}/hello", timeout=10)
        time.sleep(0.2)
    assert readers() == sorted(f"reader{n}@example.org" for n in range(30))
    time.sleep(1)  # any second sending would show by now
    assert len(readers()) == 30
    with recorder.app_context():
        db.session.execute(sa.delete(OutboxMail))
        db.session.commit()
        db.engine.dispose()
