"""running order of a roadshow stage: each entry's place within its group, set by hand or
drawn by lot with a recorded seed (issue 14, item 4)

A stage without rows runs in code order, as before, so existing contests are unchanged.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-03 07:16:05

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('running_positions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('stage_id', sa.Integer(), nullable=False),
    sa.Column('group_id', sa.Integer(), nullable=False),
    sa.Column('entry_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('seed', sa.String(length=64), nullable=True),
    sa.CheckConstraint('position >= 1', name=op.f('ck_running_positions_position_positive')),
    sa.ForeignKeyConstraint(['entry_id'], ['entries.id'], name=op.f('fk_running_positions_entry_id_entries'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['group_id'], ['groups.id'], name=op.f('fk_running_positions_group_id_groups'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['stage_id'], ['stages.id'], name=op.f('fk_running_positions_stage_id_stages'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_running_positions')),
    sa.UniqueConstraint('stage_id', 'entry_id', name=op.f('uq_running_positions_stage_id_entry_id')),
    sa.UniqueConstraint('stage_id', 'group_id', 'position', name=op.f('uq_running_positions_stage_id_group_id_position'))
    )


def downgrade():
    op.drop_table('running_positions')
