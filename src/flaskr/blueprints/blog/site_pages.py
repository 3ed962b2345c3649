"""The site's own pages and pictures: the About page, the icon an
administrator chose, the favicon and the web app manifest. (The Subscribe
page is ``subscribe_pages``'.)"""

from __future__ import annotations

import re

from flask import abort
from flask import json
from flask import redirect
from flask import render_template
from flask import Response
from flask import url_for
from markupsafe import Markup
from werkzeug import Response as WerkzeugResponse

from flaskr.blueprints.blog.views import bp
from flaskr.plumbing.kept_pages import kept_per_visitor
from flaskr.plumbing.kept_pages import shows_reactions_of
from flaskr.services.base.site import about_html
from flaskr.services.base.site import icon_bytes
from flaskr.web.identity import site_identity
from flaskr.web.uploads import unchanging_picture


@bp.route("/about")
@kept_per_visitor
def about() -> str:
    """The About page an administrator wrote; 404 until there is one."""
    shows_reactions_of(())
    html = about_html()
    if html is None:
        abort(404)
    heading, body = leading_heading(html)
    return render_template("blog/about.html", about_html=body, heading=heading)


#: A heading at the very start of rendered Markdown, and what follows it.
_LEADING_HEADING = re.compile(r"\s*<h[1-6](?: [^>]*)?>(.*?)</h[1-6]>(.*)", re.DOTALL)


def leading_heading(html: str) -> tuple[Markup | None, Markup]:
    """The heading the About text starts with, to be the page's title instead
    of a second heading under it; and the rest of the text."""
    match = _LEADING_HEADING.fullmatch(html)
    if match is None:
        return None, Markup(html)  # noqa: S704 (rendered and cleaned Markdown)
    # Both parts are pieces of the same cleaned HTML.
    return Markup(match.group(1)), Markup(match.group(2))  # noqa: S704


@bp.route("/icon/<key>-<any(large, small):size>.png")
def site_icon(key: str, size: str) -> WerkzeugResponse:
    """The site's icon; each picture has its own key, so it never changes."""
    data = icon_bytes(key, size)
    if data is None:
        abort(404)
    return unchanging_picture(data, mimetype="image/png")


def _icon_url(size: str) -> str:
    key = site_identity().icon_key
    if key is None:
        return url_for("static", filename="favicon.svg")
    return url_for("blog.site_icon", key=key, size=size)


@bp.route("/favicon.ico")
def favicon() -> WerkzeugResponse:
    """Browsers ask here before they read a page's icon link; the icon an
    administrator chose may change, so the redirect is kept for a day only."""
    response = redirect(_icon_url("small"), 302)
    response.headers["Cache-Control"] = "public, max-age=86400"
    return response


@bp.route("/manifest.webmanifest")
@kept_per_visitor
def manifest() -> Response:
    """The web app manifest: the site's name and icon for a home screen."""
    shows_reactions_of(())
    identity = site_identity()
    if identity.icon_key is None:
        icon = {"src": _icon_url("large"), "sizes": "any", "type": "image/svg+xml"}
    else:
        icon = {"src": _icon_url("large"), "sizes": "512x512", "type": "image/png"}
    document = {
        "name": identity.title,
        "short_name": identity.title[:12],
        "description": identity.description,
        "start_url": url_for("blog.index"),
        "display": "browser",
        "background_color": "#ffffff",
        "theme_color": "#1f5fbf",
        "icons": [icon],
    }
    return Response(json.dumps(document), mimetype="application/manifest+json")
