"""Posts per month, kept by the database, for the archive.

``archive_month`` holds, for each month (``year * 100 + month``, in UTC), how
many posts came out in it that are published or scheduled and not in the
trash, kept by row triggers on ``post`` as ``post_count`` is (0021). The
archive shows each month's count without counting the month's posts: readers
subtract the few scheduled posts still to come (an index range).

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

from flaskr.migrations.frozen.trigger_functions import COUNT_MONTHS_FUNCTION

revision = "0024"
down_revision = "0023"
branch_labels = None
depends_on = None

#: Whether a row of ``post`` named ``row`` (``NEW``/``OLD``) counts.
_COUNTED = "({row}.published IS NOT NULL AND {row}.deleted IS NULL)"

#: The month of a time in ``published``, as ``year * 100 + month``.
_SQLITE_MONTH = "CAST(strftime('%Y%m', {time}) AS INTEGER)"
_POSTGRESQL_MONTH = "CAST(to_char({time} AT TIME ZONE 'UTC', 'YYYYMM') AS INTEGER)"


def _counted(row: str) -> str:
    return _COUNTED.format(row=row)


def _sqlite_triggers() -> None:
    def month(row: str) -> str:
        return _SQLITE_MONTH.format(time=f"{row}.published")

    def add(row: str) -> str:
        # SQLite reads ON CONFLICT after a SELECT only with a WHERE clause.
        return (
            f"INSERT INTO archive_month (month, post_count) SELECT {month(row)}, 1"
            f" WHERE {_counted(row)}"
            " ON CONFLICT (month) DO UPDATE SET post_count = post_count + 1"
        )

    def take(row: str) -> str:
        return (
            "UPDATE archive_month SET post_count = post_count - 1"
            f" WHERE month = {month(row)} AND {_counted(row)}"
        )

    def trigger(name: str, when: str, body: list[str]) -> None:
        op.execute(f"CREATE TRIGGER {name} {when} BEGIN {'; '.join(body)}; END")

    trigger("post_insert_months", "AFTER INSERT ON post", [add("NEW")])
    trigger(
        "post_update_months",
        "AFTER UPDATE OF published, deleted ON post"
        f" WHEN {_counted('OLD')} IS NOT {_counted('NEW')}"
        " OR OLD.published IS NOT NEW.published",
        [take("OLD"), add("NEW")],
    )
    trigger("post_delete_months", "BEFORE DELETE ON post", [take("OLD")])


def _postgresql_triggers() -> None:
    def month(row: str) -> str:
        return _POSTGRESQL_MONTH.format(time=f"{row}.published")

    moved = f"{month('OLD')} IS DISTINCT FROM {month('NEW')}"
    take = (
        "UPDATE archive_month SET post_count = post_count - 1"
        f" WHERE month = {month('OLD')}"
    )
    add = (
        f"INSERT INTO archive_month (month, post_count) VALUES ({month('NEW')}, 1)"
        " ON CONFLICT (month) DO UPDATE"
        " SET post_count = archive_month.post_count + 1"
    )
    op.execute(
        f"CREATE FUNCTION {COUNT_MONTHS_FUNCTION}() RETURNS trigger"
        " LANGUAGE plpgsql AS $$ BEGIN"
        f" IF TG_OP <> 'INSERT' AND {_counted('OLD')} AND (TG_OP = 'DELETE'"
        f" OR NOT {_counted('NEW')} OR {moved}) THEN {take}; END IF;"
        f" IF TG_OP <> 'DELETE' AND {_counted('NEW')} AND (TG_OP = 'INSERT'"
        f" OR NOT {_counted('OLD')} OR {moved}) THEN {add}; END IF;"
        " IF TG_OP = 'DELETE' THEN RETURN OLD; END IF; RETURN NEW; END $$"
    )
    op.execute(
        "CREATE TRIGGER post_months AFTER INSERT OR UPDATE OF published, deleted"
        f" ON post FOR EACH ROW EXECUTE FUNCTION {COUNT_MONTHS_FUNCTION}()"
    )
    op.execute(
        "CREATE TRIGGER post_delete_months BEFORE DELETE ON post"
        f" FOR EACH ROW EXECUTE FUNCTION {COUNT_MONTHS_FUNCTION}()"
    )


def upgrade() -> None:
    op.create_table(
        "archive_month",
        sa.Column("month", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("post_count", sa.Integer(), server_default="0", nullable=False),
        sa.PrimaryKeyConstraint("month", name="pk_archive_month"),
    )
    postgresql = op.get_bind().dialect.name == "postgresql"
    month = (_POSTGRESQL_MONTH if postgresql else _SQLITE_MONTH).format(
        time="published"
    )
    op.execute(
        f"INSERT INTO archive_month (month, post_count) SELECT {month}, count(*)"
        " FROM post WHERE published IS NOT NULL AND deleted IS NULL"
        f" GROUP BY {month}"
    )
    if postgresql:
        _postgresql_triggers()
    else:
        _sqlite_triggers()


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER post_months ON post")
        op.execute("DROP TRIGGER post_delete_months ON post")
        op.execute(f"DROP FUNCTION {COUNT_MONTHS_FUNCTION}()")
    else:
        for name in ("post_insert_months", "post_update_months", "post_delete_months"):
            op.execute(f"DROP TRIGGER {name}")
    op.drop_table("archive_month")
