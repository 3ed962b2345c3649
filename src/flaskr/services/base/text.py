"""Text rules every domain shares: normalising what people type and
refusing control characters."""

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
