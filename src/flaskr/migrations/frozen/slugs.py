"""Post addresses (slugs) as migration 0015 makes them:
``flaskr.services.content.rules`` copied at migration 0024 (see the package
for why it is a copy)."""

from __future__ import annotations

import unicodedata

import sqlalchemy as sa

#: The longest slug the column holds.
SLUG_MAX_LENGTH = 80

#: Slugs no post may have: the JSON API's ``/api/articles/feed`` would hide
#: a post's ``/api/articles/<slug>``.
RESERVED_SLUGS = frozenset({"feed"})

#: Latin letters that carry no accent to drop, written as they are in
#: addresses made by hand ("Straße" is ``strasse``).
_LATIN_SPELLINGS = str.maketrans(
    {"ß": "ss", "æ": "ae", "œ": "oe", "ø": "o", "đ": "d", "ð": "d", "ł": "l",
     "þ": "th", "ı": "i", "ŋ": "n", "ħ": "h"}
)  # fmt: skip

_POST = sa.table("post", sa.column("id", sa.Integer), sa.column("slug", sa.String))


def _is_word_character(character: str) -> bool:
    """A letter, a mark on one, or a decimal digit, in any script."""
    category = unicodedata.category(character)
    return category[0] in "LM" or category == "Nd"


def _slug_words(text: str) -> list[str]:
    """The words of ``text`` as an address spells them: lower case, Latin
    letters without their accents, other scripts' letters as they are (NFC)."""
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
    """A readable address made from ``title``; ``post`` for a title with no
    letters or digits."""
    words = _slug_words(title)
    slug = ""
    for word in words:
        longer = f"{slug}-{word}" if slug else word
        if len(longer) > SLUG_MAX_LENGTH - 6:  # room for a "-12345" to tell apart
            break
        slug = longer
    return slug or (words[0][: SLUG_MAX_LENGTH - 6] if words else "post")


def free_slug(connection: sa.Connection, wanted: str) -> str:
    """``wanted``, or ``wanted-2``, ``-3``… whichever no post has yet."""
    query = sa.select(_POST.c.slug).where(
        sa.or_(
            _POST.c.slug == wanted,
            # Slugs that start with "wanted-", read from the index as a range.
            sa.and_(_POST.c.slug >= wanted + "-", _POST.c.slug < wanted + "."),
        )
    )
    taken = set(connection.execute(query).scalars()) | RESERVED_SLUGS
    if wanted not in taken:
        return wanted
    number = 2
    while f"{wanted}-{number}" in taken:
        number += 1
    return f"{wanted}-{number}"
