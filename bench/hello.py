"""The yardsticks, served exactly like Flaskr: a bare Flask "Hello, World!",
and a bare login that only reads the form, checks the password with Flaskr's
argon2id settings and redirects (what no login can do without)."""

from flask import Flask
from flask import redirect
from flask import request
from werkzeug import Response

from flaskr.config import DEFAULTS
from flaskr.passwords import Passwords

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
