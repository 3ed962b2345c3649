"""Links to this site for mails, built on ``SITE_URL``, never on the Host a
request named (a forged Host would otherwise send reset links elsewhere)."""

from __future__ import annotations

import typing as t

from flask import current_app
from flask import url_for

from flaskr.web.post_links import Addressable
from flaskr.web.post_links import post_url

#: Where links in mails point when ``SITE_URL`` is not set: ``./dev.sh serve``.
DEVELOPMENT_SITE_URL = "http://127.0.0.1:5000"


def _site_url() -> str:
    return str(current_app.config["SITE_URL"] or DEVELOPMENT_SITE_URL).rstrip("/")


def site_link(endpoint: str, **values: t.Any) -> str:
    """The address of ``endpoint`` on ``SITE_URL``."""
    return _site_url() + url_for(endpoint, **values)


def post_site_link(post: Addressable, **values: t.Any) -> str:
    """The address of ``post``'s page on ``SITE_URL`` (``post_url``)."""
    return _site_url() + post_url(post, **values)


def token_link_maker(endpoint: str) -> t.Callable[[str], str]:
    """Links to ``endpoint`` for a token (its ``token`` argument)."""
    placeholder = "TOKEN"
    path = site_link(endpoint, token=placeholder)
    return lambda token: path.replace(placeholder, token)
