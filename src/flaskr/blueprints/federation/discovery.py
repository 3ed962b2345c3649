"""WebFinger, NodeInfo, host-meta, and the actors' and objects' JSON; and
the author and post pages answering ActivityStreams JSON to servers that ask
for it (``Accept``), HTML to everyone else.

While the site does not federate (``ids.federating()``) every address of
this blueprint answers 404 and the pages answer HTML only.
"""

from __future__ import annotations

import json
import typing as t

from flask import abort
from flask import request
from werkzeug import Response
from werkzeug.http import parse_accept_header

from flaskr.blueprints.federation.views import bp
from flaskr.db import db
from flaskr.models import Post
from flaskr.models import User
from flaskr.services.base.errors import Invalid
from flaskr.services.federation import discovery
from flaskr.services.federation import ids

#: The pages that answer ActivityStreams JSON as well as HTML: the author
#: page and the post's two addresses (endpoint names: no blueprint imported).
NEGOTIATED_ENDPOINTS = frozenset({"blog.author", "blog.post", "blog.post_by_slug"})

#: Discovery documents anyone's browser code may read.
_OPEN_TO_ALL = {"Access-Control-Allow-Origin": "*"}


@bp.before_request
def only_when_federating() -> None:
    """Nothing here exists while the site does not federate."""
    if not ids.federating():
        abort(404)


def _json(
    document: t.Mapping[str, t.Any],
    content_type: str = ids.ACTIVITY_JSON,
    headers: t.Mapping[str, str] | None = None,
) -> Response:
    return Response(
        json.dumps(document, ensure_ascii=False),
        content_type=content_type,
        headers=dict(headers or {}),
    )


def _found(document: t.Mapping[str, t.Any] | None, commit: bool = False) -> Response:
    if document is None:
        abort(404)
    if commit:
        db.session.commit()  # a key made for the actor's document
    return _json(document)


@bp.route("/.well-known/webfinger")
def webfinger() -> Response:
    """The JRD of ``?resource=acct:name@host`` (or an actor's or author
    page's address): :raise 400: no resource, or a malformed one; :raise
    404: nobody here."""
    try:
        document = discovery.webfinger(request.args.get("resource", ""))
    except Invalid as problem:
        abort(400, description=str(problem))
    if document is None:
        abort(404, description="No writer here has that name.")
    return _json(document, discovery.JRD_JSON, _OPEN_TO_ALL)


@bp.route("/.well-known/host-meta")
def host_meta() -> Response:
    """Where WebFinger is, for servers that look here first."""
    return Response(
        discovery.host_meta(), content_type=discovery.XRD_XML, headers=_OPEN_TO_ALL
    )


@bp.route("/.well-known/nodeinfo")
def nodeinfo_links() -> Response:
    """Where the NodeInfo documents are."""
    return _json(discovery.nodeinfo_links(), "application/json", _OPEN_TO_ALL)


@bp.route("/nodeinfo/<version>")
def nodeinfo(version: str) -> Response:
    """NodeInfo 2.0 or 2.1: the software, its protocol, its counts."""
    document = discovery.nodeinfo(version)
    if document is None:
        abort(404)
    schema = discovery.NODEINFO_SCHEMA.format(version=version)
    content_type = f'application/json; profile="{schema}#"'
    return _json(document, content_type, _OPEN_TO_ALL)


@bp.route("/ap/site")
def site_actor() -> Response:
    """The site's own actor, which signs its fetches."""
    return _found(discovery.site_actor_document(), commit=True)


@bp.route("/ap/users/<id:user_id>")
def actor(user_id: int) -> Response:
    """A writer's actor (a ``Person``)."""
    user = discovery.actor_user(user_id)
    if user is None:
        abort(404)
    return _found(discovery.actor_document(user), commit=True)


@bp.route("/ap/users/<id:user_id>/outbox")
def outbox(user_id: int) -> Response:
    """A writer's outbox: the collection, or ``?page=N`` of its ``Create``
    activities, newest first."""
    raw = request.args.get("page")
    page: int | None = None
    if raw is not None:
        if not (raw.isascii() and raw.isdigit() and len(raw) <= 6):
            abort(400, description="Pages are numbered from 1.")
        page = int(raw)
    try:
        document = discovery.outbox(user_id, page)
    except Invalid as problem:
        abort(400, description=str(problem))
    return _found(document)


@bp.route("/ap/users/<id:user_id>/followers")
def followers(user_id: int) -> Response:
    """How many follow a writer from the fediverse."""
    return _found(discovery.followers(user_id))


@bp.route("/ap/users/<id:user_id>/following")
def following(user_id: int) -> Response:
    """Whom a writer follows on the fediverse (nobody is listed)."""
    return _found(discovery.following(user_id))


@bp.route("/ap/posts/<id:post_id>")
def article(post_id: int) -> Response:
    """A public post as an ``Article``; :raise 410: with a ``Tombstone``,
    for one in the trash."""
    document = discovery.article_document(post_id=post_id)
    if document is None and (gone := discovery.tombstone(post_id)) is not None:
        response = _json(gone)
        response.status_code = 410
        return response
    return _found(document)


@bp.app_template_global()
def activity_address(subject: t.Any) -> str | None:
    """The ActivityStreams id of a user (its actor) or a post (its
    ``Article``), for the pages' ``<link rel="alternate">``; ``None`` if it
    has none."""
    if isinstance(subject, User):
        return discovery.actor_id_of(subject)
    if isinstance(subject, Post):
        return discovery.article_id_of(subject)
    return None


def wants_activity_json(accept: str | None) -> bool:
    """Whether ``accept`` prefers ActivityStreams JSON to HTML: it names
    ``application/activity+json`` or ``application/ld+json`` (with or
    without the ActivityStreams profile) above ``text/html``. Wildcards
    count for HTML only, so browsers always get pages."""
    if not accept:
        return False
    best_activity = 0.0
    best_html = 0.0
    for value, quality in parse_accept_header(accept):
        kind = value.split(";", 1)[0].strip().lower()
        if kind in ("application/activity+json", "application/ld+json"):
            best_activity = max(best_activity, quality)
        elif kind in ("text/html", "application/xhtml+xml", "*/*", "text/*"):
            best_html = max(best_html, quality)
    return best_activity > 0 and best_activity > best_html


@bp.before_app_request
def answer_activity_json() -> Response | None:
    """The author and post pages' ActivityStreams JSON, for servers asking for
    it; anything else (a reader, a draft, a page of an account that is no
    actor) goes on to the HTML view."""
    if (
        request.endpoint not in NEGOTIATED_ENDPOINTS
        or request.method not in ("GET", "HEAD")
        or not ids.federating()
        or not wants_activity_json(request.headers.get("Accept"))
    ):
        return None
    arguments = request.view_args or {}
    document: t.Mapping[str, t.Any] | None
    if request.endpoint == "blog.author":
        user = discovery.actor_named(str(arguments.get("username", "")))
        document = None if user is None else discovery.actor_document(user)
        if document is not None:
            db.session.commit()  # a key made for the actor's document
    elif request.endpoint == "blog.post":
        document = discovery.article_document(post_id=arguments.get("id"))
    else:
        document = discovery.article_document(slug=str(arguments.get("slug", "")))
    if document is None:
        return None
    response = _json(document)
    response.vary.add("Accept")
    return response


@bp.after_app_request
def vary_on_accept(response: Response) -> Response:
    """Say that the negotiated pages answer by ``Accept``, for every cache
    after the page cache (which keys on it)."""
    if request.endpoint in NEGOTIATED_ENDPOINTS and ids.federating():
        response.vary.add("Accept")
    return response
