"""The signed links mailed to a subscriber: confirm, manage, unsubscribe.

A link carries the subscriber's id and purpose, signed with ``SECRET_KEY``
and the subscriber's random ``link_key``: a new key voids every link
mailed before. Links are built on ``SITE_URL`` at fixed paths, so the event
line's handlers, which run without a request, can write them; the pages at
those paths (``blueprints/blog/subscribe_pages.py``) read them back.
"""

from __future__ import annotations

import secrets

from flask import current_app
from itsdangerous import BadSignature
from itsdangerous import URLSafeSerializer

from flaskr.db import db
from flaskr.models import Subscriber

CONFIRM = "confirm"
MANAGE = "manage"
UNSUBSCRIBE = "unsubscribe"
PURPOSES = (CONFIRM, MANAGE, UNSUBSCRIBE)

#: Where each purpose's link leads, below ``SITE_URL``.
PATHS = {purpose: f"/subscribe/{purpose}/" for purpose in PURPOSES}

#: Used when ``SITE_URL`` is not set (``./dev.sh serve``), as mails do.
DEVELOPMENT_SITE_URL = "http://127.0.0.1:5000"


def new_link_key() -> str:
    return secrets.token_urlsafe(24)


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(str(current_app.secret_key), salt="flaskr.subscriber-link")


def token(subscriber: Subscriber, purpose: str) -> str:
    """The token of ``subscriber``'s link for ``purpose``."""
    assert purpose in PURPOSES
    return _serializer().dumps([subscriber.id, purpose, subscriber.link_key])


def link(subscriber: Subscriber, purpose: str) -> str:
    """The absolute address of ``subscriber``'s link for ``purpose``."""
    site = str(current_app.config["SITE_URL"] or DEVELOPMENT_SITE_URL).rstrip("/")
    return site + PATHS[purpose] + token(subscriber, purpose)


def subscriber_for(link_token: str, purpose: str) -> Subscriber | None:
    """The subscriber a token names for ``purpose``, or ``None`` if it is not
    one this site signed, is for another purpose, or was voided."""
    if len(link_token) > 500:
        return None
    try:
        payload = _serializer().loads(link_token)
    except BadSignature:
        return None
    if not (isinstance(payload, list) and len(payload) == 3):
        return None
    subscriber_id, found_purpose, key = payload
    if found_purpose != purpose or not isinstance(subscriber_id, int):
        return None
    subscriber = db.session.get(Subscriber, subscriber_id)
    if subscriber is None or not secrets.compare_digest(str(key), subscriber.link_key):
        return None
    return subscriber
