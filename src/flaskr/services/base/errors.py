"""Domain errors: the services' way of saying no, without HTTP.

:mod:`flaskr.web.errors` maps each one to an HTTP error, so an HTML page and
the JSON API refuse the same thing with the same words and status.
"""

from __future__ import annotations

import math


class ServiceError(Exception):
    """Something a service refuses to do; ``str(error)`` is for people."""


class LockedOut(ServiceError):
    """Too many failed password checks for one account; try again later."""

    def __init__(self, wait_seconds: int) -> None:
        minutes = math.ceil(wait_seconds / 60)
        super().__init__(
            "Too many failed attempts to log in to this account. Try again in"
            f" {minutes} minute{'s' if minutes > 1 else ''}."
        )
        #: Seconds until the account may try again.
        self.wait_seconds = wait_seconds


class NotAllowed(ServiceError):
    """The actor's role or state does not allow this (``roles.py``): the
    pages answer 403, as does the JSON API."""

    def __init__(self, message: str = "You are not allowed to do this.") -> None:
        super().__init__(message)


class PostChanged(ServiceError):
    """The post was saved by someone else (another tab) since the writer
    opened it; nothing of this save was written."""

    def __init__(self) -> None:
        super().__init__(
            "This post changed since you opened it: it was saved from another"
            " tab or window. Your text is kept below; nothing of it is saved yet."
        )


class Invalid(ServiceError):
    """A use case refused its input: nothing was changed.

    ``problems`` maps each field the use case reads to the messages, for
    people, of what is wrong with it, so that a form shows them beside their
    fields and the JSON API answers 422 with the same words. A problem with
    the request as a whole is keyed ``"body"``.
    """

    def __init__(self, problems: dict[str, list[str]]) -> None:
        super().__init__(
            " ".join(message for messages in problems.values() for message in messages)
        )
        #: Field name -> messages, in the order the use case checked them.
        self.problems = problems

    @classmethod
    def of(cls, field: str, message: str) -> Invalid:
        """One problem with one field."""
        return cls({field: [message]})

    @classmethod
    def collect(cls, checks: dict[str, str | None]) -> None:
        """Raise with every check that found a problem (a message, not
        ``None``); return if none did."""
        problems = {field: [message] for field, message in checks.items() if message}
        if problems:
            raise cls(problems)
