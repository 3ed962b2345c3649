"""Feeds, sitemap and robots.txt, parsed and checked field by field."""

import datetime as dt
import re
import xml.etree.ElementTree as ET

import feedparser
import pytest

from tests.conftest import assert_reads_index_in_order
from tests.conftest import query_plan
from tests.conftest import statements_for_page
from tests.conftest import TEST_DATABASE_URL
from tests.helpers import write

ATOM = "{http://www.w3.org/2005/Atom}"


@pytest.fixture
def posts(app, client, auth):
    """Three published posts (one edited later) and a draft, by test."""
    auth.login()
    write(client, title="First <post>", body="Hello **world** & more", tags="News")
    write(client, title="Second", body="Two", tags="news, misc")
    write(client, title="Third", body="Three")
    write(client, "/3/update", title="Second, edited", body="Two, edited", tags="news")
    write(client, title="Unpublished", body="draft", tags="news", action="draft")
    auth.logout()
    return client


def parse(response):
    assert response.status_code == 200
    ET.fromstring(response.data)  # well-formed XML, or this raises
    feed = feedparser.parse(response.data)
    assert not feed.bozo, feed.bozo_exception
    return feed


def test_site_atom_feed(posts):
    response = posts.get("/feed.atom")
    assert response.mimetype == "application/atom+xml"
    feed = parse(response)
    assert feed.version == "atom10"
    assert feed.feed.title == "Flaskr"
    assert feed.feed.link == "http://localhost/"
    assert [link.href for link in feed.feed.links if link.rel == "self"] == [
        "http://localhost/feed.atom"
    ]
    titles = [entry.title for entry in feed.entries]
    assert titles == ["Third", "Second, edited", "First <post>", "test title"]
    assert "Unpublished" not in response.get_data(as_text=True)

    second = feed.entries[1]
    # Linked at its one address; its id stays the first, which never changes.
    assert second.link == "http://localhost/p/second"
    assert second.id == "http://localhost/3"
    assert second.author == "test"
    edited_after = dt.datetime.fromisoformat(second.updated)
    assert dt.datetime.fromisoformat(second.published) < edited_after
    assert [tag.term for tag in second.tags] == ["news"]
    first = feed.entries[2]
    assert first.content[0].type == "text/html"
    assert "<strong>world</strong> &amp; more" in first.content[0].value
    assert first.summary == "Hello world & more"
    assert feed.feed.updated_parsed == second.updated_parsed


def test_site_rss_feed(posts):
    response = posts.get("/feed.rss")
    assert response.mimetype == "application/rss+xml"
    feed = parse(response)
    assert feed.version == "rss20"
    assert feed.feed.link == "http://localhost/"
    entries = feed.entries
    assert [entry.title for entry in entries][:3] == [
        "Third",
        "Second, edited",
        "First <post>",
    ]
    assert entries[2].link == "http://localhost/p/first-post"
    assert entries[2].id == "http://localhost/2"
    assert "<strong>world</strong>" in entries[2].description
    assert entries[2].author == "test"
    published = dt.datetime(*entries[3].published_parsed[:6], tzinfo=dt.UTC)
    assert published == dt.datetime(2018, 1, 1, tzinfo=dt.UTC)
    pub_date = re.search(r"<pubDate>([^<]+)</pubDate>", response.get_data(as_text=True))
    assert pub_date.group(1).endswith(" GMT")


def test_author_and_tag_feeds(posts):
    author = parse(posts.get("/u/test/feed.atom"))
    assert author.feed.title == "Flaskr: posts by test"
    assert len(author.entries) == 4
    tagged = parse(posts.get("/tag/news/feed.atom"))
    assert tagged.feed.title == "Flaskr: posts tagged news"
    assert [entry.title for entry in tagged.entries] == [
        "Second, edited",
        "First <post>",
    ]
    assert parse(posts.get("/u/other/feed.atom")).entries == []


def test_feed_has_latest_twenty(app, client, auth):
    auth.login()
    for number in range(22):
        write(client, title=f"post {number}")
    assert len(parse(client.get("/feed.atom")).entries) == 20


def test_site_json_feed(posts):
    response = posts.get("/feed.json")
    assert response.mimetype == "application/feed+json"
    feed = response.get_json()
    assert feed["version"] == "https://jsonfeed.org/version/1.1"
    assert (feed["title"], feed["home_page_url"], feed["feed_url"]) == (
        "Flaskr",
        "http://localhost/",
        "http://localhost/feed.json",
    )
    titles = [item["title"] for item in feed["items"]]
    assert titles == ["Third", "Second, edited", "First <post>", "test title"]
    second, first = feed["items"][1], feed["items"][2]
    assert second["id"] == "http://localhost/3"
    assert second["url"] == "http://localhost/p/second"
    assert second["authors"] == [{"name": "test", "url": "http://localhost/u/test"}]
    assert second["tags"] == ["news"]
    published = dt.datetime.fromisoformat(second["date_published"])
    assert published < dt.datetime.fromisoformat(second["date_modified"])
    assert "<strong>world</strong> &amp; more" in first["content_html"]
    assert first["summary"] == "Hello world & more"
    assert "date_modified" not in first


@pytest.mark.parametrize(
    "path", ["/feed.atom", "/feed.rss", "/feed.json", "/tag/news/feed.atom"]
)
def test_feeds_can_be_polled_cheaply(posts, path):
    first = posts.get(path)
    assert first.headers["ETag"]
    assert first.headers["Last-Modified"]
    again = posts.get(path, headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304
    assert again.data == b""
    since = posts.get(
        path, headers={"If-Modified-Since": first.headers["Last-Modified"]}
    )
    assert since.status_code == 304


def test_feed_changes_when_a_post_is_published(posts, auth):
    etag = posts.get("/feed.atom").headers["ETag"]
    auth.login()
    write(posts, title="Brand new")
    response = posts.get("/feed.atom", headers={"If-None-Match": etag})
    assert response.status_code == 200
    assert b"Brand new" in response.data


def test_autodiscovery_links(posts):
    page = posts.get("/").get_data(as_text=True)
    assert '<link rel="alternate" type="application/atom+xml"' in page
    assert 'href="/feed.atom"' in page
    assert 'href="/feed.rss"' in page
    assert '<link rel="alternate" type="application/feed+json"' in page
    assert 'href="/feed.json"' in page
    # Visible too: a Subscribe page, linked from every page's footer and from
    # the index, gives the addresses to copy.
    footer = page[page.index('<footer class="site-footer">') :]
    assert '<a href="/subscribe">Subscribe</a>' in footer
    assert '<a href="/subscribe">Other ways to follow</a>' in page
    subscribe = posts.get("/subscribe").get_data(as_text=True)
    for feed in ("/feed.atom", "/feed.rss", "/feed.json"):
        assert f'value="http://localhost{feed}"' in subscribe
    assert 'href="/tag/news/feed.atom"' in posts.get("/tag/news").get_data(as_text=True)
    assert 'href="/u/test/feed.atom"' in posts.get("/u/test").get_data(as_text=True)


def meta_description(page):
    found = re.findall(r'<meta name="description" content="([^"]*)">', page)
    assert len(found) == 1, found
    return found[0]


def test_tag_and_author_pages_describe_themselves_to_search_engines(app, posts):
    """Search engines show a page's meta description as its summary; Lighthouse
    counts a page without one against its SEO score."""
    tag = meta_description(posts.get("/tag/news").get_data(as_text=True))
    assert tag == "Posts tagged #news on Flaskr."
    author = meta_description(posts.get("/u/test").get_data(as_text=True))
    assert author == "Posts by test on Flaskr."
    with app.test_request_context():
        from flaskr.services.accounts import directory
        from flaskr.services.accounts import profiles

        writer = directory.find_user("test")
        profiles.update_profile(
            writer, display_name="Tess", bio="Writes *tests* & docs.", website=""
        )
    author = meta_description(posts.get("/u/test").get_data(as_text=True))
    assert author == "Posts by Tess on Flaskr: Writes tests &amp; docs."


def test_favicon_and_manifest(client):
    response = client.get("/favicon.ico")
    assert response.status_code == 302  # an administrator may change the icon
    assert response.headers["Location"] == "/static/favicon.svg"
    icon = client.get("/static/favicon.svg")
    assert icon.status_code == 200
    assert icon.mimetype == "image/svg+xml"
    icon.close()
    manifest = client.get("/manifest.webmanifest")
    assert manifest.mimetype == "application/manifest+json"
    document = manifest.get_json()
    assert (document["name"], document["start_url"]) == ("Flaskr", "/")
    assert document["icons"][0]["src"] == "/static/favicon.svg"
    page = client.get("/").get_data(as_text=True)
    assert '<link rel="icon" href="/static/favicon.svg"' in page
    assert '<link rel="manifest" href="/manifest.webmanifest">' in page


def test_robots_txt(client):
    response = client.get("/robots.txt")
    assert response.mimetype == "text/plain"
    text = response.get_data(as_text=True)
    assert "User-agent: *" in text
    assert "Disallow: /auth/" in text
    assert "Sitemap: http://localhost/sitemap.xml" in text


def test_sitemap(posts):
    index = ET.fromstring(posts.get("/sitemap.xml").data)
    locations = [
        loc.text
        for loc in index.iter("{http://www.sitemaps.org/schemas/sitemap/0.9}loc")
    ]
    assert locations == ["http://localhost/sitemap-0.xml"]
    sitemap = ET.fromstring(posts.get("/sitemap-0.xml").data)
    urls = [
        loc.text
        for loc in sitemap.iter("{http://www.sitemaps.org/schemas/sitemap/0.9}loc")
    ]
    assert urls == [
        "http://localhost/",
        "http://localhost/1",
        "http://localhost/p/first-post",
        "http://localhost/p/second",
        "http://localhost/p/third",
    ]
    assert posts.get("/sitemap-1.xml").status_code == 404


PAGES = [
    "/1",
    "/tag/news",
    "/u/test",
    "/feed.atom",
    "/feed.json",
    "/tag/news/feed.atom",
    "/search?q=more",
    "/sitemap-0.xml",
]


def per_page_statements(app, client, path):
    """The statements of the page at ``path``, less the title statistics that
    search reads once in a while in each process, not for each page."""
    statements = statements_for_page(app, client, path)
    return [s for s, _ in statements if "FROM pg_stats" not in s]


@pytest.mark.parametrize("path", PAGES)
def test_statements_per_page_do_not_grow(app, posts, auth, path):
    before = len(per_page_statements(app, posts, path))
    auth.login()
    for number in range(30):
        # Search finds them by their text: its title matches stay as they were.
        write(posts, title=f"post {number}", body="more", tags="news, misc")
    auth.logout()
    assert len(per_page_statements(app, posts, path)) == before


@pytest.mark.parametrize(
    ("path", "index"),
    [
        ("/tag/news", "ix_post_tag_tag_id_published"),
        ("/u/test", "ix_post_author_id_published"),
        ("/feed.atom", "ix_post_published_id"),
        ("/u/other/likes", "ix_post_like_user_id_created"),
    ],
)
def test_list_pages_read_an_index(app, posts, path, index):
    """The list is read from its index in order, never scanned and sorted."""
    statements = statements_for_page(app, posts, path)
    [(statement, parameters)] = [
        (s, p) for s, p in statements if "ORDER BY" in s and "LIMIT" in s
    ]
    assert_reads_index_in_order(app, statement, parameters, index)


def test_search_reads_the_full_text_indexes(app, posts):
    """Titles from their own index, then titles and text from theirs."""
    statements = statements_for_page(app, posts, "/search?q=more")
    if TEST_DATABASE_URL:
        [(statement, parameters)] = [(s, p) for s, p in statements if "WITH" in s]
        plan = query_plan(app, statement, parameters)
        assert not any("Seq Scan" in step for step in plan), plan
        # The newest title matches: public titles from their own index, in
        # order, without reading the posts' rows.
        plan = query_plan(app, statement, parameters, in_order=True)
        assert any(
            "Index Only Scan Backward using ix_post_title_vector_public" in step
            for step in plan
        ), plan
        return
    searches = [(s, p) for s, p in statements if "MATCH" in s]
    assert {s.split(" WHERE ")[0].split()[-1] for s, _ in searches} == {
        "post_title_fts",
        "post_fts",
    }
    for statement, parameters in searches:
        plan = query_plan(app, statement, parameters)
        assert any("VIRTUAL TABLE INDEX" in step for step in plan), plan


def test_sitemap_reads_an_index_of_post_ids(app, posts):
    """The primary key, or on PostgreSQL the public posts' ids (migration 0008)."""
    statements = statements_for_page(app, posts, "/sitemap-0.xml")
    [(statement, parameters)] = [
        (s, p) for s, p in statements if "ORDER BY post.id" in s
    ]
    plan = query_plan(app, statement, parameters)
    indexes = ("pk_post", "PRIMARY KEY", "ix_post_title_vector_public")
    assert any(index in step for step in plan for index in indexes), plan
