"""a judge's panel (the group they judge when a stage is assigned by panels); a contest's
dates (issue 14)

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-03 08:20:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("judges") as batch:
        batch.add_column(sa.Column("panel_group_id", sa.Integer(), nullable=True))
        batch.create_index("ix_judges_panel_group_id", ["panel_group_id"])
        batch.create_foreign_key(
            "fk_judges_panel_group_id_groups", "groups", ["panel_group_id"], ["id"], ondelete="SET NULL"
        )
    with op.batch_alter_table("contests") as batch:
        batch.add_column(sa.Column("starts_on", sa.Date(), nullable=True))
        batch.add_column(sa.Column("ends_on", sa.Date(), nullable=True))


def downgrade():
    with op.batch_alter_table("contests") as batch:
        batch.drop_column("ends_on")
        batch.drop_column("starts_on")
    with op.batch_alter_table("judges") as batch:
        batch.drop_constraint("fk_judges_panel_group_id_groups", type_="foreignkey")
        batch.drop_index("ix_judges_panel_group_id")
        batch.drop_column("panel_group_id")
