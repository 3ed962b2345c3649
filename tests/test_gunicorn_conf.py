"""The gunicorn settings file: its defaults and the memory trimmer."""

import gc
import multiprocessing
import runpy
import types
from pathlib import Path

import pytest

CONF = Path(__file__).parents[1] / "gunicorn.conf.py"


@pytest.fixture
def settings(monkeypatch):
    for name in (
        "WEB_CONCURRENCY",
        "FLASKR_WORKER_CLASS",
        "FLASKR_THREADS",
        "FLASKR_MAX_REQUESTS",
        "FLASKR_TRIM_MEMORY_AFTER",
    ):
        monkeypatch.delenv(name, raising=False)
    return runpy.run_path(str(CONF))


def test_defaults(settings):
    # One worker per core with threads: measured with bench/spike.py.
    assert settings["workers"] == multiprocessing.cpu_count()
    assert settings["worker_class"] == "gthread"
    assert settings["threads"] == 4
    assert settings["graceful_timeout"] == 30
    assert settings["max_requests"] == 0  # restarts stall requests (bench/README)
    assert settings["trim_memory_after"] == 2


def test_the_worker_model_is_read_from_the_environment(settings, monkeypatch):
    monkeypatch.setenv("WEB_CONCURRENCY", "3")
    monkeypatch.setenv("FLASKR_WORKER_CLASS", "sync")
    monkeypatch.setenv("FLASKR_THREADS", "1")
    chosen = runpy.run_path(str(CONF))
    assert (chosen["workers"], chosen["worker_class"], chosen["threads"]) == (
        3,
        "sync",
        1,
    )


def test_memory_is_trimmed_once_per_quiet_moment(settings, monkeypatch):
    clock = [100.0]
    monkeypatch.setattr(settings["time"], "monotonic", lambda: clock[0])
    trims = []
    trimmer = settings["MemoryTrimmer"](2, lambda: trims.append(clock[0]))

    trimmer.request_started()
    clock[0] += 10
    assert not trimmer.trim_if_due()  # a long request is not idleness
    trimmer.request_finished()
    clock[0] += 1
    assert not trimmer.trim_if_due()  # not quiet long enough yet
    clock[0] += 1
    assert trimmer.trim_if_due()
    clock[0] += 5
    assert not trimmer.trim_if_due()  # nothing was freed since
    trimmer.request_started()
    trimmer.request_finished()
    clock[0] += 2
    assert trimmer.trim_if_due()
    assert trims == [112.0, 119.0]


def test_memory_is_not_trimmed_while_another_thread_serves_a_request(
    settings, monkeypatch
):
    clock = [100.0]
    monkeypatch.setattr(settings["time"], "monotonic", lambda: clock[0])
    trims = []
    trimmer = settings["MemoryTrimmer"](2, lambda: trims.append(clock[0]))

    trimmer.request_started()  # a long request on one thread
    trimmer.request_started()  # a short one on another
    trimmer.request_finished()
    clock[0] += 10
    assert not trimmer.trim_if_due()  # the long one still runs
    trimmer.request_finished()
    clock[0] += 2
    assert trimmer.trim_if_due()
    assert trims == [112.0]


def test_memory_is_trimmed_when_password_checks_stop_on_a_busy_worker(
    settings, monkeypatch
):
    clock = [100.0]
    monkeypatch.setattr(settings["time"], "monotonic", lambda: clock[0])
    last_hash = [None]
    trims = []
    trimmer = settings["MemoryTrimmer"](
        2, lambda: trims.append(clock[0]), lambda: last_hash[0]
    )

    def serve_page(seconds=0.5, *, check_password=False):
        trimmer.request_started()
        clock[0] += seconds
        if check_password:
            last_hash[0] = clock[0]
        trimmer.request_finished()
        return trimmer.trim_if_due()

    assert not serve_page()  # no password checked yet: nothing to give back
    for _ in range(10):  # a stream of logins keeps argon2's memory for the next
        assert not serve_page(0.02, check_password=True)
    assert not serve_page()  # pages, but the last login was only 0.5 s ago
    assert not serve_page(1)
    assert serve_page()  # 2 s after the last login, though never idle
    assert trims == [clock[0]]
    assert not serve_page()  # once for that login
    assert not serve_page(check_password=True)
    clock[0] += 1
    assert not trimmer.trim_if_due()
    clock[0] += 1
    assert trimmer.trim_if_due()  # idle and no check since: one trim for both
    assert len(trims) == 2


def test_each_request_ends_with_a_look_at_the_trimmer(settings):
    """After a request, not only when idle: a busy worker is never idle."""
    calls = []

    class RecordingTrimmer:
        def request_started(self):
            calls.append("started")

        def request_finished(self):
            calls.append("finished")

        def trim_if_due(self):
            calls.append("trim if due")

    worker = types.SimpleNamespace(flaskr_trimmer=RecordingTrimmer())
    settings["pre_request"](worker, None)
    settings["post_request"](worker, None, {}, None)
    assert calls == ["started", "finished", "trim if due"]


def test_malloc_trim_is_found_on_glibc(settings):
    trim = settings["_malloc_trim"]()
    assert trim is not None
    assert trim() in (0, 1)


def test_a_new_worker_starts_the_apps_timer(monkeypatch, make_app):
    monkeypatch.setenv("FLASKR_TRIM_MEMORY_AFTER", "0")
    settings = runpy.run_path(str(CONF))
    app = make_app(BACKGROUND_INTERVAL=60)
    work = app.extensions["flaskr.background"]
    try:
        settings["post_worker_init"](types.SimpleNamespace(wsgi=app))
        assert not work.start(), "the worker started it, before any request"
    finally:
        work.stop()
        gc.unfreeze()


def test_a_new_worker_freezes_what_loading_the_app_made(monkeypatch):
    monkeypatch.setenv("FLASKR_TRIM_MEMORY_AFTER", "0")  # no trimmer thread here
    settings = runpy.run_path(str(CONF))
    try:
        settings["post_worker_init"](object())
        assert gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()
