import ast
import datetime as dt
import sqlite3
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from werkzeug.security import generate_password_hash

import flaskr
from flaskr.db import db
from flaskr.models import Post
from flaskr.models import User
from flaskr.schema import is_modelled
from flaskr.schema import upgrade_db
from tests.conftest import csrf_token_from
from tests.conftest import TEST_DATABASE_URL

TUTORIAL_SCHEMA = Path(__file__).parent / "data" / "tutorial_schema.sql"

needs_sqlite = pytest.mark.skipif(
    bool(TEST_DATABASE_URL), reason="the tutorial's schema.sql is SQLite only"
)


def assert_models_match_schema():
    with db.engine.connect() as connection:
        context = MigrationContext.configure(
            connection,
            opts={
                "compare_type": True,
                "render_as_batch": True,
                "include_object": is_modelled,
            },
        )
        differences = compare_metadata(context, db.metadata)
    assert differences == []


def test_upgrade_empty_database_matches_models(make_app, tmp_path):
    if TEST_DATABASE_URL:
        app = make_app()  # The shared test database was upgraded from empty.
    else:
        app = make_app(SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'new.sqlite'}")
    with app.app_context():
        upgrade_db()
        assert_models_match_schema()
        version = db.session.execute(sa.text("SELECT version_num FROM alembic_version"))
        assert version.scalar() == "0030"


def make_tutorial_database(path, users):
    """A database as the tutorial makes it, with ``users`` and a post each."""
    connection = sqlite3.connect(path)
    connection.executescript(TUTORIAL_SCHEMA.read_text())
    for username, password_hash in users:
        cursor = connection.execute(
            "INSERT INTO user (username, password) VALUES (?, ?)",
            (username, password_hash),
        )
        connection.execute(
            "INSERT INTO post (author_id, created, title, body)"
            " VALUES (?, '2018-01-01 00:00:00', ?, ?)",
            (cursor.lastrowid, f"{username}'s title", f"{username}'s\nbody"),
        )
    connection.commit()
    connection.close()


@needs_sqlite
def test_tutorial_database_upgrades_in_place(make_app, tmp_path):
    path = tmp_path / "tutorial.sqlite"
    make_tutorial_database(
        path,
        [
            ("alice", generate_password_hash("alice's password", "pbkdf2:sha256:1000")),
            ("Bob Smith", generate_password_hash("bob's password", "scrypt:1024:8:1")),
        ],
    )
    app = make_app(SQLALCHEMY_DATABASE_URI=f"sqlite:///{path}")
    runner = app.test_cli_runner()
    result = runner.invoke(args=["upgrade-db"])
    assert result.exit_code == 0, result.output

    with app.app_context():
        assert_models_match_schema()
        users = db.session.scalars(sa.select(User).order_by(User.id)).all()
        assert [(u.id, u.username, u.username_key) for u in users] == [
            (1, "alice", "alice"),
            (2, "Bob Smith", "bob smith"),
        ]
        posts = db.session.scalars(sa.select(Post).order_by(Post.id)).all()
        assert [(p.id, p.author_id, p.title, p.body) for p in posts] == [
            (1, 1, "alice's title", "alice's\nbody"),
            (2, 2, "Bob Smith's title", "Bob Smith's\nbody"),
        ]
        assert posts[0].created == dt.datetime(2018, 1, 1, tzinfo=dt.UTC)
        assert posts[0].updated is None

    client = app.test_client()
    for username, password in [
        ("alice", "alice's password"),
        ("bob smith", "bob's password"),
    ]:
        response = client.post(
            "/auth/login",
            data={
                "username": username,
                "password": password,
                "csrf_token": csrf_token_from(client, "/auth/login"),
            },
        )
        assert response.headers["Location"] == "/", username
        token = csrf_token_from(client, "/auth/logout")
        client.post("/auth/logout", data={"csrf_token": token})

    with app.app_context():
        hashes = db.session.scalars(sa.select(User.password_hash)).all()
        assert all(h.startswith("$argon2id$") for h in hashes)
        # New rows get new ids, never a deleted one's.
        db.session.delete(db.session.get(Post, 2))
        db.session.commit()
        post = Post(author_id=1, title="new", body="")
        db.session.add(post)
        db.session.commit()
        assert post.id == 3
    assert b"alice&#39;s title" in client.get("/").data


@needs_sqlite
def test_tutorial_database_with_clashing_names_is_left_alone(
    make_app, tmp_path, caplog
):
    path = tmp_path / "tutorial.sqlite"
    make_tutorial_database(path, [("sam", "x"), ("Sam", "y"), ("SAM", "z")])
    app = make_app(SQLALCHEMY_DATABASE_URI=f"sqlite:///{path}")
    result = app.test_cli_runner().invoke(args=["upgrade-db"])
    assert result.exit_code != 0
    assert "not: 'sam', 'Sam', 'SAM'. Rename" in caplog.text

    connection = sqlite3.connect(path)
    tables = {row[0] for row in connection.execute("SELECT name FROM sqlite_master")}
    users = connection.execute("SELECT username, password FROM user").fetchall()
    connection.close()
    assert "post" in tables
    assert "user_v2" not in tables
    assert users == [("sam", "x"), ("Sam", "y"), ("SAM", "z")]


@needs_sqlite
def test_plain_text_migration_fills_old_posts_and_moves_search(make_app, tmp_path):
    """0010 gives posts written before it a plain-text body and new excerpts,
    and search then reads that text; going back searches the source again."""
    from flask_migrate import downgrade
    from flask_migrate import upgrade

    from flaskr.schema import enable_migrations
    from flaskr.schema import MIGRATIONS_DIR

    app = make_app(SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'old.sqlite'}")
    enable_migrations(app)
    with app.app_context():
        upgrade(directory=MIGRATIONS_DIR, revision="0009")
        db.session.execute(
            sa.text(
                "INSERT INTO post (id, created, published, title, body, body_html,"
                " excerpt, like_count, comment_count)"
                " VALUES (1, :now, :now, 'Old', :body, '', 'Some *old* excerpt', 0, 0)"
            ),
            {"now": dt.datetime(2026, 1, 1), "body": "Some *old* [post](/x)."},
        )
        db.session.commit()

        upgrade(directory=MIGRATIONS_DIR)
        row = db.session.execute(sa.text("SELECT body_text, excerpt FROM post")).one()
        assert tuple(row) == ("Some old post.", "Some old post.")
        snippet = sa.text(
            "SELECT snippet(post_fts, 1, '[', ']', '…', 8) FROM post_fts"
            " WHERE post_fts MATCH :word"
        )
        assert db.session.scalars(snippet, {"word": "old"}).all() == [
            "Some [old] post."
        ]
        db.session.execute(sa.text("UPDATE post SET body_text = 'new words'"))
        assert db.session.scalars(snippet, {"word": "words"}).all() == ["new [words]"]
        db.session.rollback()

        downgrade(directory=MIGRATIONS_DIR, revision="0009")
        assert db.session.scalars(snippet, {"word": "old"}).all() == [
            "Some *[old]* [post](/x)."
        ]


def test_slug_migration_gives_every_old_post_a_unique_address(make_app, tmp_path):
    from flask_migrate import downgrade
    from flask_migrate import upgrade

    from flaskr.schema import enable_migrations
    from flaskr.schema import MIGRATIONS_DIR

    app = make_app(SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'old.sqlite'}")
    enable_migrations(app)
    with app.app_context():
        upgrade(directory=MIGRATIONS_DIR, revision="0014")
        for number, title in enumerate(["Hello, world", "hello world", "¡!", "Hi"]):
            db.session.execute(
                sa.text(
                    "INSERT INTO post (id, created, title, body, body_html,"
                    " excerpt, like_count, comment_count)"
                    " VALUES (:id, :now, :title, '', '', '', 0, 0)"
                ),
                {"id": number + 1, "now": dt.datetime(2026, 1, 1), "title": title},
            )
        db.session.commit()
        upgrade(directory=MIGRATIONS_DIR)
        slugs = db.session.execute(sa.text("SELECT slug FROM post ORDER BY id"))
        assert slugs.scalars().all() == ["hello-world", "hello-world-2", "post", "hi"]
        downgrade(directory=MIGRATIONS_DIR, revision="0014")
        columns = {c["name"] for c in sa.inspect(db.engine).get_columns("post")}
        assert "slug" not in columns and "summary" not in columns


MIGRATIONS = Path(flaskr.__file__).parent / "migrations"

#: What a migration may import from Flaskr: the frozen copies kept with them.
FROZEN = "flaskr.migrations.frozen"

#: Layers whose changes must never change history.
MOVING_LAYERS = (
    "flaskr.services",
    "flaskr.web",
    "flaskr.blueprints",
    "flaskr.plumbing",
)


def flaskr_imports(path):
    """Every ``flaskr`` module a file imports, at its top or inside a function."""
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module]
        elif isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        else:
            continue
        yield from (name for name in names if name.split(".")[0] == "flaskr")


def is_frozen(module):
    return module == FROZEN or module.startswith(FROZEN + ".")


@pytest.mark.parametrize(
    "path",
    sorted([*MIGRATIONS.glob("versions/*.py"), *MIGRATIONS.glob("frozen/*.py")]),
    ids=lambda path: path.name,
)
def test_migrations_import_only_their_frozen_copies(path):
    """A migration runs the same code whatever the services have become."""
    imported = list(flaskr_imports(path))
    assert not [name for name in imported if name.startswith(MOVING_LAYERS)]
    assert [name for name in imported if not is_frozen(name)] == []


def test_the_import_check_sees_flaskr_imports(tmp_path):
    # The check above must be able to fail, on top-level and nested imports.
    sample = tmp_path / "0099_sample.py"
    sample.write_text(
        "import flaskr.web.users\n"
        "from flaskr.migrations.frozen.slugs import slugify\n"
        "def upgrade():\n"
        "    from flaskr.services.content.rules import slugify\n"
    )
    assert sorted(flaskr_imports(sample)) == [
        "flaskr.migrations.frozen.slugs",
        "flaskr.services.content.rules",
        "flaskr.web.users",
    ]
    assert is_frozen("flaskr.migrations.frozen.slugs")
    assert not is_frozen("flaskr.migrations.frozenish")
