"""``./dev.sh serve``: the port it listens on, and what it says it does."""

from __future__ import annotations

import os
import signal
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

from tests.helpers import free_port

DEV_SH = Path(__file__).parents[1] / "dev.sh"


def environment(tmp_path: Path, **variables: str) -> dict[str, str]:
    env = {
        key: value for key, value in os.environ.items() if not key.startswith("FLASKR_")
    }
    # A database and secret of the test's own, not the checkout's.
    env["FLASKR_INSTANCE_PATH"] = str(tmp_path / "instance")
    return {**env, **variables}


@pytest.mark.parametrize(
    ("arguments", "port_variable", "said"),
    [
        (["--port", "nope"], None, "not 'nope'"),
        (["--port"], None, "not ''"),
        (["--port=70000"], None, "not '70000'"),
        ([], "0", "not '0'"),
        (["--verbose"], None, "unknown argument '--verbose'"),
    ],
)
def test_serve_refuses_a_port_that_is_not_one(tmp_path, arguments, port_variable, said):
    variables = {"FLASKR_PORT": port_variable} if port_variable else {}
    result = subprocess.run(
        [str(DEV_SH), "serve", *arguments],
        env=environment(tmp_path, **variables),
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 2
    assert said in result.stderr


def wait_for_page(url: str, process: subprocess.Popen[str]) -> int:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert process.poll() is None, "the server stopped"
        try:
            with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310
                return int(response.status)
        except OSError:
            time.sleep(0.25)
    raise AssertionError(f"nothing answered at {url}")


@pytest.mark.parametrize("how", ["--port", "FLASKR_PORT"])
def test_serve_listens_on_the_port_asked_for_and_says_what_it_does(tmp_path, how):
    port = free_port()
    arguments = ["--port", str(port)] if how == "--port" else []
    variables = {"FLASKR_PORT": str(port)} if how == "FLASKR_PORT" else {}
    log = tmp_path / "serve.log"
    with log.open("w") as output:
        process = subprocess.Popen(
            [str(DEV_SH), "serve", *arguments],
            env=environment(tmp_path, **variables),
            stdout=output,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,  # the server and its reloader, as a group
        )
        try:
            assert wait_for_page(f"http://127.0.0.1:{port}/", process) == 200
        finally:
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(timeout=30)
    said = log.read_text()
    assert "==> Bringing the database up to date" in said
    assert f"==> Starting Flaskr at http://127.0.0.1:{port}/" in said
