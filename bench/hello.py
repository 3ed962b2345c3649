"""The yardstick: a bare Flask "Hello, World!" served exactly like Flaskr."""

from flask import Flask

app = Flask(__name__)


@app.route("/")
def hello() -> str:
    return "Hello, World!"
