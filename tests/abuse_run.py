"""A seeded abuse run: bots at the registration form, spam in the comments.

Everything goes through the site's own doors (the register form, the
comment form), as bots and spammers use them:

- 200 bot registrations, each filling every field of the form it was sent
  (the hidden one too): 120 sent at once, 40 with an address at a refused
  domain, 40 that wait out the minimum fill time first;
- 30 people who register honestly (they must all get in: the defences are no
  good if they turn people away), then write 300 spam comments: 100 with more
  links than the limit, 100 with a listed word, 100 repeating one text over
  several posts;
- 20 established writers (a month old, each with an earlier comment) who write
  200 ordinary comments: some with a link or two, some with words that contain a
  listed word (``specialist`` holds ``cialis``), common phrases shared between
  people.

The rules on are ``links``, ``words``, ``repeated`` and ``first_comment``.
``tests/test_abuse_run.py`` runs it on both databases and checks its promise:
every bot refused, every spam comment held, no ordinary comment held.
``python -m tests.abuse_run`` runs it on a fresh SQLite file and prints the
figures ``bench/RESULTS.md`` keeps.
"""

from __future__ import annotations

import collections
import dataclasses
import datetime as dt
import html
import logging
import random
import re
import time
import typing as t

import sqlalchemy as sa
from flask import Flask

from flaskr.db import db
from flaskr.db import utcnow
from flaskr.models import Comment
from flaskr.models import User
from flaskr.services.accounts.users import register_user
from flaskr.services.base.site import settings
from flaskr.services.content import writing

PASSWORD = "correct horse battery staple"
LISTED_WORDS = ("casino", "viagra", "cialis", "payday", "escort")
REFUSED_DOMAINS = ("spam-mail.example", "throwaway.example")
HOLD_RULES = "links,words,repeated,first_comment"
#: The minimum fill time the run sets: short, so honest people wait little.
MIN_FILL_SECONDS = 1

_FIELD = re.compile(r"<(input|textarea)\b([^>]*)>", re.IGNORECASE)
_ATTRIBUTE = re.compile(r'(\w[\w-]*)="([^"]*)"')


@dataclasses.dataclass
class Figures:
    bots: int = 0
    bot_accounts_made: int = 0
    bot_answers: collections.Counter[int] = dataclasses.field(
        default_factory=collections.Counter
    )
    #: The reasons the security log gives for the refusals.
    bot_reasons: collections.Counter[str] = dataclasses.field(
        default_factory=collections.Counter
    )
    people: int = 0
    people_let_in: int = 0
    spam: int = 0
    spam_held: int = 0
    spam_reasons: collections.Counter[str] = dataclasses.field(
        default_factory=collections.Counter
    )
    ordinary: int = 0
    ordinary_held: int = 0
    ordinary_held_reasons: list[str] = dataclasses.field(default_factory=list)
    comment_answers: collections.Counter[int] = dataclasses.field(
        default_factory=collections.Counter
    )
    seconds: float = 0.0

    def lines(self) -> list[str]:
        return [
            f"bot registrations refused: {self.bots - self.bot_accounts_made}"
            f" of {self.bots} (answers {dict(sorted(self.bot_answers.items()))},"
            f" reasons logged {dict(self.bot_reasons.most_common())})",
            f"honest registrations let in: {self.people_let_in} of {self.people}",
            f"spam comments held: {self.spam_held} of {self.spam}"
            f" (reasons given: {dict(self.spam_reasons.most_common())})",
            f"ordinary comments held: {self.ordinary_held} of {self.ordinary}",
            f"comment answers: {dict(sorted(self.comment_answers.items()))}",
            f"seconds: {self.seconds:.1f}",
        ]


def form_fields(page: str) -> dict[str, str]:
    """Every input and text area of the page's forms, with its value: what a
    bot that reads the HTML sees (the honeypot, hidden only by CSS, included)."""
    return {name: value for name, (_, value) in _typed_fields(page).items()}


def _typed_fields(page: str) -> dict[str, tuple[str, str]]:
    """name -> (input type, value) for every field of the page."""
    fields = {}
    for tag, attributes in _FIELD.findall(page):
        found = dict(_ATTRIBUTE.findall(attributes))
        if "name" in found:
            kind = (
                "textarea" if tag.lower() == "textarea" else found.get("type", "text")
            )
            fields[found["name"]] = (kind, html.unescape(found.get("value", "")))
    return fields


def _csrf(client: t.Any, path: str) -> str:
    page = client.get(path, follow_redirects=True).get_data(as_text=True)
    return form_fields(page)["csrf_token"]


def _bot_fill(
    fields: dict[str, tuple[str, str]], number: int, domain: str
) -> dict[str, str]:
    """What a bot sends: something in every field a form shows (the honeypot
    is one), and the hidden ones as it was given them."""
    filled = {}
    for name, (kind, value) in fields.items():
        if kind == "hidden":
            filled[name] = value
        elif "mail" in name:
            filled[name] = f"bot{number}@{domain}"
        elif "password" in name:
            filled[name] = PASSWORD
        elif name in ("homepage", "website", "url"):
            filled[name] = f"https://cheap-pills-{number}.example/"
        else:
            filled[name] = f"bot{number}"
    return filled


def _person_fill(fields: dict[str, str], name: str) -> dict[str, str]:
    """What a person sends: the fields they see, the hidden ones as given."""
    return {
        **fields,
        "homepage": "",
        "username": name,
        "password": PASSWORD,
        "email": f"{name}@mail.example",
    }


def _set_up_site(app: Flask, rng: random.Random, rules: str) -> list[int]:
    """The settings of the run, a founder, 20 established writers with a post
    each and an earlier comment; the posts' ids."""
    month_ago = utcnow() - dt.timedelta(days=30)
    with app.app_context():
        founder = register_user("founder", PASSWORD, created=month_ago)
        founder.role = "admin"
        row = settings()
        row.hold_rules = rules
        row.hold_words = "\n".join(LISTED_WORDS)
        row.hold_link_limit = 2
        row.refused_email_domains = "\n".join(REFUSED_DOMAINS)
        db.session.commit()
        post_ids = []
        for number in range(20):
            writer = register_user(f"writer{number}", PASSWORD, created=month_ago)
            post = writing.create_post(
                writer,
                f"Notes from the garden, part {number}",
                f"What grew this year, and what did not ({rng.random():.6f}).",
                tags=["garden"],
                publish=True,
            )
            post_ids.append(post.id)
        for number in range(20):
            writer = db.session.scalars(
                sa.select(User).filter_by(username=f"writer{number}")
            ).one()
            # An earlier, approved comment: the account is established.
            db.session.add(
                Comment(
                    post_id=post_ids[(number + 1) % 20],
                    author=writer,
                    body="Lovely photos.",
                    body_html="<p>Lovely photos.</p>",
                    created=month_ago,
                )
            )
        db.session.commit()
    return post_ids


class _RefusalsHeard(logging.Handler):
    """Counts the reasons of ``registration_refused`` security events."""

    def __init__(self, counter: collections.Counter[str]) -> None:
        super().__init__()
        self.counter = counter

    def emit(self, record: logging.LogRecord) -> None:
        fields = getattr(record.args[0], "fields", {}) if record.args else {}
        if fields.get("event") == "registration_refused":
            self.counter[fields.get("reason", "?")] += 1


def _register_bots(app: Flask, figures: Figures) -> None:
    security = logging.getLogger("flaskr.security")
    heard = _RefusalsHeard(figures.bot_reasons)
    level, propagate = security.level, security.propagate
    # Heard here only, whatever the run's log settings.
    security.setLevel(logging.INFO)
    security.propagate = False
    security.addHandler(heard)
    try:
        _send_bots(app, figures)
    finally:
        security.removeHandler(heard)
        security.setLevel(level)
        security.propagate = propagate


def _send_bots(app: Flask, figures: Figures) -> None:
    def account_count() -> int:
        with app.app_context():
            return db.session.scalar(sa.select(sa.func.count()).select_from(User)) or 0

    before = account_count()
    waiting = []
    for number in range(200):
        client = app.test_client()
        fields = _typed_fields(client.get("/auth/register").get_data(as_text=True))
        domain = REFUSED_DOMAINS[number % 2] if 120 <= number < 160 else "mail.example"
        data = _bot_fill(fields, number, domain)
        if number >= 160:
            waiting.append((client, data))
            continue
        figures.bot_answers[client.post("/auth/register", data=data).status_code] += 1
    time.sleep(MIN_FILL_SECONDS + 0.2)
    for client, data in waiting:
        figures.bot_answers[client.post("/auth/register", data=data).status_code] += 1
    figures.bots = 200
    figures.bot_accounts_made = account_count() - before


def _register_people(app: Flask, figures: Figures, count: int) -> list[t.Any]:
    """People who register honestly; their logged-in clients."""
    forms = []
    for number in range(count):
        client = app.test_client()
        fields = form_fields(client.get("/auth/register").get_data(as_text=True))
        forms.append((client, _person_fill(fields, f"newcomer{number}")))
    time.sleep(MIN_FILL_SECONDS + 0.2)
    clients = []
    for client, data in forms:
        response = client.post("/auth/register", data=data)
        figures.people += 1
        if response.status_code == 302:
            figures.people_let_in += 1
            token = _csrf(client, "/auth/login")
            client.post(
                "/auth/login",
                data={
                    "username": data["username"],
                    "password": PASSWORD,
                    "csrf_token": token,
                },
            )
            clients.append(client)
    return clients


def _log_in(app: Flask, username: str) -> t.Any:
    client = app.test_client()
    token = _csrf(client, "/auth/login")
    response = client.post(
        "/auth/login",
        data={"username": username, "password": PASSWORD, "csrf_token": token},
    )
    assert response.status_code == 302, f"{username} could not log in"
    return client


def _comment(client: t.Any, post_id: int, body: str, figures: Figures) -> None:
    token = _csrf(client, f"/{post_id}")
    response = client.post(
        f"/{post_id}/comments", data={"body": body, "csrf_token": token}
    )
    figures.comment_answers[response.status_code] += 1


def _spam_texts(rng: random.Random) -> list[tuple[int, str]]:
    """(spammer, text) for the 300 spam comments."""
    texts = []
    for number in range(100):
        links = " ".join(
            f"https://deal-{number}-{k}.example/offer" for k in range(rng.randint(3, 6))
        )
        texts.append((number % 10, f"Great post! See my offers: {links}"))
    for number in range(100):
        word = LISTED_WORDS[number % len(LISTED_WORDS)]
        shown = word.upper() if number % 3 == 0 else word.capitalize()
        texts.append(
            (10 + number % 10, f"Best {shown} deals tonight, message me ({number}).")
        )
    for number in range(100):
        # Ten texts, each posted by one spammer on ten posts.
        texts.append(
            (
                20 + number // 10,
                f"I earn from home every week with this one trick, ask me how"
                f" (offer {number // 10}).",
            )
        )
    return texts


_ORDINARY = (
    "Thanks for writing this up; I tried the {thing} last spring and it worked.",
    "Where did you get the {thing}? Mine never look like that.",
    "My specialist said the same about the {thing}, funny to read it here.",
    "I wrote about my {thing} too: https://my-garden-{n}.example/notes",
    "Compare https://a-{n}.example/ and https://b-{n}.example/ on {thing}.",
    "Thanks for this!",
    "We had a payment problem with the seed shop as well; their {thing} arrived late.",
    "Does the {thing} need full sun, or is half a day enough?",
    "Ha, the cat in the third photo looks unimpressed by the {thing}.",
    "Lovely. The {thing} reminds me of my grandmother's garden in Essex.",
)
_THINGS = (
    "tomatoes", "compost", "raised beds", "beans", "apple tree",
    "mulch", "courgettes", "roses", "herbs", "rain barrel",
)  # fmt: skip


def _ordinary_texts() -> list[tuple[int, str]]:
    """(writer, text) for the 200 ordinary comments: no writer repeats a text."""
    texts = []
    for writer in range(20):
        for k in range(10):
            template = _ORDINARY[(writer + k) % len(_ORDINARY)]
            thing = _THINGS[(writer * 3 + k) % len(_THINGS)]
            texts.append((writer, template.format(thing=thing, n=writer * 10 + k)))
    return texts


def _rule_of(reason: str) -> str:
    """The hold rule a recorded reason names."""
    for words, rule in (
        ("first comment", "first_comment"),
        ("link", "links"),
        ("listed word", "words"),
        ("same text", "repeated"),
        ("younger", "young_account"),
    ):
        if words in reason:
            return rule
    return reason


def _held(app: Flask, comment_ids_after: int, usernames: t.Container[str]) -> list:
    with app.app_context():
        rows = db.session.execute(
            sa.select(Comment.state, Comment.hold_reason, User.username)
            .join(User, User.id == Comment.author_id)
            .where(Comment.id > comment_ids_after)
        ).all()
    return [row for row in rows if row.username in usernames]


def run(app: Flask, seed: int = 34, rules: str = HOLD_RULES) -> Figures:
    """Run the whole abuse run against ``app`` (an empty database whose
    config has ``REGISTER_MIN_FILL_SECONDS = MIN_FILL_SECONDS``)."""
    assert app.config["REGISTER_MIN_FILL_SECONDS"] == MIN_FILL_SECONDS
    rng = random.Random(seed)
    started = time.perf_counter()
    figures = Figures()
    post_ids = _set_up_site(app, rng, rules)
    with app.app_context():
        last_comment = db.session.scalar(sa.select(sa.func.max(Comment.id))) or 0
    _register_bots(app, figures)
    spammers = _register_people(app, figures, 30)

    writers = [_log_in(app, f"writer{number}") for number in range(20)]
    spam = _spam_texts(rng)
    ordinary = _ordinary_texts()
    # Interleaved, as they would arrive.
    order = [("spam", item) for item in spam] + [("ordinary", i) for i in ordinary]
    rng.shuffle(order)
    spam_posts: collections.Counter[int] = collections.Counter()
    for kind, (who, text) in order:
        if kind == "spam":
            if who >= len(spammers):
                continue
            # Each spammer goes from post to post, never twice on one.
            post_id = post_ids[spam_posts[who] % len(post_ids)]
            spam_posts[who] += 1
            _comment(spammers[who], post_id, text, figures)
            figures.spam += 1
        else:
            _comment(writers[who], post_ids[rng.randrange(20)], text, figures)
            figures.ordinary += 1

    spammer_names = {f"newcomer{n}" for n in range(30)}
    writer_names = {f"writer{n}" for n in range(20)}
    for row in _held(app, last_comment, spammer_names):
        if row.state != "visible":
            figures.spam_held += 1
            for reason in row.hold_reason.split("; "):
                figures.spam_reasons[_rule_of(reason)] += 1
    for row in _held(app, last_comment, writer_names):
        if row.state != "visible":
            figures.ordinary_held += 1
            figures.ordinary_held_reasons.append(row.hold_reason)
    figures.seconds = time.perf_counter() - started
    return figures


def main() -> None:
    import argparse
    import secrets
    import tempfile
    from pathlib import Path

    from flaskr import create_app
    from flaskr.schema import init_db

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database", help="a database URL (empty; default: SQLite)")
    parser.add_argument("--rules", default=HOLD_RULES, help="the hold rules on")
    options = parser.parse_args()
    with tempfile.TemporaryDirectory() as directory:
        url = options.database or f"sqlite:///{Path(directory) / 'abuse.sqlite'}"
        app = create_app(
            {
                "SECRET_KEY": secrets.token_hex(),
                "SQLALCHEMY_DATABASE_URI": url,
                "RATELIMIT_ENABLED": False,
                "BACKGROUND_INTERVAL": 0,
                "REGISTER_MIN_FILL_SECONDS": MIN_FILL_SECONDS,
                "SECURITY_LOG_LEVEL": "WARNING",
            }
        )
        with app.app_context():
            init_db()
        for line in run(app, rules=options.rules).lines():
            print(line)


if __name__ == "__main__":
    main()
