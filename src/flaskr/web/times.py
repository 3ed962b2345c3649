"""Times as a person reads them, in a time zone of theirs."""

from __future__ import annotations

import datetime as dt
import zoneinfo


def in_zone(moment: dt.datetime, zone: str | None) -> dt.datetime:
    """``moment`` in ``zone`` (an IANA name; ``None`` or unknown: UTC)."""
    try:
        return moment.astimezone(zoneinfo.ZoneInfo(zone or "UTC"))
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return moment.astimezone(dt.UTC)


def local_time(moment: dt.datetime, zone: str | None) -> str:
    """ "24 December 2026, 18:00 (Europe/Paris)"."""
    local = in_zone(moment, zone)
    return f"{local.day} {local:%B %Y, %H:%M} ({zone or 'UTC'})"


def local_input_value(moment: dt.datetime, zone: str | None) -> str:
    """``moment`` as a ``datetime-local`` input shows it in ``zone``."""
    return in_zone(moment, zone).strftime("%Y-%m-%dT%H:%M")
