"""Every integer in a URL is bounded: no number a stranger sends reaches the
database as an id it cannot hold. The test walks the URL map, so a route
added later is covered too."""

import re

import pytest
from werkzeug.routing import IntegerConverter
from werkzeug.routing import UnicodeConverter

from flaskr.db import MAX_ID
from tests.conftest import csrf_token_from

BAD_NUMBERS = ["0", "-1", str(MAX_ID + 1), str(10**30), "9" * 5000]
PLACEHOLDER = re.compile(r"<(?:(\w+)(?:\([^)]*\))?:)?(\w+)>")


def integer_rules(app):
    for rule in app.url_map.iter_rules():
        names = [
            n for n, c in rule._converters.items() if isinstance(c, IntegerConverter)
        ]
        if names:
            yield rule, names


def test_every_integer_in_a_route_is_bounded(app):
    rules = list(integer_rules(app))
    assert len(rules) >= 10  # posts, comments, images, sitemaps
    for rule, names in rules:
        for name in names:
            converter = rule._converters[name]
            assert converter.max is not None and converter.max <= MAX_ID, rule.rule


def paths_with_bad_numbers(rule, names):
    for bad_name in names:
        for number in BAD_NUMBERS:

            def fill(match, bad_name=bad_name, number=number):
                name = match.group(2)
                if name == bad_name:
                    return number
                return "1" if name in names else "x"

            yield PLACEHOLDER.sub(fill, rule.rule)


def test_out_of_range_ids_are_a_4xx_on_every_route(app, author):
    token = csrf_token_from(author, "/create")
    sent = 0
    for rule, names in integer_rules(app):
        for path in paths_with_bad_numbers(rule, names):
            if "GET" in rule.methods:
                assert author.get(path).status_code < 500, path
                sent += 1
            if "POST" in rule.methods:
                response = author.post(path, data={"csrf_token": token, "body": "x"})
                assert response.status_code < 500, path
                assert response.status_code != 400 or b"expired" not in response.data
                sent += 1
    assert sent >= 40


@pytest.mark.parametrize("number", [*BAD_NUMBERS, "abc", "1.5"])
def test_out_of_range_ids_in_the_query_are_a_400(client, number):
    response = client.get(f"/1?comments_after={number}")
    assert response.status_code == 400


def test_a_good_id_in_the_query_still_works(client):
    assert client.get("/1?comments_after=1").status_code == 200


@pytest.mark.parametrize(
    "query",
    [
        "after=1-9999999999999999999",
        "before=1-9223372036854775808",
        "after=1-0",
        "after=%D9%A3-%D9%A3",
    ],
)
def test_page_links_with_impossible_ids_are_a_400(client, query):
    assert client.get(f"/?{query}").status_code == 400


@pytest.mark.parametrize("page", ["0", "9" * 5000, "%D9%A3", "-1"])
def test_impossible_search_pages_are_a_400(client, page):
    assert client.get(f"/search?q=post&page={page}").status_code == 400


def test_control_characters_in_a_text_segment_are_a_404_on_every_route(author):
    """PostgreSQL refuses a NUL in a query: a tag or username holding one
    must be "not found" before any query, on every route with such a part."""
    rules = [
        rule
        for rule in author.application.url_map.iter_rules()
        if any(
            type(c) is not UnicodeConverter and isinstance(c, UnicodeConverter)
            for c in rule._converters.values()
        )
    ]
    assert len(rules) >= 5  # tag and author pages, their feeds, likes
    for rule in rules:
        for bad in ("%00", "a%00b", "%01", "%7F", "x%1Fy"):
            path = PLACEHOLDER.sub(lambda match, bad=bad: bad, rule.rule)
            assert author.get(path).status_code == 404, path
    assert author.get("/u/test").status_code == 200
    assert author.get("/tag/caf%C3%A9").status_code == 404  # allowed, not there
