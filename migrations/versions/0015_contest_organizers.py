"""contest organizers: an organizer runs only the contests they were given (issue 16)

Every organizer account that exists is given every contest that exists, so the upgrade
takes no access away; from then on a contest is given to its creator, and by its
organizers to others.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-03 13:45:00

"""
from datetime import datetime, timezone

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "contest_organizers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("contest_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("granted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("granted_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["contest_id"], ["contests.id"], name=op.f("fk_contest_organizers_contest_id_contests"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_contest_organizers_user_id_users"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["granted_by_id"], ["users.id"], name=op.f("fk_contest_organizers_granted_by_id_users"), ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_contest_organizers")),
        sa.UniqueConstraint("contest_id", "user_id", name=op.f("uq_contest_organizers_contest_id_user_id")),
    )
    op.create_index(op.f("ix_contest_organizers_contest_id"), "contest_organizers", ["contest_id"], unique=False)
    op.create_index(op.f("ix_contest_organizers_user_id"), "contest_organizers", ["user_id"], unique=False)

    # every organizer × every contest: nobody loses a contest they ran before
    users = sa.table("users", sa.column("id", sa.Integer()), sa.column("role", sa.String()))
    contests = sa.table("contests", sa.column("id", sa.Integer()))
    grants = sa.table(
        "contest_organizers",
        sa.column("contest_id", sa.Integer()),
        sa.column("user_id", sa.Integer()),
        sa.column("granted_at", sa.DateTime(timezone=True)),
    )
    now = sa.literal(datetime.now(timezone.utc), type_=sa.DateTime(timezone=True))
    op.execute(
        grants.insert().from_select(
            ["contest_id", "user_id", "granted_at"],
            sa.select(contests.c.id, users.c.id, now)
            .select_from(contests.join(users, sa.true()))
            .where(users.c.role == "organizer"),
        )
    )


def downgrade():
    op.drop_index(op.f("ix_contest_organizers_user_id"), table_name="contest_organizers")
    op.drop_index(op.f("ix_contest_organizers_contest_id"), table_name="contest_organizers")
    op.drop_table("contest_organizers")
