"""Text rules every domain shares: normalising what people type,
refusing control characters, and searching lists by part of a name."""

from __future__ import annotations


def normalize_text(text: str) -> str:
    """Line breaks as ``\\n``, however the browser sent them."""
    return text.replace("\r\n", "\n").replace("\r", "\n")


def has_control_characters(text: str, allowed: str = "") -> bool:
    """Whether ``text`` holds a control character (C0 or DEL) other than
    those in ``allowed``: fields refuse them, and PostgreSQL refuses NUL."""
    return any(
        (ord(char) < 32 or ord(char) == 127) and char not in allowed for char in text
    )


#: The longest search a list (members, subscribers) takes.
SEARCH_MAX_LENGTH = 100


def search_problem(search: str) -> str | None:
    """What is wrong with ``search`` as a list's search, or ``None``."""
    if len(search) > SEARCH_MAX_LENGTH:
        return f"A search must be at most {SEARCH_MAX_LENGTH} characters."
    if "\x00" in search:  # no name or address has one; PostgreSQL refuses it
        return "A search cannot contain a NUL character."
    return None


def contains_pattern(text: str) -> str:
    """A ``LIKE`` pattern (with ``escape="\\"``) matching values that
    contain ``text`` as typed: its ``%`` and ``_`` mean themselves."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"
