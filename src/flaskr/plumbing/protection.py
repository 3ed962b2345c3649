"""What every response and request goes through: security headers, HTTPS, and
the refusal of state-changing requests from other sites.

The CSRF token (Flask-WTF) is the main defence against forged requests; the
``Origin`` and ``Sec-Fetch-Site`` check is a second one that needs no token.
"""

from __future__ import annotations

import functools
import tempfile
import typing as t
from urllib.parse import urlsplit

from flask import abort
from flask import current_app
from flask import Flask
from flask import g
from flask import redirect
from flask import Request
from flask import request
from werkzeug import Response
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.middleware.proxy_fix import ProxyFix

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "object-src 'none'",
        "base-uri 'none'",
        "frame-ancestors 'none'",
        "form-action 'self'",
    ]
)

STATIC_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "strict-origin-when-cross-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
}

CROSS_SITE_REFUSAL = (
    "This request came from another site, so it was refused and nothing was"
    " changed. Open Flaskr itself and try again there."
)


#: ``app.extensions`` key: blueprints that other sites may call (see
#: :func:`open_to_other_sites`).
_OPEN_BLUEPRINTS = "flaskr.protection.open_blueprints"


def open_to_other_sites(app: Flask, blueprint_name: str) -> None:
    """Let pages on other sites send state-changing requests to the blueprint.

    Only for a blueprint that ignores cookies (a token API): a forged request
    then carries nothing that acts for anyone. Which sites' pages may read its
    answers is CORS's part.
    """
    app.extensions.setdefault(_OPEN_BLUEPRINTS, set()).add(blueprint_name)


#: ``app.extensions`` key: single endpoints that other sites may call (see
#: :func:`open_endpoint_to_other_sites`).
_OPEN_ENDPOINTS = "flaskr.protection.open_endpoints"


def open_endpoint_to_other_sites(app: Flask, endpoint: str) -> None:
    """Let other sites send state-changing requests to one endpoint.

    Only for an endpoint that acts for nobody's session: RFC 8058's one-click
    unsubscribe, which a mail program POSTs from wherever it runs, carrying
    only the signed link.
    """
    app.extensions.setdefault(_OPEN_ENDPOINTS, set()).add(endpoint)


def refuse_cross_site_requests() -> None:
    """Refuse a state-changing request that a browser says came from elsewhere."""
    if request.method in SAFE_METHODS:
        return
    if request.blueprint in current_app.extensions.get(_OPEN_BLUEPRINTS, ()):
        return
    if request.endpoint in current_app.extensions.get(_OPEN_ENDPOINTS, ()):
        return
    fetch_site = request.headers.get("Sec-Fetch-Site")
    if fetch_site == "cross-site":
        abort(403, description=CROSS_SITE_REFUSAL)
    if fetch_site == "same-origin":
        # Only the browser sets it (no page can): it is enough. Pages sent
        # with ``Referrer-Policy: no-referrer`` post with ``Origin: null``.
        return
    origin = request.headers.get("Origin")
    if origin is None:
        return  # Not sent by older browsers and non-browser clients.
    parts = urlsplit(origin)
    if (parts.scheme, parts.netloc) != (request.scheme, request.host):
        abort(403, description=CROSS_SITE_REFUSAL)


def require_https(app: Flask) -> Response | None:
    """Send browsers from http:// to https://; refuse other methods over http."""
    if request.is_secure or request.endpoint == "healthz":
        return None  # Load balancers check health over plain http.
    if request.method in ("GET", "HEAD"):
        return redirect(request.url.replace("http://", "https://", 1), code=301)
    abort(403, description="Use the https:// address of this site.")


def add_security_headers(app: Flask, response: Response) -> Response:
    # The names are compared once here: asking ``headers`` about each missing
    # one raises and catches a KeyError inside Werkzeug, on every response.
    present = {name.lower() for name, _ in response.headers}
    response.headers.extend(
        (name, value)
        for name, value in STATIC_HEADERS.items()
        if name.lower() not in present
    )
    if app.config["HTTPS"] and request.is_secure:
        response.headers["Strict-Transport-Security"] = (
            f"max-age={app.config['HSTS_MAX_AGE']:d}; includeSubDomains"
        )
    # Pages for a logged-in user stay out of caches (so do responses that set
    # the session cookie: the session interface marks those). Responses that say
    # how to cache themselves (images, static files) keep what they say.
    if g.get("user") is not None and "cache-control" not in present:
        response.headers["Cache-Control"] = "no-store"
    return response


#: Endpoints whose forms upload an image, and so may be larger.
UPLOAD_ENDPOINTS = frozenset(
    {
        "blog.create",
        "blog.update",
        "blog.library",
        "auth.change_avatar",
        "auth.import_blog",
        "admin.change_icon",
    }
)

#: Endpoints whose forms carry a picture: one over ``IMAGE_MAX_BYTES`` is still
#: read (and thrown away) up to ``OVERSIZED_PICTURE_READ_BYTES``, so the form
#: comes back with everything typed in it and the reason, not a bare 413.
PICTURE_ENDPOINTS = frozenset(
    {
        "blog.create",
        "blog.update",
        "blog.library",
        "auth.change_avatar",
        "admin.change_icon",
    }
)


def megabytes(size: int) -> str:
    """``size`` bytes in MB for people: whole numbers from 10 MB, else one
    decimal, rounded up (a picture just over a limit never reads as equal)."""
    if size >= 10_000_000:
        return f"{-(-size // 1_000_000)} MB"
    tenths = -(-size // 100_000)
    return f"{tenths / 10:g} MB"


def picture_too_large(size: int, limit: int) -> str:
    """What a form says of a picture over the limit."""
    return f"This picture is {megabytes(size)}; the limit is {megabytes(limit)}."


class SentFile:
    """A file part of a form as it arrives: its first ``keep`` bytes are kept
    (in memory, then on disk), the rest only counted in :attr:`size`."""

    def __init__(self, keep: int) -> None:
        # Closed with the request's files, as Werkzeug's own containers are.
        self._file = tempfile.SpooledTemporaryFile(  # noqa: SIM115
            max_size=512 * 1024, mode="rb+"
        )
        self._keep = keep
        #: Bytes sent, kept or not.
        self.size = 0

    def write(self, data: bytes) -> int:
        room = self._keep - self.size
        if room > 0:
            self._file.write(data[:room])
        self.size += len(data)
        return len(data)

    def __getattr__(self, name: str) -> t.Any:
        # Reading, seeking and closing are the kept bytes'.
        return getattr(self._file, name)


def sent_size(stream: object) -> int | None:
    """How many bytes were sent in a file part, if Flaskr counted them."""
    return stream.size if isinstance(stream, SentFile) else None


class FlaskrRequest(Request):
    """Requests limited to ``MAX_CONTENT_LENGTH``, plus ``IMAGE_MAX_BYTES`` for
    the forms that upload an image (Flask reads the limit per request); the
    forms that carry a picture read up to ``OVERSIZED_PICTURE_READ_BYTES``
    more, keeping only what a picture may be."""

    @property
    def max_content_length(self) -> int | None:
        limit = super().max_content_length
        if limit is None or not current_app or self.endpoint not in UPLOAD_ENDPOINTS:
            return limit
        config = current_app.config
        if self.endpoint in PICTURE_ENDPOINTS:
            return limit + max(
                int(config["IMAGE_MAX_BYTES"]),
                int(config["OVERSIZED_PICTURE_READ_BYTES"]),
            )
        return limit + int(config["IMAGE_MAX_BYTES"])

    @max_content_length.setter
    def max_content_length(self, value: int | None) -> None:
        # Werkzeug's property, seen by type checkers as a plain attribute.
        Request.max_content_length.fset(self, value)  # type: ignore[attr-defined]

    def _get_file_stream(
        self,
        total_content_length: int | None,
        content_type: str | None,
        filename: str | None = None,
        content_length: int | None = None,
    ) -> t.IO[bytes]:
        if self.endpoint in PICTURE_ENDPOINTS and current_app:
            keep = int(current_app.config["IMAGE_MAX_BYTES"]) + 1
            stream = t.cast(t.IO[bytes], SentFile(keep))
        else:
            stream = super()._get_file_stream(
                total_content_length, content_type, filename, content_length
            )
        self._file_streams.append(stream)
        return stream

    @functools.cached_property
    def _file_streams(self) -> list[t.IO[bytes]]:
        return []

    def close(self) -> None:
        """Close the request's files, those of a form whose reading was cut
        short too: Werkzeug leaves a file part's temporary file open when a
        later part of the form is refused (too large, malformed)."""
        super().close()
        for stream in self.__dict__.get("_file_streams", ()):
            stream.close()

    def _load_form_data(self) -> None:
        limit = self.max_content_length
        length = self.content_length
        if (
            self.endpoint in PICTURE_ENDPOINTS
            and limit is not None
            and length is not None
            and length > limit
            and current_app
        ):
            # Too large to read: the browser keeps what was typed (Back).
            picture_limit = int(current_app.config["IMAGE_MAX_BYTES"])
            raise RequestEntityTooLarge(
                description=f"What you sent is {megabytes(length)}: too large to"
                f" read. A picture may be at most {megabytes(picture_limit)}. Go"
                " back (your text is still in the form), choose a smaller"
                " picture and send it again."
            )
        super()._load_form_data()


def init_app(app: Flask) -> None:
    app.request_class = FlaskrRequest
    hops = int(app.config["TRUSTED_PROXY_HOPS"])
    if hops:
        # Wrapping wsgi_app is Flask's documented way to add WSGI middleware.
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops, x_port=hops
        )
    if app.config["HTTPS"]:
        app.before_request(lambda: require_https(app))
    app.before_request(refuse_cross_site_requests)
    app.after_request(lambda response: add_security_headers(app, response))
