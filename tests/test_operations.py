import json

import pytest
from sqlalchemy.exc import OperationalError

from flaskr.db import db
from flaskr.plumbing.operations import access_log_level


def test_healthz(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json == {"status": "ok"}
    assert "Set-Cookie" not in response.headers


def test_healthz_when_the_database_is_down(app, client, monkeypatch):
    def broken(*args, **kwargs):
        raise OperationalError("SELECT 1", {}, Exception("connection refused"))

    monkeypatch.setattr(db.session, "execute", broken)
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json["status"] == "unavailable"


def test_healthz_answers_plain_http_on_an_https_site(app_with):
    app = app_with(HTTPS=True)
    response = app.test_client().get("/healthz", base_url="http://localhost")
    assert response.status_code == 200


def test_request_id_and_access_log(client, auth, caplog):
    caplog.set_level("INFO", logger="flaskr.access")
    auth.login()
    response = client.get("/", headers={"X-Request-ID": "lb-1234"})
    assert response.headers["X-Request-ID"] == "lb-1234"
    [line] = [
        r
        for r in caplog.records
        if r.name == "flaskr.access" and "lb-1234" in r.getMessage()
    ]
    record = json.loads(line.getMessage())
    assert record["method"] == "GET"
    assert record["path"] == "/"
    assert record["status"] == 200
    assert record["user_id"] == 1
    assert record["ms"] >= 0


@pytest.mark.parametrize("given", ["", "x" * 65, "bad id with spaces", "<script>"])
def test_unusable_request_ids_are_replaced(client, given):
    response = client.get("/hello", headers={"X-Request-ID": given})
    assigned = response.headers["X-Request-ID"]
    assert assigned != given
    assert len(assigned) == 32


def test_security_events_carry_the_request_id(auth, caplog):
    caplog.set_level("INFO", logger="flaskr.security")
    auth.login("test", "wrong")
    [line] = [r for r in caplog.records if r.name == "flaskr.security"]
    assert len(json.loads(line.getMessage())["request_id"]) == 32


def test_log_lines_reach_stderr_under_a_server_without_logging_set_up(tmp_path):
    """gunicorn sets up only its own loggers: the JSON lines must still appear,
    each on its own line, with nothing before the JSON."""
    import json
    import os
    import subprocess
    import sys

    code = (
        "import logging, flaskr\n"
        "logging.root.handlers.clear()\n"
        "app = flaskr.create_app()\n"
        "app.test_client().get('/hello', headers={'X-Request-ID': 'lb-7'})\n"
    )
    env = {**os.environ, "FLASKR_INSTANCE_PATH": str(tmp_path)}
    result = subprocess.run(  # noqa: S603
        [sys.executable, "-c", code], env=env, capture_output=True, text=True
    )
    lines = [line for line in result.stderr.splitlines() if "lb-7" in line]
    assert len(lines) == 1, result.stderr
    assert json.loads(lines[0])["path"] == "/hello"


@pytest.mark.parametrize(
    ("debug", "configured", "level"),
    [
        (False, None, "INFO"),
        (True, None, "WARNING"),  # the development server logs each request
        (True, "INFO", "INFO"),
        (False, "ERROR", "ERROR"),
    ],
)
def test_one_access_line_per_request_in_development(app, debug, configured, level):
    app.debug = debug
    app.config["ACCESS_LOG_LEVEL"] = configured
    assert access_log_level(app) == level
