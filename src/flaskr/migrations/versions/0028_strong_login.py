"""Strong login: passkeys, an authenticator app and recovery codes.

``passkey``, ``authenticator_app`` and ``recovery_code`` hold an account's
factors; ``user.webauthn_handle`` is the random handle its passkeys carry;
``auth_session.method`` says how a session logged in; the site's settings
can require a second factor of administrators and editors.

Revision ID: 0028
Revises: 0027
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

from flaskr.migrations.frozen.column_types import BigId
from flaskr.migrations.frozen.column_types import UTCDateTime

revision = "0028"
down_revision = "0027"
branch_labels = None
depends_on = None


def _owner(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["user_id"], ["user.id"], name=f"fk_{table}_user_id_user", ondelete="CASCADE"
    )


def upgrade() -> None:
    op.create_table(
        "passkey",
        sa.Column("id", BigId, nullable=False),
        sa.Column("user_id", BigId, nullable=False),
        sa.Column("credential_id", sa.LargeBinary(1023), nullable=False),
        sa.Column("public_key", sa.LargeBinary(), nullable=False),
        sa.Column("sign_count", sa.BigInteger(), nullable=False),
        sa.Column("transports", sa.String(200), nullable=False),
        sa.Column("backed_up", sa.Boolean(), nullable=False),
        sa.Column("name", sa.String(60), nullable=False),
        sa.Column("created", UTCDateTime, nullable=False),
        sa.Column("last_used", UTCDateTime, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_passkey"),
        sa.UniqueConstraint("credential_id", name="uq_passkey_credential_id"),
        _owner("passkey"),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_passkey_user_id", "passkey", ["user_id"])
    op.create_table(
        "authenticator_app",
        sa.Column("user_id", BigId, nullable=False),
        sa.Column("secret", sa.String(400), nullable=False),
        sa.Column("created", UTCDateTime, nullable=False),
        sa.Column("confirmed", UTCDateTime, nullable=True),
        sa.Column("last_step", sa.BigInteger(), nullable=True),
        sa.Column("last_used", UTCDateTime, nullable=True),
        sa.PrimaryKeyConstraint("user_id", name="pk_authenticator_app"),
        _owner("authenticator_app"),
    )
    op.create_table(
        "recovery_code",
        sa.Column("id", BigId, nullable=False),
        sa.Column("user_id", BigId, nullable=False),
        sa.Column("code_hash", sa.String(64), nullable=False),
        sa.Column("created", UTCDateTime, nullable=False),
        sa.Column("used", UTCDateTime, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_recovery_code"),
        sa.UniqueConstraint("code_hash", name="uq_recovery_code_code_hash"),
        _owner("recovery_code"),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_recovery_code_user_id", "recovery_code", ["user_id"])
    op.add_column("user", sa.Column("webauthn_handle", sa.LargeBinary(64)))
    op.create_index("uq_user_webauthn_handle", "user", ["webauthn_handle"], unique=True)
    op.add_column(
        "auth_session",
        sa.Column("method", sa.String(40), nullable=False, server_default=""),
    )
    op.add_column(
        "site_settings",
        sa.Column(
            "second_factor_required",
            sa.Boolean(),
            nullable=False,
            server_default=sa.false(),
        ),
    )


def downgrade() -> None:
    op.drop_column("site_settings", "second_factor_required")
    op.drop_column("auth_session", "method")
    op.drop_index("uq_user_webauthn_handle", "user")
    op.drop_column("user", "webauthn_handle")
    op.drop_table("recovery_code")
    op.drop_table("authenticator_app")
    op.drop_table("passkey")
