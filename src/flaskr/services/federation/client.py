"""The one client every outgoing fetch and delivery goes through.

It refuses what a server asked to fetch things could be turned against:

- schemes other than ``https`` (``http`` too with ``FEDERATION_ALLOW_HTTP``);
- hosts that resolve to any private, loopback, link-local, multicast or
  reserved address (allowed with ``FEDERATION_ALLOW_PRIVATE``, for tests and
  peers on one network). The connection goes to the address that was
  checked, so a name that resolves again differently cannot slip past;
- bodies over ``FEDERATION_MAX_BYTES`` and fetches over
  ``FEDERATION_FETCH_TIMEOUT`` seconds in all;
- redirects, which are followed (at most :data:`MAX_REDIRECTS`) only after
  the new address passes the same checks.

Requests are signed (``signatures.py``) with the key of the actor named as
``signer``: servers in Mastodon's "authorized fetch" mode refuse unsigned
fetches. Built on urllib3, which lets the connection go to a checked address
while TLS checks the certificate of the name.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import json
import socket
import time
import typing as t
import urllib.parse

from flask import current_app

from flaskr.db import utcnow
from flaskr.services.federation import ids
from flaskr.services.federation import keys
from flaskr.services.federation import signatures

# urllib3 is imported in the one function that connects: a worker that never
# fetches or delivers never loads it.

MAX_REDIRECTS = 3
#: What a fetch of an object asks for.
ACCEPT = f"{ids.ACTIVITY_JSON}, {ids.LD_JSON}"
USER_AGENT = "Flaskr (ActivityPub; +https://flask.palletsprojects.com/tutorial/)"
_JSON_TYPES = ("application/activity+json", "application/ld+json", "application/json")


class FetchRefused(Exception):
    """A fetch or delivery that was not made, or failed; ``str()`` says why.
    ``status`` is the remote server's answer, if there was one."""

    def __init__(self, reason: str, status: int | None = None) -> None:
        super().__init__(reason)
        self.status = status


@dataclasses.dataclass(frozen=True)
class Response:
    status: int
    #: Header names in lower case.
    headers: dict[str, str]
    body: bytes
    #: The address that answered, after any redirects.
    url: str


def _allowed_address(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


def check_url(url: str) -> urllib.parse.SplitResult:
    """``url`` split, if its scheme and form may be fetched at all.

    :raise FetchRefused: it may not.
    """
    try:
        parts = urllib.parse.urlsplit(url)
        port = parts.port
    except ValueError as error:
        raise FetchRefused("address unreadable") from error
    schemes = (
        {"https", "http"} if current_app.config["FEDERATION_ALLOW_HTTP"] else {"https"}
    )
    if parts.scheme not in schemes:
        raise FetchRefused(f"scheme {parts.scheme or 'none'} not allowed")
    if not parts.hostname or parts.username or parts.password:
        raise FetchRefused("address has no host, or carries credentials")
    if port == 0:
        raise FetchRefused("port 0")
    return parts


def _resolve(host: str, port: int) -> str:
    """An address of ``host`` to connect to, if every address it has may be
    reached."""
    try:
        found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as error:
        raise FetchRefused(f"host {host} not found") from error
    addresses = [str(info[4][0]) for info in found]
    if not addresses:
        raise FetchRefused(f"host {host} not found")
    if not current_app.config["FEDERATION_ALLOW_PRIVATE"] and not all(
        _allowed_address(address) for address in addresses
    ):
        raise FetchRefused(f"host {host} resolves to a private address")
    return addresses[0]


def _once(
    method: str,
    parts: urllib.parse.SplitResult,
    headers: dict[str, str],
    body: bytes | None,
    deadline: float,
) -> Response:
    import urllib3

    host = parts.hostname or ""
    port = parts.port or (443 if parts.scheme == "https" else 80)
    address = _resolve(host, port)
    left = max(deadline - time.monotonic(), 0.1)
    timeout = urllib3.Timeout(connect=left, read=left)
    pool: urllib3.HTTPConnectionPool
    if parts.scheme == "https":
        pool = urllib3.HTTPSConnectionPool(
            address,
            port,
            timeout=timeout,
            retries=False,
            maxsize=1,
            server_hostname=host,
            assert_hostname=host,
        )
    else:
        pool = urllib3.HTTPConnectionPool(
            address, port, timeout=timeout, retries=False, maxsize=1
        )
    target = parts.path or "/"
    if parts.query:
        target += "?" + parts.query
    limit = int(current_app.config["FEDERATION_MAX_BYTES"])
    try:
        answer = pool.urlopen(
            method,
            target,
            body=body,
            headers={**headers, "Host": parts.netloc},
            redirect=False,
            preload_content=False,
            assert_same_host=False,
        )
        try:
            declared = answer.headers.get("content-length")
            if declared and declared.isdigit() and int(declared) > limit:
                raise FetchRefused("answer too large", answer.status)
            chunks: list[bytes] = []
            size = 0
            for chunk in answer.stream(16384):
                size += len(chunk)
                if size > limit:
                    raise FetchRefused("answer too large", answer.status)
                if time.monotonic() > deadline:
                    raise FetchRefused("answer too slow", answer.status)
                chunks.append(chunk)
            return Response(
                status=answer.status,
                headers={name.lower(): value for name, value in answer.headers.items()},
                body=b"".join(chunks),
                url=parts.geturl(),
            )
        finally:
            answer.release_conn()
            answer.close()
    except urllib3.exceptions.HTTPError as error:
        raise FetchRefused(f"{type(error).__name__}: {error}") from error
    finally:
        pool.close()


def request(
    method: str,
    url: str,
    *,
    body: bytes | None = None,
    signer: str | None = None,
    headers: t.Mapping[str, str] | None = None,
) -> Response:
    """Send one request through the guards, following redirects of a GET.

    :param signer: the ``ActorKey.owner`` whose key signs the request (each
        hop's request is signed anew).
    :raise FetchRefused: an address was not allowed, or the answer was too
        large or too slow, or the connection failed.
    """
    deadline = time.monotonic() + float(current_app.config["FEDERATION_FETCH_TIMEOUT"])
    for _ in range(MAX_REDIRECTS + 1):
        parts = check_url(url)
        sent = {"User-Agent": USER_AGENT, **(headers or {})}
        if signer is not None:
            private_key = keys.private_key(signer)
            if private_key is None:
                raise FetchRefused("the signing key is unreadable")
            sent.update(
                signatures.signed_headers(
                    method, url, body, ids.key_id(signer), private_key, utcnow()
                )
            )
        answer = _once(method, parts, sent, body, deadline)
        location = answer.headers.get("location")
        if method != "GET" or answer.status not in (301, 302, 303, 307, 308):
            return answer
        if not location:
            raise FetchRefused("redirect without a location", answer.status)
        url = urllib.parse.urljoin(url, location)
    raise FetchRefused("too many redirects")


def fetch_object(url: str, signer: str) -> dict[str, t.Any]:
    """The ActivityStreams object at ``url``, fetched signed by ``signer``.

    :raise FetchRefused: not fetched, not a 200, or not a JSON object.
    """
    answer = request("GET", url, signer=signer, headers={"Accept": ACCEPT})
    if answer.status != 200:
        raise FetchRefused(f"answered {answer.status}", answer.status)
    media_type = answer.headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type not in _JSON_TYPES:
        raise FetchRefused(f"answered {media_type or 'no type'}, not JSON")
    try:
        document = json.loads(answer.body)
    except ValueError as error:
        raise FetchRefused("answer is not JSON") from error
    if not isinstance(document, dict):
        raise FetchRefused("answer is not a JSON object")
    return document


def deliver(inbox: str, activity: t.Mapping[str, t.Any], signer: str) -> Response:
    """POST ``activity`` to ``inbox``, signed by ``signer``; the answer,
    whatever its status (the caller decides what to retry).

    :raise FetchRefused: the inbox may not be reached, or did not answer.
    """
    body = json.dumps(activity, separators=(",", ":")).encode()
    return request(
        "POST",
        inbox,
        body=body,
        signer=signer,
        headers={"Content-Type": ids.LD_JSON, "Accept": ACCEPT},
    )
