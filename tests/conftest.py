"""Fixtures in the tutorial's style: ``app``, ``client``, ``runner``, ``auth``.

Tests run on SQLite, or on the database that ``FLASKR_TEST_DATABASE_URL`` names
(PostgreSQL in CI). CSRF protection stays on, as in production: ``auth`` and
``csrf`` fetch tokens from the pages the way a browser would.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import email
import email.message
import email.policy
import gc
import json
import logging
import os
import re
import shutil
import socket
import threading
import typing as t
import warnings
from pathlib import Path

import jinja2
import pytest
import sqlalchemy as sa
from aiosmtpd.controller import Controller
from flask import Flask
from flask.testing import FlaskClient
from flask.testing import FlaskCliRunner
from sqlalchemy import event
from werkzeug.routing import Rule

import flaskr
from flaskr import create_app
from flaskr.db import db
from flaskr.models import Post
from flaskr.models import User
from flaskr.plumbing.read_only import autocommit_engine
from flaskr.schema import BOOKKEEPING_TABLES
from flaskr.schema import init_db
from flaskr.services.accounts.passwords import Passwords
from flaskr.services.base import markdown
from tests.fediverse import RemoteServer

TEST_DATABASE_URL = os.environ.get("FLASKR_TEST_DATABASE_URL")

#: argon2id at its cheapest, so tests do not spend seconds hashing.
CHEAP_HASHING = {
    "PASSWORD_HASH_TIME_COST": 1,
    "PASSWORD_HASH_MEMORY_COST": 8,
    "PASSWORD_HASH_PARALLELISM": 1,
}

_CSRF_PATTERN = re.compile(r'<input[^>]*name="[^"]*csrf_token"[^>]*value="([^"]+)"')


def make_config(database_url: str, **overrides: t.Any) -> dict[str, t.Any]:
    return {
        "TESTING": True,
        "SECRET_KEY": "test secret key, used only by the tests",
        "SQLALCHEMY_DATABASE_URI": database_url,
        # Throttling has its own tests; the rest log in as often as they like.
        "RATELIMIT_ENABLED": False,
        # Tests register and subscribe as fast as they like (no minimum fill time).
        "REGISTER_MIN_FILL_SECONDS": 0,
        "SUBSCRIBE_MIN_FILL_SECONDS": 0,
        # No timer threads: tests deliver mail and events when they choose.
        "BACKGROUND_INTERVAL": 0,
        **CHEAP_HASHING,
        **overrides,
    }


class _SharedBytecode(jinja2.BytecodeCache):
    """Compiled templates kept in memory for every app the run makes.

    Each test makes its own app, and each app would otherwise parse and
    compile every template it renders again. Jinja keys a bucket by the
    template's name and a checksum of its source, so an edited template is
    compiled afresh."""

    def __init__(self) -> None:
        self._code: dict[str, bytes] = {}

    def load_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        if bucket.key in self._code:
            bucket.bytecode_from_string(self._code[bucket.key])

    def dump_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        self._code[bucket.key] = bucket.bytecode_to_string()


def _share_url_builders() -> None:
    """Compile each URL rule's builder once for the run, not once per app.

    Werkzeug generates a Python function per rule as it is added to an app's
    map; the function depends only on the rule's text, its defaults and the
    parts parsed from them, so apps with the same routes can share it."""
    compile_builder = Rule._compile_builder
    builders: dict[tuple[t.Any, ...], t.Any] = {}

    def shared(self: Rule, append_unknown: bool = True) -> t.Any:
        key = (
            self.rule,
            self.host,
            self.subdomain,
            tuple(self._trace),
            tuple(sorted((k, repr(v)) for k, v in (self.defaults or {}).items())),
            append_unknown,
        )
        if key not in builders:
            builders[key] = compile_builder(self, append_unknown)
        return builders[key]

    Rule._compile_builder = shared  # type: ignore[method-assign]


Flask.jinja_options = {**Flask.jinja_options, "bytecode_cache": _SharedBytecode()}
_share_url_builders()


@pytest.fixture(scope="session")
def _empty_database(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A database at the newest schema, made once for the whole run.

    On SQLite each test copies the file; on another database each test empties
    the tables instead.
    """
    if TEST_DATABASE_URL:
        url = TEST_DATABASE_URL
    else:
        url = f"sqlite:///{tmp_path_factory.mktemp('template') / 'empty.sqlite'}"
    app = create_app(make_config(url))
    with app.app_context():
        init_db()
        db.engine.dispose()
    return url


#: The tables whose id sequence moved (written, maybe emptied again).
_MOVED_SEQUENCES = """
SELECT DISTINCT CAST(CAST(d.refobjid AS regclass) AS text)
FROM pg_sequences AS s
JOIN pg_depend AS d ON d.objid = CAST(
    quote_ident(s.schemaname) || '.' || quote_ident(s.sequencename) AS regclass
)
WHERE s.last_value IS NOT NULL AND d.deptype IN ('a', 'i')
"""


def _empty_tables(url: str) -> None:
    names = [
        table.name
        for table in db.metadata.sorted_tables
        if table.name not in BOOKKEEPING_TABLES
    ]
    engine = sa.create_engine(url)
    with engine.begin() as connection:
        # TRUNCATE costs per table named, written or not; a test writes few.
        # The models' own table names, not input: one look at every table.
        written = " UNION ALL ".join(
            f"SELECT '{name}' WHERE EXISTS (SELECT 1 FROM \"{name}\")" for name in names
        )
        used = set(connection.execute(sa.text(written)).scalars())
        moved = connection.execute(sa.text(_MOVED_SEQUENCES)).scalars()
        used |= {name.strip('"') for name in moved} & set(names)
        if used:
            tables = ", ".join(f'"{name}"' for name in sorted(used))
            connection.execute(sa.text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
        # Bookkeeping survives, but not what it said of the emptied posts
        # (TRUNCATE runs no row triggers).
        connection.execute(
            sa.text("UPDATE site_version SET next_publication = NULL, post_count = 0")
        )
        connection.execute(sa.text("DELETE FROM site_settings"))
        connection.execute(sa.text("INSERT INTO site_settings (id) VALUES (1)"))
    engine.dispose()


@pytest.fixture(scope="session")
def password_hashes() -> dict[str, str]:
    """Hashes of the test users' passwords, computed once."""
    passwords = Passwords(time_cost=1, memory_cost=8, parallelism=1)
    return {"test": passwords.hash("test"), "other": passwords.hash("other")}


def make_post(
    author_id: int | None,
    title: str,
    body: str = "",
    *,
    published: dt.datetime | None = dt.datetime(2018, 1, 1, tzinfo=dt.UTC),
) -> Post:
    """A post as the posts service would save it (without tags), not added."""
    return Post(
        author_id=author_id,
        title=title,
        body=body,
        body_html=markdown.render(body),
        body_text=markdown.plain_text(body),
        excerpt=markdown.excerpt(body),
        word_count=len(markdown.plain_text(body).split()),
        created=published or dt.datetime.now(dt.UTC),
        published=published,
    )


def add_test_data(hashes: dict[str, str]) -> None:
    """The tutorial's test data: users ``test`` and ``other``, one post by test."""
    test = User("test", hashes["test"])
    other = User("other", hashes["other"])
    db.session.add_all([test, other])
    db.session.flush()
    db.session.add(make_post(test.id, "test title", "test\nbody"))
    db.session.commit()


@pytest.fixture(autouse=True, scope="session")
def _checkout_stays_clean() -> t.Iterator[None]:
    """Fail the run if a test made an instance folder in the checkout."""
    instance = Path(flaskr.__file__).parent.parent / "instance"
    existed = instance.exists()
    yield
    assert existed or not instance.exists(), f"a test wrote into {instance}"


@pytest.fixture
def database_url(_empty_database: str, tmp_path: Path) -> str:
    if TEST_DATABASE_URL:
        _empty_tables(_empty_database)
        return _empty_database
    template = Path(_empty_database.removeprefix("sqlite:///"))
    copy = tmp_path / "flaskr.sqlite"
    shutil.copyfile(template, copy)
    return f"sqlite:///{copy}"


@pytest.fixture
def make_app(database_url: str, tmp_path: Path) -> t.Iterator[t.Callable[..., Flask]]:
    """Make apps on the test database with some settings changed."""
    apps: list[Flask] = []

    def make(**overrides: t.Any) -> Flask:
        overrides.setdefault("_instance", tmp_path / "instance")
        before = os.environ.get("FLASKR_INSTANCE_PATH")
        os.environ["FLASKR_INSTANCE_PATH"] = str(overrides.pop("_instance"))
        try:
            app = create_app(make_config(database_url, **overrides))
        finally:
            if before is None:
                del os.environ["FLASKR_INSTANCE_PATH"]
            else:
                os.environ["FLASKR_INSTANCE_PATH"] = before
        apps.append(app)
        return app

    yield make
    for app in apps:
        with app.app_context():
            db.session.remove()
        for engine in app_engines(app):
            engine.dispose()


@pytest.fixture
def app(make_app: t.Callable[..., Flask], password_hashes: dict[str, str]) -> Flask:
    app = make_app()
    with app.app_context():
        add_test_data(password_hashes)
    return app


@pytest.fixture
def app_with(
    make_app: t.Callable[..., Flask], password_hashes: dict[str, str]
) -> t.Callable[..., Flask]:
    """Make an app with the test data and some settings changed."""

    def make(**overrides: t.Any) -> Flask:
        app = make_app(**overrides)
        with app.app_context():
            add_test_data(password_hashes)
        return app

    return make


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def runner(app: Flask) -> FlaskCliRunner:
    return app.test_cli_runner()


def without_csrf_tokens(page: str) -> str:
    """``page`` with the value of each CSRF token field emptied. A token carries
    the second it was signed, so two renders of the same form for the same
    session differ there when a second boundary falls between them."""
    return _CSRF_PATTERN.sub(
        lambda match: match.group(0).replace(match.group(1), ""), page
    )


def csrf_token_from(client: FlaskClient, path: str) -> str:
    """The CSRF token in the form that the page at ``path`` shows (after its
    redirects: ``/<id>`` sends to ``/p/<slug>``)."""
    response = client.get(path, follow_redirects=True)
    match = _CSRF_PATTERN.search(response.get_data(as_text=True))
    assert match is not None, f"no CSRF token in {path} ({response.status})"
    return match.group(1)


@pytest.fixture
def csrf(client: FlaskClient) -> t.Callable[[str], str]:
    """``csrf(path)``: the token to send with a POST to the form at ``path``."""
    return lambda path: csrf_token_from(client, path)


@contextlib.contextmanager
def listening(
    app: Flask, name: str, listener: t.Callable[..., None]
) -> t.Iterator[None]:
    """Call ``listener`` on the ``name`` event of each of the app's engines
    inside the block."""
    engines = app_engines(app)
    for engine in engines:
        event.listen(engine, name, listener)
    try:
        yield
    finally:
        for engine in engines:
            event.remove(engine, name, listener)


@contextlib.contextmanager
def recorded_statements(app: Flask) -> t.Iterator[list[tuple[str, t.Any]]]:
    """Collect ``(sql, parameters)`` of every statement run inside the block."""
    statements: list[tuple[str, t.Any]] = []

    def record(
        conn: t.Any, cursor: t.Any, sql: str, parameters: t.Any, *args: t.Any
    ) -> None:
        statements.append((sql, parameters))

    with listening(app, "before_cursor_execute", record):
        yield statements


@contextlib.contextmanager
def transaction_states(app: Flask) -> t.Iterator[list[tuple[str, bool]]]:
    """Collect ``(sql, in_transaction)`` for every statement run inside the
    block: whether the driver held a transaction open once it had run."""
    states: list[tuple[str, bool]] = []

    def note(conn: t.Any, cursor: t.Any, sql: str, *args: t.Any) -> None:
        dbapi = conn.connection.dbapi_connection
        if conn.dialect.name == "postgresql":
            states.append((sql, not dbapi.autocommit))
        else:
            states.append((sql, dbapi.in_transaction))

    with listening(app, "after_cursor_execute", note):
        yield states


def app_engines(app: Flask) -> list[sa.Engine]:
    """The app's engine, and its autocommit engine if it has one."""
    with app.app_context():
        engines = [db.engine]
    autocommit = autocommit_engine(app)
    if autocommit is not None:
        engines.append(autocommit)
    return engines


def statements_for_page(
    app: Flask, client: FlaskClient, path: str
) -> list[tuple[str, t.Any]]:
    """The statements that showing the page at ``path`` runs."""
    with recorded_statements(app) as statements:
        response = client.get(path)
    assert response.status_code == 200, path
    return statements


def sqlite_steps(app: Flask, statement: str, parameters: t.Any) -> int:
    """How many virtual-machine instructions SQLite runs for ``statement``
    (counted by its progress handler, so the same on every run): a walk of
    many index entries shows, where a plan only names the index."""
    steps = 0

    def count() -> int:
        nonlocal steps
        steps += 1
        return 0  # go on

    with app.app_context(), db.engine.connect() as connection:
        assert connection.dialect.name == "sqlite"
        raw = connection.connection.dbapi_connection
        raw.set_progress_handler(count, 1)
        try:
            connection.exec_driver_sql(statement, parameters).all()
        finally:
            raw.set_progress_handler(None, 1)
    return steps


def query_plan(
    app: Flask, statement: str, parameters: t.Any, *, in_order: bool = False
) -> list[str]:
    """The database's plan for ``statement``, one line per step.

    On PostgreSQL, sequential scans are discouraged for the question (and, with
    ``in_order``, bitmap scans and sorts too): test tables are so small that
    scanning and sorting is cheapest, and the question is whether an index
    path (in the right order) exists at all. If none does, the plan still scans
    or sorts.
    """
    settings = ["enable_seqscan"]
    if in_order:
        settings += ["enable_bitmapscan", "enable_sort"]
    with app.app_context(), db.engine.connect() as connection:
        if connection.dialect.name == "postgresql":
            for setting in settings:
                connection.exec_driver_sql(f"SET {setting} = off")
            rows = connection.exec_driver_sql(f"EXPLAIN {statement}", parameters)
            return [row[0] for row in rows]
        rows = connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", parameters)
        return [row[-1] for row in rows]


def assert_reads_index_in_order(
    app: Flask, statement: str, parameters: t.Any, index: str
) -> None:
    """The statement reads ``index`` and needs no sort of its own."""
    plan = query_plan(app, statement, parameters, in_order=True)
    assert any(index in step for step in plan), plan
    sorts = [
        step
        for step in plan
        if "TEMP B-TREE" in step or step.lstrip(" ->").startswith("Sort")
    ]
    assert sorts == [], plan


class AuthActions:
    def __init__(self, client: FlaskClient) -> None:
        self._client = client

    def login(self, username: str = "test", password: str = "test") -> t.Any:
        token = csrf_token_from(self._client, "/auth/login")
        return self._client.post(
            "/auth/login",
            data={"username": username, "password": password, "csrf_token": token},
        )

    def logout(self) -> t.Any:
        token = csrf_token_from(self._client, "/auth/logout")
        return self._client.post("/auth/logout", data={"csrf_token": token})


@pytest.fixture
def auth(client: FlaskClient) -> AuthActions:
    return AuthActions(client)


@pytest.fixture
def author(client: FlaskClient, auth: AuthActions) -> FlaskClient:
    """A client logged in as the test user, who writes posts."""
    auth.login()
    return client


# A real SMTP server for the mail tests: aiosmtpd, in this process, on 127.0.0.1.


class Inbox:
    """What the SMTP server received: parsed messages, in order."""

    def __init__(self) -> None:
        self.messages: list[email.message.EmailMessage] = []
        self.lock = threading.Lock()

    async def handle_DATA(self, server: t.Any, session: t.Any, envelope: t.Any) -> str:
        message = email.message_from_bytes(envelope.content, policy=email.policy.SMTP)
        with self.lock:
            self.messages.append(t.cast(email.message.EmailMessage, message))
        return "250 Message accepted"


class SmtpServer:
    def __init__(self, port: int) -> None:
        self.port = port
        self.inbox = Inbox()
        self.controller: Controller | None = None

    def start(self) -> None:
        self.controller = Controller(self.inbox, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def stop(self) -> None:
        controller, self.controller = self.controller, None
        if controller is None:
            return
        controller.stop()
        # A client still connected (a server's sender, mid-mail) leaves its
        # transport open; collected later, its ResourceWarning would fail
        # whatever test runs then. Close the loop and collect it here.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ResourceWarning)
            controller.loop.close()
            del controller
            gc.collect()


@pytest.fixture
def smtp_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def smtp(smtp_port: int) -> t.Iterator[SmtpServer]:
    server = SmtpServer(smtp_port)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def mail_app(make_app, smtp_port):
    return make_app(
        MAIL_SERVER="127.0.0.1",
        MAIL_PORT=smtp_port,
        MAIL_FROM="Flaskr <blog@flaskr.example>",
        SITE_URL="https://flaskr.example",
        MAIL_TIMEOUT=5,
    )


@pytest.fixture
def security_events(caplog: pytest.LogCaptureFixture) -> list[dict[str, t.Any]]:
    """The security events logged during the test, as dictionaries."""
    caplog.set_level(logging.INFO, logger="flaskr.security")
    logged: list[dict[str, t.Any]] = []

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            logged.append(json.loads(record.getMessage()))

    handler = Collect()
    logging.getLogger("flaskr.security").addHandler(handler)
    yield logged
    logging.getLogger("flaskr.security").removeHandler(handler)


@pytest.fixture
def remote_server() -> t.Iterator[RemoteServer]:
    """A fediverse server on 127.0.0.1 (``tests/fediverse.py``)."""
    with RemoteServer() as server:
        yield server


#: What an app needs to federate with ``remote_server`` on loopback.
FEDERATION_TEST_CONFIG = {
    "SITE_URL": "http://localhost",
    "FEDERATION_ALLOW_HTTP": True,
    "FEDERATION_ALLOW_PRIVATE": True,
}
