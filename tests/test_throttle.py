import time
import uuid

import pytest

from tests.conftest import AuthActions
from tests.conftest import csrf_token_from


class Clock:
    """Stands in for ``time.time`` so windows can pass without waiting."""

    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock(monkeypatch):
    clock = Clock()
    monkeypatch.setattr(time, "time", clock)
    return clock


@pytest.fixture
def throttled(app_with):
    return app_with(RATELIMIT_ENABLED=True)


def login(app, username, password, address="127.0.0.1"):
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    return AuthActions(client).login(username, password)


def fail(app, username, times, address="127.0.0.1"):
    for _ in range(times):
        assert login(app, username, "wrong", address).status_code == 422


def test_account_lockout_refuses_even_the_right_password(throttled, clock):
    fail(throttled, "test", 5)
    response = login(throttled, "test", "test", address="127.0.0.9")
    assert response.status_code == 429
    assert 1 <= int(response.headers["Retry-After"]) <= 60
    page = response.get_data(as_text=True)
    assert "Too many failed attempts to log in to this account" in page
    assert 'href="#main"' in page  # the site's own error page


def test_lockout_ends_by_itself(throttled, clock):
    fail(throttled, "test", 5)
    assert login(throttled, "test", "test").status_code == 429
    clock.advance(61)
    assert login(throttled, "test", "test").status_code == 302


def test_lockout_grows_with_repeated_failures(throttled, clock):
    fail(throttled, "test", 5)
    clock.advance(61)
    fail(throttled, "test", 5)
    response = login(throttled, "test", "test")
    assert response.status_code == 429
    assert int(response.headers["Retry-After"]) > 60
    clock.advance(61)
    assert login(throttled, "test", "test").status_code == 429
    clock.advance(5 * 60)
    assert login(throttled, "test", "test").status_code == 302


def test_longest_lockout_is_bounded(throttled, clock):
    # An attacker tries every 30 seconds for an hour: at most 15 guesses in
    # any 15 minutes are checked, the rest are refused without a check.
    statuses = []
    for _ in range(120):
        statuses.append(login(throttled, "test", "wrong").status_code)
        clock.advance(30)
    assert set(statuses) == {422, 429}
    assert statuses.count(422) <= 4 * 15
    # Once they stop, the owner waits at most 15 minutes.
    response = login(throttled, "test", "test")
    if response.status_code == 429:
        assert int(response.headers["Retry-After"]) <= 15 * 60
    clock.advance(15 * 60)
    assert login(throttled, "test", "test").status_code == 302


def test_unknown_account_is_locked_out_the_same_way(throttled, clock):
    fail(throttled, "nobody", 5)
    response = login(throttled, "nobody", "whatever")
    assert response.status_code == 429
    assert "Retry-After" in response.headers


def test_success_forgets_earlier_failures(throttled, clock):
    fail(throttled, "test", 4)
    assert login(throttled, "test", "test").status_code == 302
    fail(throttled, "test", 4)
    assert login(throttled, "test", "test").status_code == 302


def test_failed_logins_per_address(throttled, clock):
    for number in range(10):
        assert login(throttled, f"user{number}", "wrong").status_code == 422
    response = login(throttled, "other", "other")
    assert response.status_code == 429
    assert "Retry-After" in response.headers
    assert login(throttled, "other", "other", address="127.0.0.2").status_code == 302


def test_registration_is_throttled(throttled, clock):
    client = throttled.test_client()
    for number in range(11):
        response = client.post(
            "/auth/register",
            data={
                "username": f"new{number}",
                "password": "a long enough password",
                "csrf_token": csrf_token_from(client, "/auth/register"),
            },
        )
    assert response.status_code == 429
    assert "Retry-After" in response.headers


def test_every_post_form_is_throttled_but_not_pages(app_with, clock):
    app = app_with(RATELIMIT_ENABLED=True, RATELIMIT_DEFAULT="3 per minute")
    client = app.test_client()
    AuthActions(client).login()
    statuses = []
    for number in range(4):
        token = csrf_token_from(client, "/create")
        response = client.post(
            "/create", data={"title": f"t{number}", "csrf_token": token}
        )
        statuses.append(response.status_code)
    assert statuses == [302, 302, 302, 429]
    assert all(client.get("/").status_code == 200 for _ in range(10))


def redis_reachable():
    import redis

    try:
        return redis.Redis(host="127.0.0.1", port=6379).ping()
    except redis.RedisError:
        return False


@pytest.mark.skipif(not redis_reachable(), reason="no Redis on 127.0.0.1:6379")
def test_lockout_with_redis_storage(app_with):
    app = app_with(
        RATELIMIT_ENABLED=True, RATELIMIT_STORAGE_URI="redis://127.0.0.1:6379/0"
    )
    # A fresh name and address each run: Redis outlives the test.
    name = f"redis-{uuid.uuid4().hex[:12]}"
    address = "127.{}.{}.{}".format(*uuid.uuid4().bytes[:3])
    fail(app, name, 5, address)
    response = login(app, name, "whatever", address)
    assert response.status_code == 429
    assert 1 <= int(response.headers["Retry-After"]) <= 60
