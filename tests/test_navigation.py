"""Ways from post to post: next and previous, related posts, the tag index,
the monthly archive, the search count; and what lists and feeds show of a
post (human dates, reading time, pictures, sharing cards)."""

from __future__ import annotations

import datetime as dt
import re

import pytest
import sqlalchemy as sa

from flaskr.db import db
from flaskr.db import utcnow
from flaskr.models import Post
from flaskr.models import PostTag
from flaskr.models import Tag
from flaskr.services.reading.navigation import archive
from flaskr.services.reading.navigation import neighbours
from flaskr.services.reading.navigation import related_posts
from flaskr.services.reading.navigation import tag_counts
from tests.conftest import make_post
from tests.conftest import statements_for_page
from tests.helpers import add_posts
from tests.helpers import png
from tests.helpers import upload
from tests.helpers import write

JANUARY = dt.datetime(2025, 1, 10, 12, tzinfo=dt.UTC)


def add_tagged(app, title, tags, published, author_id=1, deleted=None):
    """A post with tags, published at ``published`` (``None``: a draft)."""
    with app.app_context():
        post = make_post(author_id, title, f"Text of {title}", published=published)
        post.deleted = deleted
        db.session.add(post)
        db.session.flush()
        for name in tags:
            tag = db.session.scalar(sa.select(Tag).filter_by(name=name))
            if tag is None:
                tag = Tag(name=name)
                db.session.add(tag)
                db.session.flush()
            db.session.add(
                PostTag(
                    post_id=post.id,
                    tag_id=tag.id,
                    # As the trash leaves it: a trashed post keeps its time.
                    published=published,
                )
            )
        db.session.commit()
        return post.id


def titles(links):
    return [link.title if link else None for link in links]


def test_neighbours_are_the_public_posts_around_a_post(app):
    first = add_tagged(app, "first", [], JANUARY)
    add_tagged(app, "a draft between", [], None)
    add_tagged(
        app, "trashed between", [], JANUARY + dt.timedelta(days=1), deleted=JANUARY
    )
    middle = add_tagged(app, "middle", [], JANUARY + dt.timedelta(days=2))
    later = dt.datetime.now(dt.UTC) + dt.timedelta(days=3)
    add_tagged(app, "scheduled", [], later)
    with app.app_context():
        older, newer = neighbours(db.session.get(Post, middle))
        # The fixture's post (2018) is the oldest; the fixture's other posts
        # come before January 2025 too.
        assert older is not None and older.title == "first"
        assert newer is None
        older, newer = neighbours(db.session.get(Post, first))
        assert newer is not None and newer.title == "middle"
    page = app.test_client().get(f"/{middle}").get_data(as_text=True)
    assert f'<link rel="prev" href="/{first}">' in page
    assert f'<a rel="prev" href="/{first}" dir="auto">first</a>' in page
    assert 'rel="next"' not in page


def test_posts_at_the_same_moment_are_ordered_by_id(app):
    same = [add_tagged(app, f"same {n}", [], JANUARY) for n in range(3)]
    with app.app_context():
        older, newer = neighbours(db.session.get(Post, same[1]))
    assert (older.id, newer.id) == (same[0], same[2])


def test_related_posts_share_the_most_tags(app):
    here = add_tagged(app, "here", ["a", "b", "c"], JANUARY)
    add_tagged(app, "one shared", ["a"], JANUARY + dt.timedelta(days=5))
    add_tagged(app, "two shared", ["a", "b"], JANUARY + dt.timedelta(days=1))
    add_tagged(app, "three shared", ["a", "b", "c"], JANUARY - dt.timedelta(days=9))
    add_tagged(app, "unrelated", ["z"], JANUARY + dt.timedelta(days=2))
    add_tagged(app, "drafted", ["a", "b", "c"], None)
    add_tagged(app, "binned", ["a", "b", "c"], JANUARY, deleted=JANUARY)
    add_tagged(app, "one shared, older", ["c"], JANUARY - dt.timedelta(days=1))
    with app.app_context():
        post = db.session.get(Post, here)
        related = related_posts(post)
        assert titles(related) == ["three shared", "two shared", "one shared"]
        assert related[0].author_name == "test"
        assert related_posts(db.session.get(Post, 1)) == []  # no tags, none
    page = app.test_client().get(f"/{here}").get_data(as_text=True)
    assert "Read next" in page
    assert page.index(">three shared</a>") < page.index(">two shared</a>")


def test_the_tag_index_counts_public_posts(app):
    add_tagged(app, "one", ["cats", "dogs"], JANUARY)
    add_tagged(app, "two", ["cats"], JANUARY)
    add_tagged(app, "draft", ["cats", "birds"], None)
    add_tagged(app, "bin", ["dogs"], JANUARY, deleted=JANUARY)
    add_tagged(app, "later", ["dogs", "soon"], utcnow() + dt.timedelta(days=3))
    with app.app_context():
        counts = [(tag.name, tag.posts) for tag in tag_counts()]
    assert counts == [("cats", 2), ("dogs", 1)]
    page = app.test_client().get("/tags").get_data(as_text=True)
    cats = '<a href="/tag/cats" dir="auto">#cats</a>'
    assert cats + ' <span class="count">2 posts</span>' in page
    assert '<span class="count">1 post</span>' in page
    assert "birds" not in page


def test_the_archive_lists_months_with_posts(app):
    add_tagged(app, "january", [], JANUARY)
    add_tagged(app, "also january", [], JANUARY + dt.timedelta(days=20))
    add_tagged(app, "march", [], dt.datetime(2025, 3, 31, 23, 59, tzinfo=dt.UTC))
    add_tagged(app, "draft", [], None)
    add_tagged(
        app,
        "binned in may",
        [],
        dt.datetime(2025, 5, 2, tzinfo=dt.UTC),
        deleted=JANUARY,
    )
    with app.app_context():
        entries = archive()
    # The fixture's posts are from January 2018.
    assert [(entry.month, entry.count) for entry in entries] == [
        (dt.date(2025, 3, 1), 1),
        (dt.date(2025, 1, 1), 2),
        (dt.date(2018, 1, 1), 1),
    ]
    assert [link.title for link in entries[1].posts] == ["also january", "january"]
    page = app.test_client().get("/archive").get_data(as_text=True)
    assert page.index('<h2 id="year-2025">') < page.index('<h2 id="year-2018">')
    assert '<a href="/archive/2025/3">March<span class="visually-hidden"> 2025' in page
    assert '<span class="count">2 posts</span>' in page
    assert page.index(">also january</a>") < page.index(">january</a>")
    month = app.test_client().get("/archive/2025/1").get_data(as_text=True)
    assert "Posts of January 2025" in month
    assert ">also january</a>" in month and ">january</a>" in month
    assert "march" not in month


def test_a_month_pages_through_its_posts(app_with):
    app = app_with(POSTS_PER_PAGE=2)
    for day in range(5):
        add_tagged(app, f"day {day}", [], JANUARY + dt.timedelta(days=day))
    client = app.test_client()
    first = client.get("/archive/2025/1").get_data(as_text=True)
    assert re.findall(r">day (\d)</a></h2>", first) == ["4", "3"]
    older = (
        re.search(r'rel="next" href="([^"]+)"', first).group(1).replace("&amp;", "&")
    )
    second = client.get(older).get_data(as_text=True)
    assert re.findall(r">day (\d)</a></h2>", second) == ["2", "1"]


@pytest.mark.parametrize(
    "path",
    [
        "/archive/2025/2",
        "/archive/2025/13",
        "/archive/0/1",
        "/archive/2025/x",
        "/archive/9999/12",
        "/archive/10000/1",
    ],
)
def test_months_without_posts_or_that_do_not_exist_are_404(client, path):
    assert client.get(path).status_code == 404


def test_archive_and_tags_say_so_when_empty(make_app):
    client = make_app().test_client()
    assert "No posts yet." in client.get("/archive").get_data(as_text=True)
    assert "No published post has tags yet." in client.get("/tags").get_data(
        as_text=True
    )


def test_the_archive_costs_a_statement_per_month_not_per_post(app_with):
    app = app_with(PAGE_CACHE_BYTES=0)
    client = app.test_client()
    few = statements_for_page(app, client, "/archive")
    add_posts(app, 60, start=dt.datetime(2018, 1, 2, tzinfo=dt.UTC))
    assert len(statements_for_page(app, client, "/archive")) == len(few)


def test_the_post_page_costs_as_many_statements_with_many_posts(app_with):
    app = app_with(PAGE_CACHE_BYTES=0)
    client = app.test_client()
    add_tagged(app, "tagged", ["a", "b"], JANUARY)
    add_tagged(app, "related", ["a"], JANUARY)
    few = statements_for_page(app, client, "/2")
    for number in range(40):
        add_tagged(
            app, f"more {number}", ["a", "b"], JANUARY - dt.timedelta(days=number)
        )
    assert len(statements_for_page(app, client, "/2")) == len(few)


def test_search_says_about_how_many_posts_match(client, author):
    for number in range(3):
        write(author, title=f"Otter {number}", body="otters float")
    page = client.get("/search?q=otters").get_data(as_text=True)
    assert "About 3 posts match “otters”" in page
    write(author, title="Single", body="a lonely narwhal")
    assert "One post matches “narwhal”" in client.get("/search?q=narwhal").get_data(
        as_text=True
    )


def test_search_counts_stop_at_the_limit(client, author, monkeypatch):
    from flaskr.services.reading import search

    monkeypatch.setattr(search, "COUNT_LIMIT", 2)
    from flaskr.blueprints.blog import browse

    monkeypatch.setattr(browse, "COUNT_LIMIT", 2)
    for number in range(3):
        write(author, title=f"Otter {number}", body="otters float")
    page = client.get("/search?q=otters").get_data(as_text=True)
    assert "More than 2 posts match “otters”" in page


def test_lists_show_human_dates_and_reading_time(client, author):
    write(author, title="Long read", body="word " * 700)
    page = client.get("/").get_data(as_text=True)
    today = dt.datetime.now(dt.UTC)
    assert f'data-local="date">{today.day} {today:%B %Y}</time>' in page
    assert "3 min read" in page  # 700 words at 230 a minute
    post = client.get("/p/long-read").get_data(as_text=True)
    assert "3 min read" in post
    oldest = '<time datetime="2018-01-01T00:00:00+00:00" data-local="date">'
    assert oldest + "1 January 2018</time>" in client.get("/").get_data(as_text=True)


def test_word_counts_are_kept_at_save(app, author):
    write(author, title="Counted", body="# Heading\n\nOne **two** three [four](/x)")
    with app.app_context():
        assert db.session.scalar(sa.select(Post.word_count).where(Post.id == 2)) == 5


def test_feeds_carry_pictures_with_absolute_addresses(app, author):
    upload(author, data=png(), title="Pictured", body="See ![a dot](/media/abc.webp)")
    atom = app.test_client().get("/feed.atom").get_data(as_text=True)
    assert "&lt;img src=&#34;http://localhost/images/" in atom
    assert "src=&#34;http://localhost/media/abc.webp&#34;" in atom
    item = app.test_client().get("/feed.json").get_json()["items"][0]
    assert item["content_html"].startswith('<p><img src="http://localhost/images/')
    assert 'src="http://localhost/media/abc.webp"' in item["content_html"]
    rss = app.test_client().get("/feed.rss").get_data(as_text=True)
    assert "src=&#34;http://localhost/media/abc.webp&#34;" in rss


def test_a_post_with_a_picture_has_a_large_sharing_card(app, author):
    upload(
        author,
        data=png(size=(800, 400), mode="RGB"),
        title="Pictured",
        image_alt="A sunset",
    )
    page = app.test_client().get("/p/pictured").get_data(as_text=True)
    assert re.search(
        r'<meta property="og:image" content="http://localhost/images/\d+\.webp">', page
    )
    assert '<meta property="og:image:width" content="800">' in page
    assert '<meta property="og:image:height" content="400">' in page
    assert '<meta property="og:image:alt" content="A sunset">' in page
    assert '<meta name="twitter:card" content="summary_large_image">' in page
    plain = app.test_client().get("/1").get_data(as_text=True)
    assert '<meta name="twitter:card" content="summary">' in plain
    assert "og:image" not in plain
