"""The gunicorn settings file: its defaults and the idle memory trimmer."""

import gc
import runpy
from pathlib import Path

import pytest

CONF = Path(__file__).parents[1] / "gunicorn.conf.py"


@pytest.fixture
def settings(monkeypatch):
    for name in ("WEB_CONCURRENCY", "FLASKR_MAX_REQUESTS", "FLASKR_TRIM_AFTER_IDLE"):
        monkeypatch.delenv(name, raising=False)
    return runpy.run_path(str(CONF))


def test_defaults(settings):
    assert settings["worker_class"] == "sync"
    assert settings["graceful_timeout"] == 30
    assert settings["max_requests"] == 0  # restarts stall requests (bench/README)
    assert settings["trim_after_idle"] == 2


def test_memory_is_trimmed_once_per_quiet_moment(settings, monkeypatch):
    clock = [100.0]
    monkeypatch.setattr(settings["time"], "monotonic", lambda: clock[0])
    trims = []
    trimmer = settings["IdleTrimmer"](2, lambda: trims.append(clock[0]))

    trimmer.request_started()
    clock[0] += 10
    assert not trimmer.trim_if_idle()  # a long request is not idleness
    trimmer.request_finished()
    clock[0] += 1
    assert not trimmer.trim_if_idle()  # not quiet long enough yet
    clock[0] += 1
    assert trimmer.trim_if_idle()
    clock[0] += 5
    assert not trimmer.trim_if_idle()  # nothing was freed since
    trimmer.request_started()
    trimmer.request_finished()
    clock[0] += 2
    assert trimmer.trim_if_idle()
    assert trims == [112.0, 119.0]


def test_malloc_trim_is_found_on_glibc(settings):
    trim = settings["_malloc_trim"]()
    assert trim is not None
    assert trim() in (0, 1)


def test_a_new_worker_freezes_what_loading_the_app_made(monkeypatch):
    monkeypatch.setenv("FLASKR_TRIM_AFTER_IDLE", "0")  # no trimmer thread here
    settings = runpy.run_path(str(CONF))
    try:
        settings["post_worker_init"](object())
        assert gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()
