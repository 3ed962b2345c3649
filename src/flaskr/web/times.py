"""Times as a person reads them, in a time zone of theirs."""

from __future__ import annotations

import datetime as dt
import zoneinfo

from markupsafe import Markup


def in_zone(moment: dt.datetime, zone: str | None) -> dt.datetime:
    """``moment`` in ``zone`` (an IANA name; ``None`` or unknown: UTC)."""
    try:
        return moment.astimezone(zoneinfo.ZoneInfo(zone or "UTC"))
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return moment.astimezone(dt.UTC)


def human_date(moment: dt.datetime, with_time: bool = False) -> str:
    """ "2 December 2026" in UTC, or with ``with_time`` "2 December 2026, 14:05
    UTC": what a reader sees before the page's script shows their own zone."""
    utc = moment.astimezone(dt.UTC)
    if with_time:
        return f"{utc.day} {utc:%B %Y, %H:%M} UTC"
    return f"{utc.day} {utc:%B %Y}"


def short_date(moment: dt.datetime) -> str:
    """ "2 Dec 2026" in UTC: for tables, where a column is narrow."""
    utc = moment.astimezone(dt.UTC)
    return f"{utc.day} {utc:%b %Y}"


def time_tag(moment: dt.datetime, with_time: bool = False) -> Markup:
    """A ``<time>`` element with :func:`human_date`'s text, which the page's
    script (``static/site.js``) shows in the reader's own time zone."""
    kind = "datetime" if with_time else "date"
    return Markup('<time datetime="{}" data-local="{}">{}</time>').format(
        moment.isoformat(), kind, human_date(moment, with_time)
    )


def month_tag(moment: dt.datetime) -> Markup:
    """A ``<time>`` element naming a month, "December 2026" (UTC): a month
    needs no zone of the reader's."""
    utc = moment.astimezone(dt.UTC)
    return Markup('<time datetime="{}">{}</time>').format(
        f"{utc:%Y-%m}", f"{utc:%B %Y}"
    )


def local_time(moment: dt.datetime, zone: str | None) -> str:
    """ "24 December 2026, 18:00 (Europe/Paris)"."""
    local = in_zone(moment, zone)
    return f"{local.day} {local:%B %Y, %H:%M} ({zone or 'UTC'})"


def local_input_value(moment: dt.datetime, zone: str | None) -> str:
    """``moment`` as a ``datetime-local`` input shows it in ``zone``."""
    return in_zone(moment, zone).strftime("%Y-%m-%dT%H:%M")
