"""API tokens made by hand on the account page, named by their owners.

Until now a token came only from an API login and was named by the client's
``User-Agent``. A writer's script needs a token without a login flow: the
account page makes one and asks what it is for. ``name`` is empty for the
tokens of API logins, so they keep their idle timeout, and a named token is
told apart from them (``services/sessions.py``).

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-06
"""

from alembic import op

revision = "0023"
down_revision = "0022"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Not a batch rebuild on SQLite, which would drop the tables' triggers.
    op.execute("ALTER TABLE api_token ADD COLUMN name VARCHAR(60) NOT NULL DEFAULT ''")


def downgrade() -> None:
    op.execute("ALTER TABLE api_token DROP COLUMN name")
