"""What readers see: one address per post, the front page, the archive, the
Subscribe and About pages, and a post's history (issue 32)."""

import re

from tests.conftest import AuthActions
from tests.conftest import csrf_token_from


def write(client, path="/create", **fields):
    """Submit the post form at ``path``."""
    data = {"title": "A title", "body": "", "tags": "", **fields}
    data["csrf_token"] = csrf_token_from(client, path)
    return client.post(path, data=data)


def logged_in(app, username="test", password="test"):
    client = app.test_client()
    AuthActions(client).login(username, password)
    return client


# One address per post -------------------------------------------------------


def test_a_post_with_a_slug_lives_at_p_slug_and_its_id_redirects(app, author):
    response = write(author, title="Readable address", body="text", tags="news")
    assert response.headers["Location"] == "/p/readable-address"
    reader = app.test_client()
    moved = reader.get("/2?comments_after=1")
    assert moved.status_code == 301
    assert moved.headers["Location"] == "/p/readable-address?comments_after=1"
    # Kept a day, not for good: the writer may change the address.
    assert moved.headers["Cache-Control"] == "public, max-age=86400"
    page = reader.get("/p/readable-address").get_data(as_text=True)
    assert '<link rel="canonical" href="http://localhost/p/readable-address">' in page
    assert (
        '<meta property="og:url" content="http://localhost/p/readable-address">' in page
    )
    # A post without a slug (the tutorial's) stays at its id.
    assert reader.get("/1").status_code == 200


def test_the_redirect_ignores_what_the_query_names(app, author):
    write(author, title="Queried", body="text")
    reader = app.test_client()
    for query in ("slug=x", "_external=1", "id=5", "_anchor=x"):
        response = reader.get(f"/2?{query}")
        assert response.status_code == 301, query
        assert response.headers["Location"] == f"/p/queried?{query}"


def test_every_list_feed_and_the_api_link_to_the_slug(app, author):
    write(author, title="Everywhere linked", body="findable words", tags="news")
    write(author, title="Neighbour", body="text", tags="news")
    other = logged_in(app, "other", "other")
    token = csrf_token_from(other, "/p/everywhere-linked")
    other.post("/2/like", data={"liked": "yes", "csrf_token": token})
    reader = app.test_client()
    link = 'href="/p/everywhere-linked"'
    for path in ("/", "/tag/news", "/u/test", "/search?q=findable", "/u/other/likes"):
        assert link in reader.get(path).get_data(as_text=True), path
    # The next post's page links back (its neighbour and related post).
    neighbour = reader.get("/p/neighbour").get_data(as_text=True)
    assert neighbour.count(link) >= 2
    absolute = "http://localhost/p/everywhere-linked"
    for path in ("/feed.atom", "/feed.rss", "/sitemap-0.xml"):
        assert absolute in reader.get(path).get_data(as_text=True), path
    json_feed = reader.get("/feed.json").get_json()
    assert absolute in [item["url"] for item in json_feed["items"]]
    article = reader.get("/api/articles/everywhere-linked").get_json()["article"]
    assert article["url"] == absolute
    assert "/2" not in re.findall(
        r'href="(/\d+)"', reader.get("/").get_data(as_text=True)
    )


def test_likes_and_comments_come_back_to_the_slug(app, author):
    write(author, title="Reacted to", body="text")
    other = logged_in(app, "other", "other")
    token = csrf_token_from(other, "/p/reacted-to")
    liked = other.post("/2/like", data={"liked": "yes", "csrf_token": token})
    assert liked.headers["Location"] == "/p/reacted-to#likes"
    commented = other.post("/2/comments", data={"body": "Nice", "csrf_token": token})
    assert re.fullmatch(r"/p/reacted-to#comment-\d+", commented.headers["Location"])
