"""The rules a post's fields follow: titles, text, summaries, addresses
(slugs), tags and schedules, and the reading time shown beside them."""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import re
import unicodedata

import sqlalchemy as sa

from flaskr.db import utcnow
from flaskr.models import BODY_MAX_LENGTH
from flaskr.models import MAX_TAGS_PER_POST
from flaskr.models import Post
from flaskr.models import SLUG_MAX_LENGTH
from flaskr.models import SUMMARY_MAX_LENGTH
from flaskr.models import TAG_MAX_LENGTH
from flaskr.models import TITLE_MAX_LENGTH
from flaskr.services.base import markdown
from flaskr.services.base.text import has_control_characters
from flaskr.services.base.text import normalize_text

#: Slugs no post may have: the JSON API's ``/api/articles/feed`` would hide
#: a post's ``/api/articles/<slug>``.
RESERVED_SLUGS = frozenset({"feed"})


#: Latin letters that carry no accent to drop, written as they are in
#: addresses made by hand ("Straße" is ``strasse``).
_LATIN_SPELLINGS = str.maketrans(
    {"ß": "ss", "æ": "ae", "œ": "oe", "ø": "o", "đ": "d", "ð": "d", "ł": "l",
     "þ": "th", "ı": "i", "ŋ": "n", "ħ": "h"}
)  # fmt: skip


def _is_word_character(character: str) -> bool:
    """A letter, a mark on one, or a decimal digit, in any script."""
    category = unicodedata.category(character)
    return category[0] in "LM" or category == "Nd"


def _slug_words(text: str) -> list[str]:
    """The words of ``text`` as an address spells them: lower case; Latin
    letters without their accents ("Ça va" is ``ca va``); every other
    script's letters kept as they are, marks and all (Hebrew, Arabic,
    Cyrillic, Greek, Chinese…), composed (NFC)."""
    decomposed = unicodedata.normalize("NFKD", text.lower())
    kept, after_latin = [], False
    for character in decomposed:
        if unicodedata.combining(character):
            if after_latin:
                continue  # an accent on a Latin letter
        else:
            after_latin = character.isascii()
        kept.append(character)
    spelled = unicodedata.normalize("NFC", "".join(kept).translate(_LATIN_SPELLINGS))
    words, word = [], []
    for character in spelled:
        if _is_word_character(character):
            word.append(character)
        elif word:
            words.append("".join(word))
            word = []
    if word:
        words.append("".join(word))
    return words


def slugify(title: str) -> str:
    """A readable address made from ``title``: "Café au lait!" is
    ``cafe-au-lait``, "Привет, мир" ``привет-мир`` (browsers show it so and
    send it percent-encoded); a title with no letters or digits gives
    ``post``."""
    words = _slug_words(title)
    slug = ""
    for word in words:
        longer = f"{slug}-{word}" if slug else word
        if len(longer) > SLUG_MAX_LENGTH - 6:  # room for a "-12345" to tell apart
            break
        slug = longer
    return slug or (words[0][: SLUG_MAX_LENGTH - 6] if words else "post")


def free_slug(
    connection: sa.Connection, wanted: str, post_id: int | None = None
) -> str:
    """``wanted``, or ``wanted-2``, ``-3``… whichever no other post has.

    :param post_id: the post the slug is for, whose own slug does not count.
    """
    table = Post.__table__.c
    query = sa.select(table.slug).where(
        sa.or_(
            table.slug == wanted,
            # Slugs that start with "wanted-", read from the index as a range.
            sa.and_(table.slug >= wanted + "-", table.slug < wanted + "."),
        )
    )
    if post_id is not None:
        query = query.where(table.id != post_id)
    taken = set(connection.execute(query).scalars()) | RESERVED_SLUGS
    if wanted not in taken:
        return wanted
    number = 2
    while f"{wanted}-{number}" in taken:
        number += 1
    return f"{wanted}-{number}"


def slug_problem(slug: str) -> str | None:
    """Why ``slug`` may not be a post's address, or ``None`` if it may (empty
    means: make one from the title)."""
    if not slug:
        return None
    if len(slug) > SLUG_MAX_LENGTH:
        return f"An address must be at most {SLUG_MAX_LENGTH} characters long."
    if "-".join(_slug_words(slug)) != slug:
        return (
            "An address may contain only lower-case letters (of any script;"
            " Latin ones without accents), digits and single hyphens between"
            " them."
        )
    if slug in RESERVED_SLUGS:
        return f"The address {slug} is reserved: choose another."
    return None


def summary_problem(summary: str) -> str | None:
    """Why ``summary`` may not be a post's summary, or ``None`` if it may."""
    if len(" ".join(summary.split())) > SUMMARY_MAX_LENGTH:
        return f"A summary must be at most {SUMMARY_MAX_LENGTH} characters long."
    if "\x00" in summary:
        return "A summary must not contain NUL characters."
    return None


#: How far ahead a post may be scheduled.
LONGEST_SCHEDULE = dt.timedelta(days=5 * 366)


class ScheduleProblem(ValueError):
    """A time a post cannot be scheduled at; the message says why."""


@functools.cache
def time_zones() -> list[str]:
    """The IANA time zones this machine knows, sorted, UTC first."""
    import zoneinfo

    return ["UTC", *sorted(zoneinfo.available_timezones() - {"UTC"})]


def schedule_problem(moment: dt.datetime) -> str | None:
    """Why a post cannot be scheduled at ``moment``, or ``None`` if it can."""
    now = utcnow()
    if moment <= now:
        return "That time has passed: choose one to come."
    if moment > now + LONGEST_SCHEDULE:
        return "Choose a time within the next five years."
    return None


def schedule_time(local: str, zone: str) -> dt.datetime:
    """The moment ``local`` (``2026-12-24T18:00``, as a ``datetime-local``
    input sends it) is in ``zone``, in UTC.

    :raise ScheduleProblem: missing, malformed, unknown zone, past, or too far.
    """
    import zoneinfo

    if not local:
        raise ScheduleProblem("Choose the date and time to publish at.")
    if zone not in time_zones():
        raise ScheduleProblem("Choose a time zone from the list.")
    try:
        naive = dt.datetime.fromisoformat(local)
    except ValueError:
        raise ScheduleProblem("Enter a date and time like 2026-12-24T18:00.") from None
    if naive.tzinfo is not None:
        raise ScheduleProblem("Enter a date and time like 2026-12-24T18:00.")
    moment = naive.replace(tzinfo=zoneinfo.ZoneInfo(zone)).astimezone(dt.UTC)
    if (problem := schedule_problem(moment)) is not None:
        raise ScheduleProblem(problem)
    return moment


def title_problem(title: str) -> str | None:
    """Why ``title`` may not be a post's title, or ``None`` if it may."""
    if not title:
        return "Title is required."
    if len(title) > TITLE_MAX_LENGTH:
        return f"Title must be at most {TITLE_MAX_LENGTH} characters long."
    if has_control_characters(title):
        return "Title must not contain control characters."
    return None


def body_problem(body: str) -> str | None:
    """Why ``body`` may not be a post's text, or ``None`` if it may."""
    if len(normalize_text(body)) > BODY_MAX_LENGTH:
        return f"Text must be at most {BODY_MAX_LENGTH:,} characters long."
    if "\x00" in body:
        return "Text must not contain NUL characters."
    return None


def normalize_tag(text: str) -> str:
    """A tag as stored: lower case letters and digits, words joined by hyphens."""
    words = re.findall(r"[^\W_]+", text.casefold())
    return "-".join(words)


def parse_tags(text: str) -> list[str]:
    """The distinct normalized tags in a comma-separated list, in order."""
    return tag_names(text.split(","))


def tag_names(names: list[str]) -> list[str]:
    """The distinct normalized tags of ``names``, in order; names without a
    letter or digit are dropped."""
    tags = (normalize_tag(name) for name in names)
    return list(dict.fromkeys(tag for tag in tags if tag))


def tag_names_problem(names: list[str]) -> str | None:
    """Why ``names`` is not a valid list of a post's tags, or ``None``."""
    tags = tag_names(names)
    if len(tags) > MAX_TAGS_PER_POST:
        return f"A post can have at most {MAX_TAGS_PER_POST} tags."
    too_long = [tag for tag in tags if len(tag) > TAG_MAX_LENGTH]
    if too_long:
        return f"Each tag must be at most {TAG_MAX_LENGTH} characters long."
    return None


def tags_problem(text: str) -> str | None:
    """Why the comma-separated ``text`` is not a valid list of tags, or ``None``."""
    return tag_names_problem(text.split(","))


def typed_tags_problem(text: str) -> str | None:
    """As :func:`tags_problem`, for tags a writer typed in the post form: a
    tag that would be dropped (no letter or digit in it) is named, not lost
    without a word. Imports and the API keep dropping such tags."""
    unusable = [
        part.strip()
        for part in text.split(",")
        if part.strip() and not normalize_tag(part)
    ]
    if unusable:
        return (
            f"“{unusable[0]}” has no letters or digits, so it cannot be a tag."
            " Take it out or add a word."
        )
    return tags_problem(text)


#: Words a minute, for reading times (a common figure for screen reading).
READING_SPEED = 230


@dataclasses.dataclass(frozen=True)
class ReadingStats:
    words: int
    minutes: int


def reading_minutes(words: int) -> int:
    """Minutes a reader takes for ``words`` words: at least one."""
    return max(1, round(words / READING_SPEED))


def reading_stats(body: str) -> ReadingStats:
    """How many words a reader reads in ``body``, and in how many minutes
    (at least one)."""
    words = len(markdown.plain_text(normalize_text(body)).split())
    return ReadingStats(words, reading_minutes(words))
