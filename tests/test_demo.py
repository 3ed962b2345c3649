import sqlalchemy as sa

from flaskr.db import db
from flaskr.models import Comment
from flaskr.models import Like
from flaskr.models import Post
from flaskr.models import PostTag
from flaskr.models import User
from flaskr.services.accounts.directory import find_user
from flaskr.services.social.follows import follow
from tests.conftest import AuthActions
from tests.helpers import assert_counts_match_rows


def test_seed_demo(app, runner):
    result = runner.invoke(args=["seed-demo", "--posts", "120", "--users", "6"])
    assert result.exit_code == 0, result.output
    assert "Added 120 posts by 6 demo users" in result.output
    with app.app_context():
        count = db.session.scalar(sa.select(sa.func.count()).select_from(Post))
        assert count == 121  # with the test data's post
        assert (
            db.session.scalar(
                sa.select(sa.func.count())
                .select_from(User)
                .where(User.username.like("demo%"))
            )
            == 6
        )
        assert db.session.scalar(sa.select(sa.func.count()).select_from(PostTag)) > 0
        for post in db.session.scalars(sa.select(Post).where(Post.id > 1)):
            likes = db.session.scalar(
                sa.select(sa.func.count())
                .select_from(Like)
                .where(Like.post_id == post.id)
            )
            comments = db.session.scalar(
                sa.select(sa.func.count())
                .select_from(Comment)
                .where(Comment.post_id == post.id)
            )
            assert (post.like_count, post.comment_count) == (likes, comments)
            assert post.body_html.startswith("<")
            assert post.published is not None

        assert_counts_match_rows()
        demo1 = db.session.scalar(sa.select(User).where(User.username == "demo1"))
        assert demo1.following_count == 5  # every other demo writer, at most 1,000

    client = app.test_client()
    assert client.get("/").get_data(as_text=True).count("<article") == 10
    login = {"user": {"email": "demo1@example.org", "password": "demo password"}}
    token = client.post("/api/users/login", json=login).json["user"]["token"]
    feed = client.get("/api/articles/feed", headers={"Authorization": f"Token {token}"})
    assert feed.json["articlesCount"] > 0
    assert client.get("/search?q=garden").status_code == 200
    assert AuthActions(client).login("demo1", "demo password").status_code == 302


def test_seed_demo_adds_to_what_is_there(app, runner):
    runner.invoke(args=["seed-demo", "--posts", "10", "--users", "3"])
    result = runner.invoke(args=["seed-demo", "--posts", "10", "--users", "3"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Post)) == 21
        post = app.test_client()
    assert post.get("/21").status_code == 200


def test_seed_demo_follows_on_a_site_where_people_follow_already(app, runner):
    with app.app_context():
        follow(find_user("test"), find_user("other"))
    result = runner.invoke(args=["seed-demo", "--posts", "5", "--users", "6"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        assert find_user("demo1").following_count == 5
        assert find_user("test").following_count == 1
        assert_counts_match_rows()
    # Run again asking for fewer: what is there stays; none is made twice.
    result = runner.invoke(
        args=["seed-demo", "--posts", "0", "--users", "8", "--follows", "7"]
    )
    assert result.exit_code == 0, result.output
    with app.app_context():
        assert find_user("demo1").following_count == 7
        assert_counts_match_rows()
