"""What readers see: one address per post, the front page, the archive, the
Subscribe and About pages, and a post's history (issue 32)."""

import datetime as dt
import re
from pathlib import Path

import sqlalchemy as sa

import flaskr
from flaskr.db import db
from flaskr.models import ArchiveMonth
from flaskr.models import Post
from flaskr.models import SiteSettings
from flaskr.services.reading.navigation import ARCHIVE_TITLES
from tests.conftest import csrf_token_from
from tests.helpers import logged_in
from tests.helpers import png
from tests.helpers import upload


def write(client, path="/create", **fields):
    """Submit the post form at ``path``."""
    data = {"title": "A title", "body": "", "tags": "", **fields}
    data["csrf_token"] = csrf_token_from(client, path)
    return client.post(path, data=data)


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


# The front page and the lists --------------------------------------------


def set_site(app, **values):
    """Set the site's identity as an administrator would have."""
    with app.app_context():
        settings = db.session.get(SiteSettings, 1)
        for name, value in values.items():
            setattr(settings, name, value)
        db.session.commit()


def test_the_site_leads_the_front_page(app, client):
    set_site(app, title="Field Notes", description="Letters from the garden")
    page = client.get("/").get_data(as_text=True)
    hero = page[page.index('<div class="hero">') :]
    assert hero.index('<h1 dir="auto">Field Notes</h1>') < hero.index(
        '<p class="hero-description" dir="auto">Letters from the garden</p>'
    )
    # Following by e-mail is right there; the other ways are a link away.
    assert 'action="/subscribe"' in hero and 'name="subscribe-email"' in hero
    assert '<a href="/subscribe">Other ways to follow</a>' in hero
    assert ">Posts</h1>" not in page
    assert "<title>Field Notes</title>" in page


def test_the_newest_post_with_a_picture_is_the_feature(app, author):
    upload(author, data=png(size=(800, 400), mode="RGB"), title="Pictured")
    write(author, title="Plain")
    page = app.test_client().get("/").get_data(as_text=True)
    # The newest post has no picture: no feature, the pictured one is a card.
    assert 'class="card feature"' not in page
    assert 'class="card has-picture"' in page
    upload(author, data=png(size=(800, 400), mode="RGB"), title="Newest pictured")
    page = app.test_client().get("/").get_data(as_text=True)
    feature = page[page.index('class="card feature"') :]
    assert feature.index('<div class="feature-picture"><img src="/images/') < (
        feature.index(">Newest pictured</a>")
    )
    assert page.count('class="card feature"') == 1
    # Elsewhere the same post is an ordinary card, whichever list came first.
    tagless = app.test_client().get("/u/test").get_data(as_text=True)
    assert 'class="card feature"' not in tagless


def test_one_quiet_line_of_facts(app, author):
    write(author, title="Fresh", body="word " * 10)
    page = app.test_client().get("/").get_data(as_text=True)
    card = page[page.index(">Fresh</a>") :]
    card = card[: card.index("</article>")]
    assert "By " not in card
    assert '<span class="meta-read">1 min read</span>' in card
    # No counts while there are none, no "updated" the same day.
    assert "like" not in card and "comment" not in card and "updated" not in card
    with app.app_context():
        post = db.session.get(Post, 2)
        post.updated = post.published + dt.timedelta(days=2)
        post.like_count, post.comment_count = 3, 1
        db.session.commit()
    page = app.test_client().get("/").get_data(as_text=True)
    card = page[page.index(">Fresh</a>") :]
    assert '<span class="meta-updated">updated <time' in card
    assert '<span class="meta-count">3 likes</span>' in card
    assert '<span class="meta-count">1 comment</span>' in card
    # The author page says who wrote them once, above; its cards hide the name.
    assert '<main id="main" tabindex="-1" class="author-page">' in (
        app.test_client().get("/u/test").get_data(as_text=True)
    )


def test_drafts_and_scheduled_posts_wear_a_neutral_badge(app, author):
    write(author, title="Not yet", action="draft")
    page = author.get("/drafts").get_data(as_text=True)
    assert '<strong class="badge">Draft</strong>' in page
    style = (Path(flaskr.__file__).parent / "static" / "style.css").read_text()
    [badge] = re.findall(r"\n\.badge \{[^}]*\}", style)
    assert "--danger" not in badge


def test_user_text_reads_in_its_own_direction(app, author):
    hebrew = "שלום עולם"
    write(author, title=hebrew, body=f"{hebrew} " * 5, tags="עברית")
    other = logged_in(app, "other", "other")
    token = csrf_token_from(other, "/2")
    other.post("/2/comments", data={"body": hebrew, "csrf_token": token})
    reader = app.test_client()
    post = reader.get("/2", follow_redirects=True).get_data(as_text=True)
    assert f'<h1 id="post-title" dir="auto">{hebrew}</h1>' in post
    assert '<div class="body" dir="auto">' in post
    assert '<div class="comment-body" dir="auto">' in post
    assert 'dir="auto">#עברית</a>' in post
    listing = reader.get("/").get_data(as_text=True)
    assert re.search(f'<h2 dir="auto"><a href="[^"]+">{hebrew}</a></h2>', listing)
    assert f'<p class="excerpt" dir="auto">{hebrew}' in listing
    assert '<a href="/u/test" dir="auto">test</a>' in listing
    search = reader.get("/search?q=עולם").get_data(as_text=True)
    assert '<p class="excerpt" dir="auto">' in search


def test_an_empty_comment_is_refused_in_view_and_focused(app, author):
    write(author, title="Commented")
    other = logged_in(app, "other", "other")
    page = other.get("/p/commented").get_data(as_text=True)
    # No fragment: browsers do not autofocus a page that has one.
    assert 'id="comment-form" action="/2/comments"' in page
    token = csrf_token_from(other, "/p/commented")
    refused = other.post("/2/comments", data={"body": "  ", "csrf_token": token})
    assert refused.status_code == 422
    page = refused.get_data(as_text=True)
    form = page[page.index('id="comment-form"') :]
    assert 'class="error" id="body-error">Comment is required.</p>' in form
    assert re.search(r'<textarea[^>]* autofocus[^>]*id="body"', form) or re.search(
        r'<textarea[^>]*id="body"[^>]* autofocus', form
    )
    assert "autofocus" not in other.get("/p/commented").get_data(as_text=True)


# Subscribe, About, archive, history -----------------------------------------


def test_subscribe_says_how_to_follow(app, client):
    page = client.get("/subscribe").get_data(as_text=True)
    for address in (
        "http://localhost/feed.atom",
        "http://localhost/feed.rss",
        "http://localhost/feed.json",
    ):
        assert f'readonly value="{address}"' in page
    # Copy buttons appear with the script (copy.js, as on the account page),
    # each naming its field.
    for number in (1, 2, 3):
        assert f'id="feed-address-{number}" readonly' in page
        assert f'hidden data-copy="feed-address-{number}"' in page
    assert "http://localhost/u/name/feed.atom" in page
    assert "http://localhost/tag/tag/feed.atom" in page
    assert '<script src="/static/copy.js" defer></script>' in page
    for path in ("/", "/archive", "/p/missing-page-is-404-anyway"):
        response = client.get(path)
        if response.status_code == 200:
            assert '<a href="/subscribe">Subscribe</a>' in response.get_data(True)


def test_about_has_one_heading(app, client):
    set_site(app, about_html='<h2 id="hello">Hello, reader</h2>\n<p>We write.</p>')
    page = client.get("/about").get_data(as_text=True)
    assert '<h1 dir="auto">Hello, reader</h1>' in page
    assert page.count("Hello, reader") == 1
    assert "<p>We write.</p>" in page
    set_site(app, about_html="<p>No heading here.</p>")
    page = client.get("/about").get_data(as_text=True)
    assert '<h1 dir="auto">About Flaskr</h1>' in page


def test_the_archive_counts_what_readers_may_read(app, author):
    for number in range(12):
        write(author, title=f"Month post {number}")
    write(author, title="Draft", action="draft")
    write(author, title="Binned")
    token = csrf_token_from(author, "/15/delete")
    author.post("/15/delete", data={"csrf_token": token})
    later = dt.datetime.now(dt.UTC) + dt.timedelta(days=3)
    write(
        author,
        title="Later",
        action="schedule",
        publish_at=later.strftime("%Y-%m-%dT%H:%M"),
        time_zone="UTC",
    )
    page = app.test_client().get("/archive").get_data(as_text=True)
    today = dt.datetime.now(dt.UTC)
    month = page[page.index(f'id="month-{today.year}-{today.month}"') :]
    month = month[: month.index("</section>")]
    assert '<span class="count">12 posts</span>' in month
    assert month.count("<li>") == ARCHIVE_TITLES
    assert ">Month post 11</a>" in month and ">Month post 1</a>" not in month
    assert f"All 12 posts of {today:%B %Y}</a>" in month
    for hidden in ("Draft", "Binned", "Later"):
        assert f">{hidden}</a>" not in month
    # The fixture's post, January 2018.
    assert '<span class="count">1 post</span>' in page
    with app.app_context():
        rows = dict(
            db.session.execute(
                sa.select(ArchiveMonth.month, ArchiveMonth.post_count)
            ).all()
        )
    # The scheduled post is counted in its month, and subtracted when read.
    assert rows[201801] == 1
    assert sum(rows.values()) == 14


def test_history_stacks_its_entries_and_marks_changed_words(app, author):
    write(author, title="Drafted", body="The quick brown fox\nstays", action="draft")
    write(
        author,
        "/2/update",
        title="Drafted",
        body="The quick red fox\nstays",
        action="save",
    )
    page = author.get("/2/history").get_data(as_text=True)
    assert "<table" not in page
    assert page.count('<li class="revision">') == 2
    assert "UTC UTC" not in page
    assert "Removed: </span>The quick <del>brown</del> fox</li>" in page
    assert "Added: </span>The quick <ins>red</ins> fox</li>" in page
