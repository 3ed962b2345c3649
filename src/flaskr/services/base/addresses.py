"""E-mail addresses: whether one is valid, and the key that makes two
spellings of it the same. Accounts and subscribers compare addresses alike,
so the rules live down here, below both."""

from __future__ import annotations


def email_problem(address: str) -> str | None:
    """What is wrong with ``address`` as an e-mail address, or ``None``.

    Syntax and a domain that could exist (``email-validator``); whether mail
    is delivered there is not asked of DNS, which a server may not reach.
    """
    from email_validator import EmailNotValidError
    from email_validator import validate_email

    try:
        validate_email(address, check_deliverability=False)
    except EmailNotValidError as error:
        return str(error)
    return None


def normalized_email(address: str) -> str:
    from email_validator import validate_email

    return str(validate_email(address, check_deliverability=False).normalized)


def email_key(address: str) -> str:
    """What makes two spellings of an address the same for uniqueness."""
    return normalized_email(address).lower()
