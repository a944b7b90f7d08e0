"""stage versions: a data version per (stage, group), so a sheet invalidates only its own

A submitted or reopened sheet, a removed sheet and the live final's state grow the version
of one group's results in one stage; ``contests.data_version`` keeps the changes of the
contest itself (issue 13). On PostgreSQL a trigger notifies the front door's channel on
every change, as the contests trigger does (0005).

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02 18:30:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None

FUNCTION = """
CREATE OR REPLACE FUNCTION judging_notify_stage_version() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('judging_data_version', CAST(COALESCE(NEW.contest_id, OLD.contest_id) AS text));
    RETURN NULL;
END
$$
"""
TRIGGERS = (
    "CREATE TRIGGER stage_versions_notify_change AFTER INSERT OR UPDATE OR DELETE "
    "ON stage_versions FOR EACH ROW EXECUTE FUNCTION judging_notify_stage_version()",
    "CREATE TRIGGER stage_versions_notify_truncate AFTER TRUNCATE ON stage_versions "
    "FOR EACH STATEMENT EXECUTE FUNCTION judging_notify_stage_version()",
)


def upgrade():
    op.create_table(
        'stage_versions',
        sa.Column('stage_id', sa.Integer(), nullable=False),
        sa.Column('group_id', sa.Integer(), nullable=False),
        sa.Column('contest_id', sa.Integer(), nullable=False),
        sa.Column('version', sa.Integer(), server_default='1', nullable=False),
        sa.ForeignKeyConstraint(['contest_id'], ['contests.id'], name=op.f('fk_stage_versions_contest_id_contests'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['group_id'], ['groups.id'], name=op.f('fk_stage_versions_group_id_groups'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['stage_id'], ['stages.id'], name=op.f('fk_stage_versions_stage_id_stages'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('stage_id', 'group_id', name=op.f('pk_stage_versions')),
    )
    op.create_index(op.f('ix_stage_versions_contest_id'), 'stage_versions', ['contest_id'], unique=False)
    if op.get_bind().dialect.name == 'postgresql':
        op.execute(FUNCTION)
        for sql in TRIGGERS:
            op.execute(sql)


def downgrade():
    if op.get_bind().dialect.name == 'postgresql':
        op.execute("DROP TRIGGER IF EXISTS stage_versions_notify_truncate ON stage_versions")
        op.execute("DROP TRIGGER IF EXISTS stage_versions_notify_change ON stage_versions")
        op.execute("DROP FUNCTION IF EXISTS judging_notify_stage_version()")
    op.drop_index(op.f('ix_stage_versions_contest_id'), table_name='stage_versions')
    op.drop_table('stage_versions')
