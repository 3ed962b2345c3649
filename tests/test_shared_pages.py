"""The page cache's second tier in Redis: a page kept by one server is served by
the others, never after a change that shows on it, and a Redis that fails
leaves every page working.

Two apps on one database and one Redis stand for two servers (each app is a
process of its own as far as the page cache knows). The Redis is a private
``redis-server`` on a free port, so a test can stop it."""

import secrets
import shutil
import subprocess
import time

import pytest
import redis
import sqlalchemy as sa

from flaskr.db import db
from flaskr.models import Comment
from flaskr.plumbing.page_cache import PageCache
from tests.conftest import add_test_data
from tests.conftest import csrf_token_from
from tests.conftest import recorded_statements
from tests.helpers import comment
from tests.helpers import free_port
from tests.helpers import like
from tests.helpers import logged_in
from tests.helpers import rename
from tests.helpers import save_profile
from tests.helpers import write


class RedisServer:
    """A ``redis-server`` of its own on 127.0.0.1, keeping nothing on disk."""

    def __init__(self) -> None:
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(  # noqa: S603
            [
                shutil.which("redis-server") or "redis-server",
                "--bind", "127.0.0.1", "--port", str(self.port),
                "--save", "", "--appendonly", "no",
            ],
            stdout=subprocess.DEVNULL,
        )  # fmt: skip
        client = redis.Redis.from_url(self.url)
        deadline = time.monotonic() + 10
        while True:
            try:
                client.ping()
                return
            except redis.ConnectionError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=10)
            self.process = None


@pytest.fixture(scope="module")
def redis_server():
    if shutil.which("redis-server") is None:
        pytest.skip("redis-server is not installed (apt-get install redis-server)")
    server = RedisServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def servers(make_app, password_hashes, redis_server):
    """Make apps ("servers") sharing the test database and the Redis, with a
    key prefix of this test's own."""
    prefix = f"test:{secrets.token_hex(4)}:"
    settings = {"REDIS_URL": redis_server.url, "PAGE_CACHE_REDIS_PREFIX": prefix}
    made = []

    def make(**overrides):
        app = make_app(**{**settings, **overrides})
        if not made:
            with app.app_context():
                add_test_data(password_hashes)
        made.append(app)
        return app

    return make


def cache_of(app) -> PageCache:
    assert isinstance(app.wsgi_app, PageCache)
    return app.wsgi_app


def page(app, path, **options):
    response = app.test_client().get(path, follow_redirects=True, **options)
    assert response.status_code == 200, path
    return response.get_data(as_text=True)


def rendered(app, path) -> bool:
    """Ask ``app`` for ``path`` as a visitor; return whether it was rendered
    (neither tier of the page cache answered)."""
    hits = cache_of(app).hits
    assert app.test_client().get(path).status_code == 200
    return cache_of(app).hits == hits


def test_a_page_kept_by_one_server_is_served_by_the_other(servers):
    first, second = servers(), servers()
    page(first, "/")
    kept = page(first, "/")  # asked again: kept, in both tiers
    with recorded_statements(second) as statements:
        assert page(second, "/") == kept
    assert [sql for sql, _ in statements if "site_version" not in sql] == []
    assert cache_of(second).shared.hits == 1
    # Now in the second server's memory too: no round trip to Redis.
    assert not rendered(second, "/")
    assert cache_of(second).shared.hits == 1


def test_a_page_asked_once_on_each_server_is_kept(servers):
    first, second = servers(), servers()
    assert rendered(first, "/u/test")
    assert rendered(second, "/u/test")  # asked before, on the other server
    assert not rendered(first, "/u/test")
    assert cache_of(first).shared.hits == 1


def test_a_page_asked_once_reads_no_version(servers):
    app = servers()
    with recorded_statements(app) as statements:
        page(app, "/search?q=test")
    assert not any("site_version" in sql for sql, _ in statements)


def test_served_compressed_from_redis_to_a_client_that_accepts_it(servers):
    first, second = servers(), servers()
    page(first, "/")
    kept = page(first, "/")
    zipped = second.test_client().get("/", headers={"Accept-Encoding": "gzip"})
    assert zipped.headers["Content-Encoding"] == "gzip"
    plain = servers().test_client().get("/")
    assert "Content-Encoding" not in plain.headers
    assert plain.get_data(as_text=True) == kept


def edit_post(app):
    write(logged_in(app), "/1/update", title="News here", body="new")


def new_post(app):
    write(logged_in(app), title="News here", tags="fresh")


def like_post(app):
    like(logged_in(app, "other", "other"))


def unlike_post(app):
    like_post(app)
    like(logged_in(app, "other", "other"), liked="no")


def comment_on_post(app):
    comment(logged_in(app, "other", "other"), "News here")


def delete_a_comment(app):
    client = logged_in(app, "other", "other")
    comment(client, "Soon gone")
    with app.app_context():
        comment_id = db.session.scalar(sa.select(sa.func.max(Comment.id)))
    token = csrf_token_from(client, "/1")
    client.post(f"/comments/{comment_id}/delete", data={"csrf_token": token})


def edit_profile(app):
    save_profile(logged_in(app), display_name="News here", bio="News here")


def rename_writer(app):
    rename(logged_in(app), "News-here")


def trash_post(app):
    client = logged_in(app)
    client.post("/1/delete", data={"csrf_token": csrf_token_from(client, "/1/delete")})


#: (change, a page it shows on, what the page says before, what it says after)
CHANGES = [
    (edit_post, "/1", "test title", "News here"),
    (edit_post, "/", "test title", "News here"),
    (new_post, "/", "test title", "News here"),
    (new_post, "/u/test", "test title", "News here"),
    (like_post, "/1", "test title", "1 like<"),
    (like_post, "/", "test title", "1 like<"),
    (unlike_post, "/1", "test title", "test title"),
    (comment_on_post, "/1", "test title", "News here"),
    (comment_on_post, "/", "test title", "1 comment<"),
    (delete_a_comment, "/1", "test title", "test title"),
    (edit_profile, "/u/test", "test title", "News here"),
    (rename_writer, "/", "test title", "News-here"),
    (trash_post, "/", "test title", "No posts yet"),
]


@pytest.mark.parametrize(("change", "path", "before", "after"), CHANGES)
@pytest.mark.parametrize("writer", [0, 1])
def test_no_server_serves_a_page_older_than_a_change(
    servers, change, path, before, after, writer
):
    """Both servers keep the page in both tiers; a change made through either
    shows at once on both, and on a third server that starts after it (whose
    memory is empty, so the page could only come stale from Redis)."""
    first, second = servers(), servers()
    for app in (first, second, first, second):
        assert before in page(app, path)
    change((first, second)[writer])
    shown = [page(app, path) for app in (first, second, servers(), second, first)]
    for text in shown:
        assert after in text
    if change in (unlike_post, delete_a_comment):
        assert all("1 like<" not in text and "Soon gone" not in text for text in shown)


def test_an_entry_rendered_before_a_like_on_its_post_is_not_served(servers):
    """The shared entry of post 1's page was rendered before the like; a server
    that did not see the like happen (a new one) must not serve it."""
    first = servers()
    page(first, "/1")
    page(first, "/1")  # kept in Redis without the like
    like_post(servers())
    assert "1 like<" in page(servers(), "/1")


def test_a_like_leaves_the_shared_pages_of_other_posts(servers):
    first, second = servers(), servers()
    write(logged_in(first), title="Second", body="text")
    page(first, "/p/second")
    page(first, "/p/second")
    page(second, "/1")
    page(second, "/1")  # the second server read the versions before the like
    like_post(first)
    # It knows which posts were liked since: no statement about the entry.
    with recorded_statements(second) as statements:
        assert not rendered(second, "/p/second")
    assert len(statements) == 2, statements  # the versions, then what was liked
    assert cache_of(second).shared.hits == 1
    assert "1 like<" in page(second, "/1")
    # A server that started after the like asks the database about the entry.
    third = servers()
    with recorded_statements(third) as statements:
        page(third, "/p/second")
    assert cache_of(third).shared.hits == 1
    assert len(statements) == 2, statements


def test_an_entry_this_site_did_not_sign_is_not_served(servers, redis_server):
    first = servers()
    page(first, "/")
    page(first, "/")
    client = redis.Redis.from_url(redis_server.url)
    shared = cache_of(first).shared
    [name] = client.keys(shared.prefix + "page:*")
    client.set(name, client.get(name).replace(b"test title", b"forged text"))
    assert "forged text" not in page(servers(), "/")
    other_site = servers(SECRET_KEY="another site's key, as long as ours")
    assert rendered(other_site, "/")


def test_without_redis_pages_are_kept_in_each_process(servers, caplog):
    """Redis refuses connections: every page works, kept in memory only, and
    the failure is logged once, not per request."""
    app = servers(REDIS_URL=f"redis://127.0.0.1:{free_port()}/0")
    for _ in range(4):
        assert "test title" in page(app, "/")
    assert not rendered(app, "/")
    warnings = [r for r in caplog.records if "Redis failed" in r.getMessage()]
    assert len(warnings) == 1


def test_redis_stopping_mid_way_costs_no_error_and_no_stale_page(servers):
    own = RedisServer()
    own.start()
    try:
        first = servers(REDIS_URL=own.url)
        second = servers(REDIS_URL=own.url)
        page(first, "/")
        page(first, "/")
        assert "test title" in page(second, "/")
    finally:
        own.stop()
    edit_post(first)
    for app in (first, second, first, second):
        assert "News here" in page(app, "/")


def test_init_db_forgets_the_shared_pages(servers, redis_server):
    app = servers()
    page(app, "/")
    page(app, "/")
    client = redis.Redis.from_url(redis_server.url)
    prefix = app.config["PAGE_CACHE_REDIS_PREFIX"]
    assert client.keys(prefix + "*")
    result = app.test_cli_runner().invoke(args=["init-db", "--yes"])
    assert result.exit_code == 0, result.output
    assert client.keys(prefix + "*") == []


def test_forms_work_while_redis_is_down(servers):
    """Throttling counts in Redis too (``REDIS_URL``); without it, each process
    counts on its own and the form is handled."""
    app = servers(
        REDIS_URL=f"redis://127.0.0.1:{free_port()}/0", RATELIMIT_ENABLED=True
    )
    assert app.config["RATELIMIT_STORAGE_URI"] == app.config["REDIS_URL"]
    client = logged_in(app)
    response = write(client, "/1/update", title="Written anyway", body="text")
    assert response.status_code == 302
    assert "Written anyway" in page(app, "/")
