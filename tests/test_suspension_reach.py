"""A suspension reaches every public surface at once, and lifting it brings
everything back: posts, comments, likes, follows and the counts of each."""

import sqlalchemy as sa

from flaskr.db import db
from flaskr.models import SiteVersion
from flaskr.services.accounts.directory import find_user
from flaskr.services.accounts.sessions import issue_named_api_token
from flaskr.services.content import writing
from flaskr.services.governance import members
from flaskr.services.social import follows
from flaskr.services.social import reactions
from tests.helpers import assert_counts_match_what_readers_see
from tests.helpers import logged_in
from tests.helpers import make_admin


def _site(app):
    """other (to be suspended) writes a tagged post, comments on test's
    post, likes it and follows test; test follows other."""
    make_admin(app, "test")
    with app.app_context():
        test, other = find_user("test"), find_user("other")
        mine = writing.create_post(
            test, "Test's own", "Mine.", tags=["shared"], publish=True
        )
        theirs = writing.create_post(
            other, "Withheld words", "Zebracorn text.", tags=["shared"], publish=True
        )
        reactions.add_comment(mine, other, "A remark by other.", post_link="/")
        reactions.set_like(other, mine, liked=True)
        follows.follow(other, test)
        follows.follow(test, other)
        return mine.slug, theirs.slug


def _suspend(app, name="other"):
    with app.app_context():
        members.suspend(find_user("test"), find_user(name), "Spam.")


def _lift(app, name="other"):
    with app.app_context():
        members.lift(find_user("test"), find_user(name))


SURFACES = [
    "/",
    "/tag/shared",
    "/tags",
    "/archive",
    "/feed.atom",
    "/feed.rss",
    "/feed.json",
    "/tag/shared/feed.atom",
    "/search?q=Zebracorn",
]


def _pages(client, mine, theirs):
    return {
        path: client.get(path).get_data(as_text=True)
        for path in [*SURFACES, f"/p/{mine}", "/u/test", "/u/test/followers"]
    }


def test_a_suspension_reaches_every_public_page_and_lifting_brings_it_back(app, client):
    mine, theirs = _site(app)
    before = _pages(client, mine, theirs)
    assert "Withheld words" in before["/"]
    assert "A remark by other." in before[f"/p/{mine}"]
    assert client.get(f"/p/{theirs}").status_code == 200
    assert client.get("/u/other").status_code == 200

    _suspend(app)
    after = _pages(client, mine, theirs)
    for path, page in after.items():
        assert "Withheld words" not in page, path
        assert "Zebracorn text" not in page, path
    assert "A remark by other." not in after[f"/p/{mine}"]
    assert 'href="/u/other"' in before["/u/test/followers"]
    assert 'href="/u/other"' not in after["/u/test/followers"]
    for path in ("/u/other", "/u/other/feed.atom", "/u/other/likes", f"/p/{theirs}"):
        assert client.get(path).status_code == 404, path
    assert "sitemap" in client.get("/sitemap.xml").get_data(as_text=True)
    with app.app_context():
        assert_counts_match_what_readers_see()

    _lift(app)
    again = _pages(client, mine, theirs)
    assert "Withheld words" in again["/"]
    assert "A remark by other." in again[f"/p/{mine}"]
    assert client.get("/u/other").status_code == 200
    with app.app_context():
        assert_counts_match_what_readers_see()


def test_the_sitemap_leaves_a_suspended_writers_posts_out(app, client):
    mine, theirs = _site(app)
    sitemaps = client.get("/sitemap.xml").get_data(as_text=True)
    first = "/sitemap-0.xml" if "/sitemap-0.xml" in sitemaps else "/sitemap.xml"
    assert theirs in client.get(first).get_data(as_text=True)
    _suspend(app)
    assert theirs not in client.get(first).get_data(as_text=True)
    assert mine in client.get(first).get_data(as_text=True)


def test_counts_leave_out_a_suspended_accounts_likes_follows_and_posts(app):
    mine, _ = _site(app)
    with app.app_context():
        test = find_user("test")
        assert test.follower_count == 1
        site_posts = db.session.get(SiteVersion, 1).post_count
    _suspend(app)
    with app.app_context():
        test = find_user("test")
        assert test.follower_count == 0
        assert test.following_count == 0
        assert db.session.get(SiteVersion, 1).post_count == site_posts - 1
        liked = db.session.scalar(
            sa.text("SELECT like_count FROM post WHERE slug = :slug"), {"slug": mine}
        )
        commented = db.session.scalar(
            sa.text("SELECT comment_count FROM post WHERE slug = :slug"),
            {"slug": mine},
        )
        assert (liked, commented) == (0, 0)
    _lift(app)
    with app.app_context():
        test = find_user("test")
        assert (test.follower_count, test.following_count) == (1, 1)
        assert db.session.get(SiteVersion, 1).post_count == site_posts
        assert_counts_match_what_readers_see()


def test_the_api_hides_a_suspended_account_everywhere(app, client):
    mine, theirs = _site(app)
    _suspend(app)
    assert client.get("/api/profiles/other").status_code == 404
    assert client.get(f"/api/articles/{theirs}").status_code == 404
    listed = client.get("/api/articles").json
    assert theirs not in [article["slug"] for article in listed["articles"]]
    assert client.get("/api/articles?author=other").json["articlesCount"] == 0
    assert client.get("/api/articles?favorited=other").json["articlesCount"] == 0
    comments = client.get(f"/api/articles/{mine}/comments").json["comments"]
    assert comments == []
    article = client.get(f"/api/articles/{mine}").json["article"]
    assert (article["favoritesCount"], article["commentsCount"]) == (0, 0)
    profile = client.get("/api/profiles/test").json["profile"]
    assert profile.get("followersCount", 0) == 0
    _lift(app)
    assert client.get("/api/profiles/other").status_code == 200
    assert client.get(f"/api/articles/{theirs}").status_code == 200


def test_a_suspended_token_and_session_are_logged_out(app, client):
    _site(app)
    with app.app_context():
        token = issue_named_api_token(find_user("other").id, "script")
    headers = {"Authorization": f"Token {token}"}
    assert client.get("/api/user", headers=headers).status_code == 200
    browser = logged_in(app, "other")
    assert browser.get("/auth/account").status_code == 200
    _suspend(app)
    assert browser.get("/auth/account").status_code == 302
    assert client.get("/api/user", headers=headers).status_code == 401


def test_the_loaders_refuse_a_withdrawn_accounts_session_left_behind(app, client):
    _site(app)
    with app.app_context():
        token = issue_named_api_token(find_user("other").id, "script")
    browser = logged_in(app, "other")
    with app.app_context():
        # A state written around the service: the session rows stay.
        db.session.execute(
            sa.text("UPDATE \"user\" SET state = 'suspended' WHERE username = 'other'")
        )
        db.session.commit()
    assert browser.get("/auth/account").status_code == 302
    headers = {"Authorization": f"Token {token}"}
    assert client.get("/api/user", headers=headers).status_code == 401


def test_a_suspension_and_its_lifting_move_the_site_version(app):
    _site(app)
    with app.app_context():
        before = db.session.get(SiteVersion, 1).value
    _suspend(app)
    with app.app_context():
        db.session.expire_all()
        suspended = db.session.get(SiteVersion, 1).value
    _lift(app)
    with app.app_context():
        db.session.expire_all()
        lifted = db.session.get(SiteVersion, 1).value
    assert before < suspended < lifted
