import sqlalchemy as sa

from flaskr.db import db
from flaskr.models import Post
from flaskr.models import User
from tests.conftest import csrf_token_from
from tests.conftest import TEST_DATABASE_URL
from tests.conftest import transaction_states


def count(model):
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def test_init_db_asks_before_deleting_data(app, runner):
    result = runner.invoke(args=["init-db"], input="n\n")
    assert "holds data" in result.output
    assert result.exit_code != 0
    with app.app_context():
        assert count(Post) == 1

    result = runner.invoke(args=["init-db"], input="y\n")
    assert "Initialized" in result.output
    with app.app_context():
        assert count(Post) == 0
        assert count(User) == 0


def test_init_db_yes_skips_question(app, runner):
    result = runner.invoke(args=["init-db", "--yes"])
    assert "holds data" not in result.output
    assert "Initialized" in result.output
    with app.app_context():
        assert count(User) == 0


def test_init_db_on_empty_database_does_not_ask(app, runner):
    runner.invoke(args=["init-db", "--yes"])
    result = runner.invoke(args=["init-db"])
    assert result.exit_code == 0
    assert "holds data" not in result.output


def test_upgrade_db_is_idempotent(runner):
    for _ in range(2):
        result = runner.invoke(args=["upgrade-db"])
        assert result.exit_code == 0, result.output
        assert "up to date" in result.output


def test_sqlite_connection_settings(app):
    if TEST_DATABASE_URL:
        return
    with app.app_context(), db.engine.connect() as connection:
        pragma = connection.exec_driver_sql
        assert pragma("PRAGMA journal_mode").scalar() == "wal"
        assert pragma("PRAGMA foreign_keys").scalar() == 1
        assert pragma("PRAGMA busy_timeout").scalar() == 5000


def test_reads_stand_alone_and_writes_share_a_transaction(app, author):
    """A request that only reads runs each statement on its own (on PostgreSQL
    no BEGIN and ROLLBACK round trips around them); a form's writes still
    commit or fail together."""
    author.get("/create")  # the form's CSRF token is written to the session
    with transaction_states(app) as states:
        response = author.get("/create")  # the session row, then the page
    assert response.status_code == 200
    assert states, "the page read nothing"
    assert not any(in_transaction for _, in_transaction in states), states

    token = csrf_token_from(author, "/create")
    data = {"title": "new", "body": "text", "tags": "a, b", "csrf_token": token}
    with transaction_states(app) as states:
        response = author.post("/create", data=data)
    assert response.status_code == 302
    writes = [
        in_transaction
        for sql, in_transaction in states
        if sql.lstrip().upper().startswith(("INSERT", "UPDATE", "DELETE"))
    ]
    assert len(writes) >= 3, states  # the post, its tags, their links
    assert all(writes), states
