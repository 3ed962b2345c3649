"""``/api/openapi.json``: Flaskr's API described in OpenAPI 3.1.

Written here, next to the views it describes, rather than generated: no
library reads Flask views and their JSON shapes without rewriting them in its
own style. It follows RealWorld's operations and shapes (its spec is MIT
licensed; this document is Flaskr's own) and adds what Flaskr does beyond
them. CI checks it against the running API with Schemathesis, so a view that
answers something this document does not promise fails the build.
"""

from __future__ import annotations

import functools
import typing as t

from flask import current_app
from flask import jsonify
from werkzeug import Response

from flaskr.blueprints.api.core import bp

Json = dict[str, t.Any]


def _ref(name: str) -> Json:
    return {"$ref": f"#/components/schemas/{name}"}


def _string(**extra: t.Any) -> Json:
    return {"type": "string", **extra}


def _object(required: list[str], properties: Json) -> Json:
    return {"type": "object", "required": required, "properties": properties}


_TIME = _string(format="date-time")

_SCHEMAS: Json = {
    "Profile": _object(
        ["username", "bio", "image", "following"],
        {
            "username": _string(
                description="Empty for a deleted account; user@host for a"
                " fediverse author (a comment's)."
            ),
            "bio": _string(description="Markdown."),
            "image": _string(format="uri"),
            "following": {"type": "boolean"},
            "displayName": _string(),
            "followersCount": {"type": "integer", "minimum": 0},
            "followingCount": {"type": "integer", "minimum": 0},
            "url": _string(
                format="uri",
                description="The author page (a fediverse author's, on their server).",
            ),
        },
    ),
    "User": _object(
        ["email", "token", "username", "bio", "image"],
        {
            "email": _string(
                description="The confirmed address, else the one waiting for"
                " its link to be opened, else empty."
            ),
            "token": _string(),
            "username": _string(),
            "bio": _string(),
            "image": _string(format="uri"),
        },
    ),
    "ArticleInList": _object(
        [
            "slug",
            "title",
            "description",
            "tagList",
            "createdAt",
            "updatedAt",
            "favorited",
            "favoritesCount",
            "author",
        ],
        {
            "slug": _string(),
            "title": _string(),
            "description": _string(description="The post's summary; may be empty."),
            "tagList": {"type": "array", "items": _string()},
            "createdAt": _TIME,
            "updatedAt": _TIME,
            "favorited": {"type": "boolean"},
            "favoritesCount": {"type": "integer", "minimum": 0},
            "author": _ref("Profile"),
            "id": {"type": "integer", "description": "Also at /<id> on the site."},
            "published": {"type": "boolean", "description": "false for a draft."},
            "publishedAt": {"type": ["string", "null"], "format": "date-time"},
            "commentsCount": {"type": "integer", "minimum": 0},
            "url": _string(format="uri", description="The post's page."),
        },
    ),
    "Comment": _object(
        ["id", "createdAt", "updatedAt", "body", "author"],
        {
            "id": {"type": "integer"},
            "createdAt": _TIME,
            "updatedAt": _TIME,
            "body": _string(description="Markdown."),
            "bodyHtml": _string(),
            "state": _string(
                enum=["visible", "held"],
                description="held: waiting for a moderator (only its writer sees it).",
            ),
            "author": _ref("Profile"),
        },
    ),
    "Errors": _object(
        ["errors"],
        {
            "errors": _object(
                ["body"],
                {
                    "body": {
                        "type": "array",
                        "items": _string(),
                        "description": "What is wrong, for people; a message"
                        " about one field starts with its name.",
                    }
                },
            )
            # RealWorld's GenericErrorModel, and nothing beside ``body``: the
            # contract leg's Schemathesis run then fails on any other key.
            | {"additionalProperties": False}
        },
    ),
}
_SCHEMAS["Article"] = {
    "allOf": [
        _ref("ArticleInList"),
        _object(
            ["body"],
            {
                "body": _string(description="Markdown, as written."),
                "bodyHtml": _string(description="As the post's page shows it."),
            },
        ),
    ]
}


def _json(schema: Json, description: str) -> Json:
    return {
        "description": description,
        "content": {"application/json": {"schema": schema}},
    }


_ERROR = _ref("Errors")
_ERRORS = {
    "401": _json(_ERROR, "No token, or one that is not valid (any more)."),
    "403": _json(
        _ERROR,
        "Not allowed: someone else's, or the account's role (a reader writes"
        " nothing) or state (waiting for approval, suspended) does not allow it.",
    ),
    "404": _json(_ERROR, "No such user, article or comment."),
    "413": _json(_ERROR, "The request is larger than MAX_CONTENT_LENGTH."),
    "422": _json(_ERROR, "What is wrong with the request, field by field."),
    "429": _json(_ERROR, "Too many requests from this address or for this account."),
}


def _responses(success: str, body: Json | None, *errors: str) -> Json:
    answers: Json = {
        success: _json(body, "Done.") if body else {"description": "Done; no content."}
    }
    for code in ("401", "422", *errors):
        answers[code] = _ERRORS[code]
    return answers


def _wrapped(name: str, schema: Json) -> Json:
    return _object([name], {name: schema})


def _request(name: str, schema: Json) -> Json:
    return {
        "required": True,
        "content": {"application/json": {"schema": _wrapped(name, schema)}},
    }


_USER = _wrapped("user", _ref("User"))
_PROFILE = _wrapped("profile", _ref("Profile"))
_ARTICLE = _wrapped("article", _ref("Article"))
_ARTICLES = _object(
    ["articles", "articlesCount"],
    {
        "articles": {"type": "array", "items": _ref("ArticleInList")},
        "articlesCount": {
            "type": "integer",
            "minimum": 0,
            "description": "Kept by the database for one filter; for several,"
            " or favorited, counted up to 10,000.",
        },
        "next": {
            "type": ["string", "null"],
            "format": "uri",
            "description": "The next page, at the same cost at any depth.",
        },
    },
)
_TOKEN: list[Json] = [{"Token": []}]


def _parameter(name: str, where: str, schema: Json, description: str = "") -> Json:
    found: Json = {"name": name, "in": where, "schema": schema}
    if where == "path":
        found["required"] = True
    if description:
        found["description"] = description
    return found


def _paging(limit: int, offset: int) -> list[Json]:
    return [
        _parameter(
            "limit", "query", {"type": "integer", "minimum": 1, "maximum": limit}
        ),
        _parameter(
            "offset",
            "query",
            {"type": "integer", "minimum": 0, "maximum": offset},
            "Deeper pages follow `next`.",
        ),
        _parameter(
            "before",
            "query",
            _string(pattern="^[0-9]{1,18}-[0-9]{1,19}$"),
            "A position from a `next` link.",
        ),
    ]


_SLUG = _parameter("slug", "path", _string())
_USERNAME = _parameter("username", "path", _string())


def _operation(
    summary: str,
    responses: Json,
    *,
    parameters: list[Json] | None = None,
    body: Json | None = None,
    token: bool = False,
) -> Json:
    operation: Json = {"summary": summary, "responses": responses}
    if parameters:
        operation["parameters"] = parameters
    if body:
        operation["requestBody"] = body
    if token:
        operation["security"] = _TOKEN
    return operation


def _paths(limit: int, offset: int) -> Json:
    user_fields = {
        "username": _string(),
        "email": _string(),
        "password": _string(format="password"),
    }
    article_fields = {
        "title": _string(),
        "description": _string(),
        "body": _string(),
        "tagList": {"type": "array", "items": _string()},
        "slug": _string(description="The address; made from the title if empty."),
        "published": {"type": "boolean", "description": "false keeps a draft."},
        "mailSubscribers": {
            "type": "boolean",
            "description": "false keeps it out of the subscribers' mail; read"
            " when it comes out.",
        },
    }
    filters = [
        _parameter("tag", "query", _string()),
        _parameter("author", "query", _string()),
        _parameter("favorited", "query", _string(), "Liked by this username."),
        _parameter("q", "query", _string(), "Words to search for (not with filters)."),
    ]
    article_response = _responses("200", _ARTICLE, "404", "429")
    return {
        "/users": {
            "post": _operation(
                "Register (only while anyone may join the site)",
                _responses("201", _USER, "403", "429"),
                body=_request(
                    "user", _object(["username", "email", "password"], user_fields)
                ),
            )
        },
        "/users/login": {
            "post": _operation(
                "Log in by e-mail address and password"
                " (active accounts without a second factor)",
                _responses("200", _USER, "403", "429"),
                body=_request(
                    "user",
                    _object(
                        ["email", "password"],
                        {"email": _string(), "password": _string(format="password")},
                    ),
                ),
            )
        },
        "/user": {
            "get": _operation("The current user", _responses("200", _USER), token=True),
            "put": _operation(
                "Change the current user (currentPassword to rename or"
                " change the password)",
                _responses("200", _USER, "429"),
                body=_request(
                    "user",
                    _object(
                        [],
                        {
                            **user_fields,
                            "currentPassword": _string(format="password"),
                            "bio": _string(),
                            "image": _string(description="Empty removes the picture."),
                        },
                    ),
                ),
                token=True,
            ),
        },
        "/user/drafts": {
            "get": _operation(
                "The current user's drafts and scheduled articles",
                _responses("200", _ARTICLES),
                token=True,
            )
        },
        "/profiles/{username}": {
            "get": _operation(
                "A profile", _responses("200", _PROFILE, "404"), parameters=[_USERNAME]
            )
        },
        "/profiles/{username}/follow": {
            method: _operation(
                summary,
                _responses("200", _PROFILE, "404", "429"),
                parameters=[_USERNAME],
                token=True,
            )
            for method, summary in (("post", "Follow"), ("delete", "Unfollow"))
        },
        "/articles": {
            "get": _operation(
                "Public articles, newest first",
                _responses("200", _ARTICLES),
                parameters=filters + _paging(limit, offset),
            ),
            "post": _operation(
                "Write an article (a contributor's is a draft submitted for"
                " review, not published: an editor publishes it)",
                _responses("201", _ARTICLE, "403", "429"),
                body=_request(
                    "article", _object(["title", "description", "body"], article_fields)
                ),
                token=True,
            ),
        },
        "/articles/feed": {
            "get": _operation(
                "Articles of the writers the current user follows",
                _responses("200", _ARTICLES),
                parameters=_paging(limit, offset),
                token=True,
            )
        },
        "/articles/{slug}": {
            "get": _operation(
                "An article (a draft for its author and editors only)",
                _responses("200", _ARTICLE, "404"),
                parameters=[_SLUG],
            ),
            "put": _operation(
                "Change an article (its writer's, or any for an editor)",
                _responses("200", _ARTICLE, "403", "404", "429"),
                parameters=[_SLUG],
                body=_request("article", _object([], article_fields)),
                token=True,
            ),
            "delete": _operation(
                "Move an article to the trash (its writer's, or any for an editor)",
                _responses("204", None, "403", "404", "429"),
                parameters=[_SLUG],
                token=True,
            ),
        },
        "/articles/{slug}/favorite": {
            method: _operation(
                summary, article_response, parameters=[_SLUG], token=True
            )
            for method, summary in (("post", "Like"), ("delete", "Stop liking"))
        },
        "/articles/{slug}/comments": {
            "get": _operation(
                "An article's comments, oldest first",
                _responses(
                    "200",
                    _wrapped("comments", {"type": "array", "items": _ref("Comment")}),
                    "404",
                ),
                parameters=[
                    _SLUG,
                    _parameter(
                        "limit",
                        "query",
                        {"type": "integer", "minimum": 1, "maximum": limit},
                    ),
                    _parameter(
                        "after",
                        "query",
                        {"type": "integer", "minimum": 0},
                        "The id of the last comment of the page before.",
                    ),
                ],
            ),
            "post": _operation(
                "Comment on an article",
                _responses(
                    "200", _wrapped("comment", _ref("Comment")), "403", "404", "429"
                ),
                parameters=[_SLUG],
                body=_request("comment", _object(["body"], {"body": _string()})),
                token=True,
            ),
        },
        "/articles/{slug}/comments/{id}": {
            "delete": _operation(
                "Delete a comment",
                _responses("204", None, "403", "404", "429"),
                parameters=[_SLUG, _parameter("id", "path", {"type": "integer"})],
                token=True,
            )
        },
        "/tags": {
            "get": _operation(
                "Tags on public articles, the most used first",
                _responses(
                    "200", _wrapped("tags", {"type": "array", "items": _string()})
                ),
            )
        },
    }


@functools.cache
def _document(limit: int, offset: int) -> Json:
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Flaskr API",
            "version": "1.0.0",
            "description": "RealWorld's (Conduit) API over Flaskr, with Flaskr's own"
            " additions: drafts, slugs, search, keyset paging. Tokens come from"
            " /users and /users/login and are sent as `Authorization: Token <token>`"
            " (or Bearer).",
            "license": {"name": "BSD-3-Clause"},
        },
        "servers": [{"url": "/api"}],
        "paths": _paths(limit, offset),
        "components": {
            "schemas": _SCHEMAS,
            "securitySchemes": {
                "Token": {
                    "type": "apiKey",
                    "in": "header",
                    "name": "Authorization",
                    "description": "`Token <token>` or `Bearer <token>`.",
                }
            },
        },
    }


@bp.route("/openapi.json")
def openapi_document() -> Response:
    """This API, described in OpenAPI 3.1."""
    config = current_app.config
    return jsonify(_document(config["API_PAGE_LIMIT"], config["API_MAX_OFFSET"]))
