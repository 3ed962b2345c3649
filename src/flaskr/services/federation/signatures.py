"""HTTP Signatures as the fediverse uses them: draft-cavage-http-signatures
(version 12) with ``rsa-sha256`` over ``(request-target) host date digest``,
and a ``Digest: SHA-256=`` header for a body, as Mastodon signs and checks.

Written here rather than taken from a library: the packages that implement the
draft (``requests-http-signature``, ``httpsig``) are unmaintained or sign the
newer RFC 9421 instead, and the part Mastodon needs is small. The RSA itself
is ``cryptography``'s. Nothing here reads a database or a request.
"""

from __future__ import annotations

import base64
import dataclasses
import datetime as dt
import email.utils
import hashlib
import hmac
import re
import typing as t
import urllib.parse

if t.TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric import rsa

# cryptography is imported in the functions that sign and check: a worker
# that never signs for federation, or checks a signature, never loads it.

#: Longest ``Signature`` header read.
MAX_HEADER_LENGTH = 4096
#: The algorithms taken as RSA with SHA-256 (``hs2019`` leaves it to the key).
RSA_SHA256 = frozenset({"rsa-sha256", "hs2019"})
_PARAMETER = re.compile(r'\s*([a-zA-Z]+)\s*=\s*"([^"]*)"\s*(?:,|$)')


class SignatureRefused(Exception):
    """A request whose signature does not check; ``str()`` says why."""


@dataclasses.dataclass(frozen=True)
class SignatureParts:
    key_id: str
    algorithm: str
    headers: tuple[str, ...]
    signature: bytes


def digest_of(body: bytes) -> str:
    """The ``Digest`` header's value for ``body``."""
    return "SHA-256=" + base64.b64encode(hashlib.sha256(body).digest()).decode()


def http_date(now: dt.datetime) -> str:
    return email.utils.format_datetime(now.astimezone(dt.UTC), usegmt=True)


def _signing_string(
    names: t.Sequence[str], method: str, target: str, headers: t.Mapping[str, str]
) -> str:
    lines = []
    for name in names:
        if name == "(request-target)":
            lines.append(f"(request-target): {method.lower()} {target}")
        else:
            lines.append(f"{name}: {headers[name]}")
    return "\n".join(lines)


def signed_headers(
    method: str,
    url: str,
    body: bytes | None,
    key_id: str,
    private_key: rsa.RSAPrivateKey,
    now: dt.datetime,
) -> dict[str, str]:
    """The headers that sign a request to ``url``: ``Host``, ``Date``,
    ``Digest`` (with a body) and ``Signature``."""
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding

    parts = urllib.parse.urlsplit(url)
    target = parts.path or "/"
    if parts.query:
        target += "?" + parts.query
    headers = {"host": parts.netloc, "date": http_date(now)}
    names = ["(request-target)", "host", "date"]
    if body is not None:
        headers["digest"] = digest_of(body)
        names.append("digest")
    signature = private_key.sign(
        _signing_string(names, method, target, headers).encode(),
        padding.PKCS1v15(),
        hashes.SHA256(),
    )
    headers["signature"] = (
        f'keyId="{key_id}",algorithm="rsa-sha256",'
        f'headers="{" ".join(names)}",'
        f'signature="{base64.b64encode(signature).decode()}"'
    )
    return {name.title(): value for name, value in headers.items()}


def parse_signature(header: str) -> SignatureParts:
    """The parts of a ``Signature`` header.

    :raise SignatureRefused: it is too long, or lacks a part, or its
        signature is not base64.
    """
    if len(header) > MAX_HEADER_LENGTH:
        raise SignatureRefused("signature header too long")
    found = {name.lower(): value for name, value in _PARAMETER.findall(header)}
    if "keyid" not in found or "signature" not in found:
        raise SignatureRefused("signature header lacks keyId or signature")
    try:
        signature = base64.b64decode(found["signature"], validate=True)
    except ValueError as error:
        raise SignatureRefused("signature is not base64") from error
    names = tuple(found.get("headers", "date").lower().split())
    return SignatureParts(
        key_id=found["keyid"],
        algorithm=found.get("algorithm", "hs2019").lower(),
        headers=names,
        signature=signature,
    )


def _digest_matches(header: str, body: bytes) -> bool:
    """Whether a ``Digest`` header names the SHA-256 of ``body`` (its
    algorithm's name in any case; other algorithms beside it ignored)."""
    wanted = hashlib.sha256(body).digest()
    for item in header.split(","):
        name, _, value = item.strip().partition("=")
        if name.strip().lower() == "sha-256":
            try:
                given = base64.b64decode(value.strip(), validate=True)
            except ValueError:
                return False
            return hmac.compare_digest(given, wanted)
    return False


def verify(
    method: str,
    target: str,
    headers: t.Mapping[str, str],
    body: bytes,
    parts: SignatureParts,
    public_key_pem: str,
    now: dt.datetime,
    window: dt.timedelta,
) -> None:
    """Check that ``parts`` (the request's parsed ``Signature``) signs this
    request with ``public_key_pem``.

    :param target: the path and query, as the request line had them.
    :param headers: the request's headers, looked up by lower-case name.
    :param window: how far ``Date`` may be from ``now``, either way.
    :raise SignatureRefused: with the reason.
    """
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import padding
    from cryptography.hazmat.primitives.asymmetric import rsa

    lower = {name.lower(): value for name, value in headers.items()}
    if parts.algorithm not in RSA_SHA256:
        raise SignatureRefused(f"algorithm {parts.algorithm} not supported")
    needed = {"(request-target)", "host", "date"}
    if method.upper() == "POST":
        needed.add("digest")
    if missing := needed - set(parts.headers):
        raise SignatureRefused(f"not signed: {', '.join(sorted(missing))}")
    if absent := [
        name
        for name in parts.headers
        if name != "(request-target)" and name not in lower
    ]:
        raise SignatureRefused(f"signed headers absent: {', '.join(absent)}")
    try:
        date = email.utils.parsedate_to_datetime(lower["date"])
    except (TypeError, ValueError) as error:
        raise SignatureRefused("date unreadable") from error
    if date.tzinfo is None:
        date = date.replace(tzinfo=dt.UTC)
    if abs(now - date) > window:
        raise SignatureRefused("date outside the window")
    if "digest" in lower and not _digest_matches(lower["digest"], body):
        raise SignatureRefused("digest does not match the body")
    try:
        public_key = serialization.load_pem_public_key(public_key_pem.encode())
    except ValueError as error:
        raise SignatureRefused("public key unreadable") from error
    if not isinstance(public_key, rsa.RSAPublicKey):
        raise SignatureRefused("public key is not RSA")
    signed = _signing_string(parts.headers, method, target, lower)
    try:
        public_key.verify(
            parts.signature, signed.encode(), padding.PKCS1v15(), hashes.SHA256()
        )
    except InvalidSignature as error:
        raise SignatureRefused("signature does not check") from error
