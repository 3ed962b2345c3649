"""Reading the fields of remote documents, which may hold a string, an
object, or a list of either, and must never be trusted as more."""

from __future__ import annotations

import typing as t
import urllib.parse

from flaskr.models.federation import URI_MAX_LENGTH


def id_of(value: t.Any) -> str | None:
    """The address an object field names: the string itself, or an embedded
    object's ``id``; ``None`` for anything else or an overlong one."""
    if isinstance(value, dict):
        value = value.get("id")
    if isinstance(value, str) and 0 < len(value) <= URI_MAX_LENGTH:
        return value
    return None


def http_address(value: t.Any) -> str | None:
    """An ``http(s)`` address from a field such as ``url``, ``icon`` or
    ``inbox``: a string, a ``Link`` (``href``) or an ``Image`` (``url``), or a
    list of them (the first ``text/html`` one preferred); ``None`` for
    anything else."""
    if isinstance(value, list):
        html = [
            item
            for item in value
            if isinstance(item, dict) and item.get("mediaType") == "text/html"
        ]
        value = (html or value or [None])[0]
    if isinstance(value, dict):
        value = value.get("href") or value.get("url")
        if isinstance(value, list | dict):
            return http_address(value)
    if not isinstance(value, str) or len(value) > URI_MAX_LENGTH:
        return None
    parts = urllib.parse.urlsplit(value)
    return value if parts.scheme in ("http", "https") and parts.netloc else None
