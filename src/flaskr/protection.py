"""What every response and request goes through: security headers, HTTPS, and
the refusal of state-changing requests from other sites.

The CSRF token (Flask-WTF) is the main defence against forged requests; the
``Origin`` and ``Sec-Fetch-Site`` check is a second one that needs no token.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import abort
from flask import Flask
from flask import g
from flask import redirect
from flask import request
from werkzeug import Response
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


def refuse_cross_site_requests() -> None:
    """Refuse a state-changing request that a browser says came from elsewhere."""
    if request.method in SAFE_METHODS:
        return
    if request.headers.get("Sec-Fetch-Site") == "cross-site":
        abort(403, description=CROSS_SITE_REFUSAL)
    origin = request.headers.get("Origin")
    if origin is None:
        return  # Not sent by older browsers and non-browser clients.
    parts = urlsplit(origin)
    if (parts.scheme, parts.netloc) != (request.scheme, request.host):
        abort(403, description=CROSS_SITE_REFUSAL)


def require_https(app: Flask) -> Response | None:
    """Send browsers from http:// to https://; refuse other methods over http."""
    if request.is_secure:
        return None
    if request.method in ("GET", "HEAD"):
        return redirect(request.url.replace("http://", "https://", 1), code=301)
    abort(403, description="Use the https:// address of this site.")


def add_security_headers(app: Flask, response: Response) -> Response:
    for name, value in STATIC_HEADERS.items():
        response.headers.setdefault(name, value)
    if app.config["HTTPS"] and request.is_secure:
        response.headers["Strict-Transport-Security"] = (
            f"max-age={app.config['HSTS_MAX_AGE']:d}; includeSubDomains"
        )
    # Pages for a logged-in user stay out of caches (so do responses that set
    # the session cookie: the session interface marks those).
    if g.get("user") is not None:
        response.headers["Cache-Control"] = "no-store"
    return response


def init_app(app: Flask) -> None:
    hops = int(app.config["TRUSTED_PROXY_HOPS"])
    if hops:
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops, x_port=hops
        )
    if app.config["HTTPS"]:
        app.before_request(lambda: require_https(app))
    app.before_request(refuse_cross_site_requests)
    app.after_request(lambda response: add_security_headers(app, response))
