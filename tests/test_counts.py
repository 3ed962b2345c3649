"""Post and follow counts kept by database triggers (migration 0021): after
every kind of write they equal a count of the rows."""

import datetime as dt

import sqlalchemy as sa

from flaskr.db import db
from flaskr.db import utcnow
from flaskr.models import Post
from flaskr.models import SiteVersion
from flaskr.services.accounts import directory
from flaskr.services.accounts import users as accounts
from flaskr.services.content import lifecycle
from flaskr.services.content import writing
from flaskr.services.reading.queries import public_post_count
from flaskr.services.social import follows
from tests.helpers import assert_counts_match_rows


def test_counts_follow_every_kind_of_post_write(app):
    with app.app_context():
        test = directory.find_user("test")
        other = directory.find_user("other")
        assert_counts_match_rows()
        first = writing.create_post(test, "One", "text", tags=["a", "b"], publish=True)
        draft = writing.create_post(other, "Two", "text", tags=["a"], publish=False)
        later = utcnow() + dt.timedelta(days=1)
        writing.create_post(
            test, "Three", "x", tags=["b"], publish=False, schedule_at=later
        )
        assert_counts_match_rows()
        assert db.session.get(SiteVersion, 1).post_count == 3  # 1 + first + scheduled
        assert public_post_count() == 2  # the scheduled one is not out yet
        writing.update_post(
            draft.author, draft, "Two", "text", tags=["b", "c"], publish=True
        )
        assert_counts_match_rows()
        writing.update_post(first.author, first, "One", "text", tags=["c"])
        assert_counts_match_rows()
        lifecycle.unpublish(first.author, first)
        assert_counts_match_rows()
        lifecycle.move_to_trash(draft.author, draft)
        assert_counts_match_rows()
        lifecycle.restore(draft.author, draft)
        assert_counts_match_rows()
        lifecycle.move_to_trash(draft.author, draft)
        lifecycle.delete_forever(draft.author, draft)
        assert_counts_match_rows()
        # Deleted by the database's cascade, not the ORM: counted once.
        tagged = writing.create_post(other, "Four", "x", tags=["a", "c"], publish=True)
        db.session.execute(sa.delete(Post).where(Post.id == tagged.id))
        db.session.commit()
        assert_counts_match_rows()
        writing.create_post(other, "Five", "x", tags=["a"], publish=True)
        follows.follow(test, other)
        follows.follow(other, test)
        assert_counts_match_rows()
        accounts.delete_account(other, "other", keep_posts=True)
        assert_counts_match_rows()
        writing.create_post(test, "Six", "x", tags=["a"], publish=True)
        accounts.delete_account(test, "test", keep_posts=False)
        assert_counts_match_rows()


def test_bulk_trash_purge_keeps_counts(app):
    with app.app_context():
        test = directory.find_user("test")
        post = writing.create_post(test, "Old", "x", tags=["a"], publish=True)
        lifecycle.move_to_trash(post.author, post)
        post.deleted = utcnow() - dt.timedelta(days=365)
        db.session.commit()
        assert lifecycle.purge_trash() == 1
        assert_counts_match_rows()
