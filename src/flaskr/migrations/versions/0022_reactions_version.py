"""Likes and comments move their post's version, not the whole site's.

Until now every like or comment moved ``site_version.value``, which throws away
every kept page on every server. Now they move ``site_version.reactions``
instead, and stamp the posts they touched with it (``post.reactions_version``):
a server that sees ``reactions`` move asks which posts were stamped since it
last looked and drops only the pages that show those posts' reactions
(``plumbing/page_cache.py``). Every other write still moves ``value``.

How a write says it is a reaction: it sets ``post.reactions_version`` to -1
(the reactions service does, and the triggers on ``post_like`` and
``comment`` do for every row), and a trigger on ``post`` replaces the -1 with
the new ``reactions`` count. An update of ``post`` that leaves the column
alone is an edit, and moves ``value`` as before.

On PostgreSQL every statement on these tables still takes the version row's
lock first (a plain lock where the statement may only be a reaction), so
writers keep queueing at that row and cannot deadlock on it.

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-05
"""

from alembic import op

from flaskr.migrations.frozen.trigger_functions import LOCK_SITE_VERSION_FUNCTION
from flaskr.migrations.frozen.trigger_functions import MARK_REACTED_POST_FUNCTION
from flaskr.migrations.frozen.trigger_functions import MOVE_REACTIONS_FUNCTION
from flaskr.migrations.frozen.trigger_functions import SITE_VERSION_FUNCTION

revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None

_BUMP = "UPDATE site_version SET value = value + 1 WHERE id = 1"
_MARK = "UPDATE post SET reactions_version = -1 WHERE id = {row}.post_id"
_REACTION_TABLES = ("post_like", "comment")
_EVENTS = ("INSERT", "UPDATE", "DELETE")


def _sqlite_upgrade() -> None:
    op.execute("DROP TRIGGER post_update_moves_site_version")
    op.execute(
        "CREATE TRIGGER post_update_moves_site_version AFTER UPDATE ON post"
        " WHEN NEW.reactions_version IS OLD.reactions_version"
        f" BEGIN {_BUMP}; END"
    )
    # SQLite triggers cannot change NEW: the -1 is replaced by a second update,
    # which neither trigger matches (its old value is -1, its new one is not).
    op.execute(
        "CREATE TRIGGER post_reactions_move AFTER UPDATE OF reactions_version"
        " ON post WHEN NEW.reactions_version = -1 BEGIN"
        " UPDATE site_version SET reactions = reactions + 1 WHERE id = 1;"
        " UPDATE post SET reactions_version ="
        " (SELECT reactions FROM site_version WHERE id = 1) WHERE id = NEW.id;"
        " END"
    )
    for table in _REACTION_TABLES:
        for event in _EVENTS:
            op.execute(f"DROP TRIGGER {table}_{event.lower()}_moves_site_version")
            rows = {"INSERT": ["NEW"], "UPDATE": ["OLD", "NEW"], "DELETE": ["OLD"]}
            marks = "; ".join(_MARK.format(row=row) for row in rows[event])
            op.execute(
                f"CREATE TRIGGER {table}_{event.lower()}_marks_post AFTER {event}"
                f' ON "{table}" BEGIN {marks}; END'
            )


def _sqlite_downgrade() -> None:
    op.execute("DROP TRIGGER post_reactions_move")
    op.execute("DROP TRIGGER post_update_moves_site_version")
    op.execute(
        "CREATE TRIGGER post_update_moves_site_version AFTER UPDATE"
        f' ON "post" BEGIN {_BUMP}; END'
    )
    for table in _REACTION_TABLES:
        for event in _EVENTS:
            op.execute(f"DROP TRIGGER {table}_{event.lower()}_marks_post")
            op.execute(
                f"CREATE TRIGGER {table}_{event.lower()}_moves_site_version"
                f' AFTER {event} ON "{table}" BEGIN {_BUMP}; END'
            )


def _function(name: str, body: str) -> None:
    op.execute(
        f"CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql"
        f" AS $$ BEGIN {body} END $$"
    )


def _postgresql_upgrade() -> None:
    _function(
        LOCK_SITE_VERSION_FUNCTION,
        "PERFORM 1 FROM site_version WHERE id = 1 FOR UPDATE; RETURN NULL;",
    )
    _function(
        MOVE_REACTIONS_FUNCTION,
        "UPDATE site_version SET reactions = reactions + 1 WHERE id = 1"
        " RETURNING reactions INTO NEW.reactions_version; RETURN NEW;",
    )
    _function(
        MARK_REACTED_POST_FUNCTION,
        f"IF TG_OP <> 'INSERT' THEN {_MARK.format(row='OLD')}; END IF;"
        f" IF TG_OP <> 'DELETE' THEN {_MARK.format(row='NEW')}; END IF;"
        " RETURN NULL;",
    )
    op.execute("DROP TRIGGER post_moves_site_version ON post")
    op.execute(
        "CREATE TRIGGER post_moves_site_version BEFORE INSERT OR DELETE ON post"
        f" FOR EACH STATEMENT EXECUTE FUNCTION {SITE_VERSION_FUNCTION}()"
    )
    op.execute(
        "CREATE TRIGGER post_update_locks_site_version BEFORE UPDATE ON post"
        f" FOR EACH STATEMENT EXECUTE FUNCTION {LOCK_SITE_VERSION_FUNCTION}()"
    )
    op.execute(
        "CREATE TRIGGER post_reactions_move BEFORE UPDATE ON post FOR EACH ROW"
        " WHEN (NEW.reactions_version = -1)"
        f" EXECUTE FUNCTION {MOVE_REACTIONS_FUNCTION}()"
    )
    op.execute(
        "CREATE TRIGGER post_update_moves_site_version AFTER UPDATE ON post"
        " FOR EACH ROW"
        " WHEN (NEW.reactions_version IS NOT DISTINCT FROM OLD.reactions_version)"
        f" EXECUTE FUNCTION {SITE_VERSION_FUNCTION}()"
    )
    for table in _REACTION_TABLES:
        op.execute(f'DROP TRIGGER {table}_moves_site_version ON "{table}"')
        op.execute(
            f"CREATE TRIGGER {table}_locks_site_version BEFORE INSERT OR UPDATE"
            f' OR DELETE ON "{table}" FOR EACH STATEMENT'
            f" EXECUTE FUNCTION {LOCK_SITE_VERSION_FUNCTION}()"
        )
        op.execute(
            f"CREATE TRIGGER {table}_marks_post AFTER INSERT OR UPDATE OR DELETE"
            f' ON "{table}" FOR EACH ROW'
            f" EXECUTE FUNCTION {MARK_REACTED_POST_FUNCTION}()"
        )


def _postgresql_downgrade() -> None:
    for table in _REACTION_TABLES:
        op.execute(f'DROP TRIGGER {table}_marks_post ON "{table}"')
        op.execute(f'DROP TRIGGER {table}_locks_site_version ON "{table}"')
        op.execute(
            f"CREATE TRIGGER {table}_moves_site_version BEFORE INSERT OR UPDATE"
            f' OR DELETE ON "{table}" FOR EACH STATEMENT'
            f" EXECUTE FUNCTION {SITE_VERSION_FUNCTION}()"
        )
    for name in (
        "post_update_moves_site_version",
        "post_reactions_move",
        "post_update_locks_site_version",
        "post_moves_site_version",
    ):
        op.execute(f"DROP TRIGGER {name} ON post")
    op.execute(
        "CREATE TRIGGER post_moves_site_version BEFORE INSERT OR UPDATE OR DELETE"
        f" ON post FOR EACH STATEMENT EXECUTE FUNCTION {SITE_VERSION_FUNCTION}()"
    )
    for name in (
        MARK_REACTED_POST_FUNCTION,
        MOVE_REACTIONS_FUNCTION,
        LOCK_SITE_VERSION_FUNCTION,
    ):
        op.execute(f"DROP FUNCTION {name}()")


def upgrade() -> None:
    # Not a batch rebuild on SQLite, which would drop the tables' triggers.
    op.execute(
        "ALTER TABLE site_version ADD COLUMN reactions BIGINT NOT NULL DEFAULT 0"
    )
    op.execute(
        "ALTER TABLE post ADD COLUMN reactions_version BIGINT NOT NULL DEFAULT 0"
    )
    op.create_index("ix_post_reactions_version", "post", ["reactions_version"])
    if op.get_bind().dialect.name == "postgresql":
        _postgresql_upgrade()
    else:
        _sqlite_upgrade()


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        _postgresql_downgrade()
    else:
        _sqlite_downgrade()
    op.drop_index("ix_post_reactions_version", "post")
    op.execute("ALTER TABLE post DROP COLUMN reactions_version")
    op.execute("ALTER TABLE site_version DROP COLUMN reactions")
