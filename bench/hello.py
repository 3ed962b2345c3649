"""The yardsticks, served exactly like Flaskr: a bare Flask "Hello, World!"; a
bare login that only reads the form, checks the password with Flaskr's argon2id
settings and redirects (what no login can do without); and that login with the
database work every login with sessions kept on the server does — the user's row
by name, a new session row and its commit — through SQLAlchemy Core on Flaskr's
own tables, with nothing else of Flaskr (``/floor/login``).

The last one's database is ``YARDSTICK_DATABASE_URL`` (an SQLite file in
``bench/work`` by default); its tables are made and its one user added here."""

import datetime as dt
import functools
import hashlib
import os
import secrets
from pathlib import Path

import sqlalchemy as sa
from flask import Flask
from flask import redirect
from flask import request
from itsdangerous import Signer
from werkzeug import Response

from flaskr.config import DEFAULTS
from flaskr.db import tune_sqlite
from flaskr.models import AuthSession
from flaskr.models import Avatar
from flaskr.models import User
from flaskr.services.accounts.passwords import Passwords

app = Flask(__name__)
passwords = Passwords(
    time_cost=DEFAULTS["PASSWORD_HASH_TIME_COST"],
    memory_cost=DEFAULTS["PASSWORD_HASH_MEMORY_COST"],
    parallelism=DEFAULTS["PASSWORD_HASH_PARALLELISM"],
)
stored_hash = passwords.hash("demo password")


@app.route("/")
def hello() -> str:
    return "Hello, World!"


@app.post("/auth/login")
def log_in() -> Response:
    matches, _ = passwords.verify(stored_hash, request.form["password"])
    return redirect("/" if matches else "/auth/login")


def _floor_engine() -> sa.Engine:
    default = Path(__file__).parent / "work" / "yardstick.sqlite"
    url = os.environ.get("YARDSTICK_DATABASE_URL", f"sqlite:///{default}")
    engine = sa.create_engine(url)
    # WAL, foreign keys and the busy timeout, as Flaskr sets up SQLite.
    tune = functools.partial(tune_sqlite, timeout_ms=DEFAULTS["SQLITE_BUSY_TIMEOUT_MS"])
    sa.event.listen(engine, "connect", tune)
    # The user table refers to the pictures' table; made anew each run, so a
    # file left by an older schema is never used.
    tables = [Avatar.__table__, User.__table__, AuthSession.__table__]
    User.metadata.drop_all(engine, tables=tables)
    User.metadata.create_all(engine, tables=tables)
    with engine.begin() as connection:
        connection.execute(
            sa.insert(User.__table__),
            {
                "username": "demo1",
                "username_key": "demo1",
                "password_hash": stored_hash,
            },
        )
    return engine


floor_engine = _floor_engine()
_USER = sa.select(User.id, User.password_hash).where(
    User.username_key == sa.bindparam("key")
)
_NEW_SESSION = sa.insert(AuthSession.__table__)
_signer = Signer(
    "yardstick-" + "k" * 40,
    salt="flaskr.session",
    key_derivation="hmac",
    digest_method=hashlib.sha256,
)


@app.post("/floor/login")
def log_in_with_a_session_row() -> Response:
    with floor_engine.connect() as connection:
        user = connection.execute(
            _USER, {"key": request.form["username"].casefold()}
        ).first()
        if user is None:
            return redirect("/auth/login")
        matches, _ = passwords.verify(user.password_hash, request.form["password"])
        if not matches:
            return redirect("/auth/login")
        token = secrets.token_urlsafe(32)
        now = dt.datetime.now(dt.UTC)
        row = {
            "id": hashlib.sha256(token.encode()).hexdigest(),
            "user_id": user.id,
            "created": now,
            "last_seen": now,
            "user_agent": request.headers.get("User-Agent", "")[:200],
            "data": "{}",
        }
        connection.execute(_NEW_SESSION, row)
        connection.commit()
    response = redirect("/")
    response.headers["Cache-Control"] = "no-store"
    response.set_cookie("session", _signer.sign(token).decode(), httponly=True)
    return response
