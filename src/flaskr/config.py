"""Settings: defaults, then the instance ``config.py``, then ``FLASKR_*`` variables.

Every setting is listed in :data:`DEFAULTS` and in docs/configuration.md.
"""

from __future__ import annotations

import datetime as dt
import os
import secrets
import tempfile
import typing as t
from pathlib import Path

from flask import Flask

DEFAULTS: dict[str, t.Any] = {
    #: No default: read from the configuration or made once in the instance folder.
    "SECRET_KEY": None,
    #: ``None`` means the SQLite file ``flaskr.sqlite`` in the instance folder.
    "DATABASE_URL": None,
    #: The title until an administrator sets one on ``/admin``.
    "SITE_TITLE": "Flaskr",
    #: The first account registered on a site with no other becomes its
    #: administrator (and is told so).
    "FIRST_ACCOUNT_IS_ADMIN": True,
    "POSTS_PER_PAGE": 10,
    "COMMENTS_PER_PAGE": 100,
    #: The hold rules on until an administrator chooses on ``/admin``
    #: (comma-separated: first_comment, links, words, young_account, repeated).
    "COMMENT_HOLD_RULES": "links,words",
    "MAX_CONTENT_LENGTH": 1024 * 1024,
    #: Urlencoded forms may be as large as any request (Flask's default is less).
    "MAX_FORM_MEMORY_SIZE": 1024 * 1024,
    #: Largest image a post or a profile may upload; forms that upload one
    #: accept this much more.
    "IMAGE_MAX_BYTES": 5_000_000,
    #: A form that carries a picture over IMAGE_MAX_BYTES is still read up to
    #: this size (the picture's bytes counted, not kept), so it comes back with
    #: everything typed and the picture's size; a larger request gets a 413.
    "OVERSIZED_PICTURE_READ_BYTES": 50_000_000,
    #: Most pixels an image may decode to; more is treated as a decompression bomb.
    "IMAGE_MAX_PIXELS": 40_000_000,
    #: Revisions kept per post; older ones are forgotten as new ones come.
    "REVISIONS_KEPT": 50,
    #: How long deleted posts stay in the trash before they are deleted for good.
    "TRASH_DAYS": 30,
    #: Mail (docs/configuration.md). Without MAIL_SERVER, mails go to the log.
    "MAIL_SERVER": None,
    "MAIL_PORT": 25,
    "MAIL_USE_TLS": False,
    "MAIL_USE_SSL": False,
    "MAIL_USERNAME": None,
    "MAIL_PASSWORD": None,
    "MAIL_FROM": "Flaskr <flaskr@localhost>",
    #: Seconds an SMTP conversation may take before it counts as a failure.
    "MAIL_TIMEOUT": 10,
    #: Tries before a mail is given up (and logged as an error).
    "MAIL_MAX_ATTEMPTS": 8,
    #: Tries before an event's handler is given up on (and logged as an error).
    "EVENT_MAX_ATTEMPTS": 8,
    #: Days a handled event is kept (for the operator) before ``purge-events``
    #: deletes it.
    "EVENT_KEEP_DAYS": 30,
    #: Seconds between each server process's looks for due mail, events and
    #: scheduled posts, whatever the traffic; 0 leaves it to cron.
    "BACKGROUND_INTERVAL": 5,
    #: The site's address for links in mails (``https://blog.example``), never
    #: taken from a request's Host header.
    "SITE_URL": None,
    #: How long an image chosen in a post form is kept for its writer while the
    #: post is previewed or fixed, before it has to be chosen again.
    "HELD_IMAGE_HOURS": 24,
    #: Days a name given up by a rename sends ``/u/<old>`` to the new one
    #: and stays its user's, so nobody else can pose as them under it.
    "USERNAME_HOLD_DAYS": 30,
    "SESSION_COOKIE_NAME": "flaskr_session",
    "SESSION_COOKIE_HTTPONLY": True,
    "SESSION_COOKIE_SAMESITE": "Lax",
    "SESSION_COOKIE_SECURE": False,
    "SESSION_IDLE_TIMEOUT": dt.timedelta(days=14),
    "SESSION_ABSOLUTE_LIFETIME": dt.timedelta(days=30),
    #: A visitor's session (one that only holds a form's CSRF token) ends sooner:
    #: a crawler that opens the login page leaves no row for weeks.
    "SESSION_VISITOR_IDLE_TIMEOUT": dt.timedelta(days=1),
    #: How stale a session's "last seen" time may get before a request rewrites it.
    "SESSION_TOUCH_INTERVAL": dt.timedelta(minutes=5),
    #: Logins purge expired sessions at most this often (in each process).
    "SESSION_PURGE_INTERVAL": dt.timedelta(minutes=1),
    #: How long a JSON API token lasts from its login (docs/api.md).
    "API_TOKEN_LIFETIME": dt.timedelta(days=30),
    #: How long a token made and named on the account page lasts, used or not.
    "API_NAMED_TOKEN_LIFETIME": dt.timedelta(days=365),
    #: Web origins (``https://app.example``) whose pages may call the JSON API
    #: from a browser (CORS); none by default.
    "API_CORS_ORIGINS": [],
    #: The most articles or comments one API response lists.
    "API_PAGE_LIMIT": 100,
    #: The deepest ``offset`` the API accepts; deeper pages follow ``next``.
    "API_MAX_OFFSET": 10_000,
    "PASSWORD_HASH_TIME_COST": 2,
    "PASSWORD_HASH_MEMORY_COST": 19456,
    "PASSWORD_HASH_PARALLELISM": 1,
    "SQLITE_BUSY_TIMEOUT_MS": 5000,
    #: Memory for rendered pages kept per worker (``page_cache``); 0 turns it off.
    #: Pages are kept compressed: this holds about as many as twice as much
    #: memory held before they were.
    "PAGE_CACHE_BYTES": 4 * 1024 * 1024,
    #: The longest a kept page is served, even if nothing changed.
    "PAGE_CACHE_MAX_AGE": dt.timedelta(minutes=10),
    #: A Redis that every server of the site shares (``redis://host:6379/0``):
    #: kept pages are shared there by every worker (a second tier), and
    #: throttling counts there unless ``RATELIMIT_STORAGE_URI`` says otherwise.
    "REDIS_URL": "",
    #: What the names of kept pages in Redis start with (one per site sharing it).
    "PAGE_CACHE_REDIS_PREFIX": "flaskr:pages:",
    #: Seconds to wait for Redis before serving without it.
    "PAGE_CACHE_REDIS_TIMEOUT": 0.25,
    #: Post cards (summaries in lists) kept rendered per worker
    #: (``web/cards.py``); 0 renders every card every time.
    "CARD_CACHE_SIZE": 500,
    #: CSRF tokens live as long as the server-side session that holds them.
    "WTF_CSRF_TIME_LIMIT": None,
    #: Level of the ``flaskr.security`` logger (logins, lockouts, revocations).
    "SECURITY_LOG_LEVEL": "INFO",
    #: Level of the ``flaskr.access`` logger: one JSON line per request at INFO.
    #: Unset, it is INFO, except in debug mode, where the development server
    #: already writes a line per request (WARNING then).
    "ACCESS_LOG_LEVEL": None,
    #: The site is served over HTTPS: Secure ``__Host-`` cookies, HSTS, https URLs,
    #: and plain-http requests redirected (GET) or refused.
    "HTTPS": False,
    "HSTS_MAX_AGE": 365 * 24 * 3600,
    #: How many reverse proxies in front of Flaskr set X-Forwarded-For, -Proto,
    #: -Host and -Port; 0 trusts none of those headers.
    "TRUSTED_PROXY_HOPS": 0,
    # Throttling (Flask-Limiter settings keep Flask-Limiter's names).
    "RATELIMIT_ENABLED": True,
    "RATELIMIT_STORAGE_URI": "memory://",
    #: When that storage (Redis) fails, count in each process until it is back,
    #: rather than fail the request.
    "RATELIMIT_IN_MEMORY_FALLBACK_ENABLED": True,
    "RATELIMIT_HEADERS_ENABLED": True,
    #: Every POST form, per client address, unless a form has its own limit.
    "RATELIMIT_DEFAULT": "30 per minute; 300 per hour",
    #: Registrations per client address (a class behind one address can join).
    "REGISTER_LIMITS": "10 per minute; 60 per hour",
    #: Seconds a person takes at least to fill the registration form; a form
    #: sent faster is refused as a bot's. 0 turns the check off.
    "REGISTER_MIN_FILL_SECONDS": 3,
    #: "Follow by e-mail" forms sent per client address, and per address
    #: subscribed (whoever asks): against subscription bombing.
    "SUBSCRIBE_LIMITS": "5 per minute; 30 per hour",
    "SUBSCRIBE_ADDRESS_LIMITS": "3 per hour; 10 per day",
    #: Seconds a person takes at least to fill a "Follow by e-mail" form (as
    #: ``REGISTER_MIN_FILL_SECONDS``); counted from when the page was made,
    #: which for a page the page cache kept is earlier than it was shown.
    "SUBSCRIBE_MIN_FILL_SECONDS": 2,
    #: Subscribers a new post's fan-out writes into the outbox per step (one
    #: transaction each), and mails one sender sends per second (0: as fast
    #: as the SMTP server takes them).
    "NEWSLETTER_BATCH": 500,
    "MAIL_SEND_RATE": 0,
    #: Days an invitation link works, unless its maker chooses otherwise.
    "INVITATION_DAYS": 7,
    #: How long, after the password was right, the second step of a login
    #: (a code or a passkey) may take before the login starts over.
    "SECOND_STEP_TIMEOUT": dt.timedelta(minutes=5),
    #: Time steps (of 30 seconds) either side of now an authenticator app's
    #: code may belong to: a phone's clock a little off, or a code typed as
    #: it changed (RFC 6238, section 5.2). 0 accepts only the current step.
    "TOTP_DRIFT_STEPS": 1,
    #: How recent a confirmation (the password or a passkey, at login or on
    #: the confirmation page) must be before changing the password, the
    #: address, the sign-in methods or making an API token.
    "FRESH_CONFIRMATION": dt.timedelta(minutes=10),
    #: "Forgot your password?" requests per client address, and per account
    #: (the username or address asked for, whoever asks).
    "FORGOT_PASSWORD_LIMITS": "5 per minute; 30 per hour",
    "FORGOT_PASSWORD_ACCOUNT_LIMITS": "3 per 15 minutes; 10 per day",
    #: Renames per account: each one holds a name for USERNAME_HOLD_DAYS.
    "RENAME_LIMITS": "3 per day",
    #: Live previews and autosaves per client address, as a writer types.
    "EDITOR_LIMITS": "120 per minute; 3000 per hour",
    #: Comments per client address.
    "COMMENT_LIMITS": "5 per minute; 50 per hour",
    #: Failed logins per client address, for any accounts.
    "LOGIN_ADDRESS_LIMITS": "10 per minute; 100 per hour",
    #: Failed logins per account from any address; past one, even the right
    #: password waits until the oldest failure in that window is old enough.
    "LOGIN_ACCOUNT_LIMITS": "5 per minute; 10 per 5 minutes; 15 per 15 minutes",
    #: ActivityPub: the site's writers as fediverse actors, when ``SITE_URL``
    #: is set too (docs/federation.md).
    "FEDERATION": True,
    #: Let the federation client reach ``http`` addresses, and private or
    #: loopback ones: for tests and peers on one private network only.
    "FEDERATION_ALLOW_HTTP": False,
    "FEDERATION_ALLOW_PRIVATE": False,
    #: Seconds one remote fetch or delivery may take in all, and the largest
    #: answer or inbox POST read.
    "FEDERATION_FETCH_TIMEOUT": 10,
    "FEDERATION_MAX_BYTES": 1_000_000,
    #: How far a signed request's ``Date`` may be from now, either way.
    "FEDERATION_SIGNATURE_WINDOW": dt.timedelta(hours=1),
    #: Inbox POSTs per remote server (its domain), whatever its addresses.
    "FEDERATION_INBOX_LIMITS": "300 per minute; 5000 per hour",
    #: Tries of one delivery to one inbox before it is given up (backing off
    #: from a minute to a day between them).
    "FEDERATION_MAX_ATTEMPTS": 12,
    #: JSON API requests that change something (POST, PUT, DELETE), per client
    #: address.
    "API_WRITE_LIMITS": "60 per minute; 1000 per hour",
}

#: Settings given in seconds in the environment or in ``config.py``.
_DURATIONS = (
    "SECOND_STEP_TIMEOUT",
    "FEDERATION_SIGNATURE_WINDOW",
    "FRESH_CONFIRMATION",
    "SESSION_IDLE_TIMEOUT",
    "SESSION_ABSOLUTE_LIFETIME",
    "SESSION_VISITOR_IDLE_TIMEOUT",
    "SESSION_TOUCH_INTERVAL",
    "SESSION_PURGE_INTERVAL",
    "API_TOKEN_LIFETIME",
    "API_NAMED_TOKEN_LIFETIME",
    "PAGE_CACHE_MAX_AGE",
)

#: Keys printed in documentation and tutorials; never accepted outside debug mode.
_PUBLISHED_KEYS = frozenset({"dev", "secret", "changeme", "change-me", "development"})
_MIN_SECRET_KEY_LENGTH = 24

SECRET_KEY_FILE = "secret_key"  # noqa: S105 (a file name, not a key)


def load(app: Flask, test_config: t.Mapping[str, t.Any] | None) -> None:
    """Fill ``app.config`` from every source, in order, and check the result.

    A test configuration replaces both the instance file and the environment, so
    a developer's shell settings cannot leak into the tests.
    """
    app.config.from_mapping(DEFAULTS)
    if test_config is None:
        app.config.from_pyfile("config.py", silent=True)
        app.config.from_prefixed_env("FLASKR")
    else:
        app.config.from_mapping(test_config)

    for name in _DURATIONS:
        value = app.config[name]
        if not isinstance(value, dt.timedelta):
            app.config[name] = dt.timedelta(seconds=float(value))
    origins = app.config["API_CORS_ORIGINS"]
    if isinstance(origins, str):  # from the environment: separated by spaces or commas
        app.config["API_CORS_ORIGINS"] = origins.replace(",", " ").split()

    if app.config["REDIS_URL"] and app.config["RATELIMIT_STORAGE_URI"] == "memory://":
        # Several servers share one Redis: their throttling counts must be shared too.
        app.config["RATELIMIT_STORAGE_URI"] = app.config["REDIS_URL"]

    if app.config["HTTPS"]:
        app.config["SESSION_COOKIE_SECURE"] = True
        app.config["PREFERRED_URL_SCHEME"] = "https"
        name = app.config["SESSION_COOKIE_NAME"]
        if not name.startswith("__Host-"):
            # The browser then refuses the cookie unless it is Secure, for
            # this host only, and for every path.
            app.config["SESSION_COOKIE_NAME"] = f"__Host-{name}"

    if not app.config.get("SQLALCHEMY_DATABASE_URI"):
        if app.config["DATABASE_URL"]:
            app.config["SQLALCHEMY_DATABASE_URI"] = app.config["DATABASE_URL"]
        else:
            Path(app.instance_path).mkdir(parents=True, exist_ok=True)
            database = Path(app.instance_path) / "flaskr.sqlite"
            app.config["SQLALCHEMY_DATABASE_URI"] = f"sqlite:///{database}"

    if not app.config["SECRET_KEY"]:
        app.config["SECRET_KEY"] = _instance_secret_key(app)
        app.config["SECRET_KEY_FROM_INSTANCE_FILE"] = True
    _check_secret_key(app)


def _check_secret_key(app: Flask) -> None:
    key = app.config["SECRET_KEY"]
    if app.debug or app.testing:
        return
    if str(key).strip().lower() in _PUBLISHED_KEYS or len(key) < _MIN_SECRET_KEY_LENGTH:
        raise RuntimeError(
            "SECRET_KEY is a published or short key. Set FLASKR_SECRET_KEY to a"
            ' random value, such as the output of: python -c "import secrets;'
            ' print(secrets.token_hex())"'
        )


def _instance_secret_key(app: Flask) -> str:
    """The key stored in the instance folder, made (readable by us only) if missing.

    Servers that share sessions must share a key: give them ``FLASKR_SECRET_KEY``.
    """
    folder = Path(app.instance_path)
    path = folder / SECRET_KEY_FILE
    if not path.exists():
        folder.mkdir(parents=True, exist_ok=True)
        key = secrets.token_hex(32)
        descriptor, temporary = tempfile.mkstemp(dir=folder, prefix=".secret_key.")
        try:
            with os.fdopen(descriptor, "w") as file:
                file.write(key)
            # mkstemp made it 0600; linking fails if another worker won the race.
            os.link(temporary, path)
            app.logger.warning(
                "No SECRET_KEY was configured: generated one and stored it in %s."
                " Several servers must share one FLASKR_SECRET_KEY instead.",
                path,
            )
        except FileExistsError:
            pass
        finally:
            os.unlink(temporary)
    return path.read_text().strip()
