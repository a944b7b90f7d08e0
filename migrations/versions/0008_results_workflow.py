"""results workflow: confirmations with overrides, publications, reopened sheets, reviewed conflicts

- ``result_snapshots``: what was confirmed (``kind``), the override reason and details.
- ``publications``: each publication of a stage's results, the snapshot the public sees,
  and its withdrawal; a republication keeps the corrections (issue 11).
- ``score_sheets.reopened_at``: a reopened sheet can be finished while its stage is closed.
- ``conflicts``: when and by whom a judge's declaration was reviewed, and a note.

Existing snapshots are marked ``awards`` when awards refer to them, else ``advancement``;
each published stage gets a publication of its latest snapshot (none if it has none).

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02 17:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade():
    op.add_column('result_snapshots', sa.Column('kind', sa.String(length=20), server_default='standings', nullable=False))
    op.add_column('result_snapshots', sa.Column('override_reason', sa.Text(), server_default='', nullable=False))
    op.add_column('result_snapshots', sa.Column('details', sa.JSON(), nullable=True))
    op.execute(
        "UPDATE result_snapshots SET kind = CASE WHEN EXISTS "
        "(SELECT 1 FROM awards a WHERE a.snapshot_id = result_snapshots.id) "
        "THEN 'awards' ELSE 'advancement' END"
    )

    op.create_table(
        'publications',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('stage_id', sa.Integer(), nullable=False),
        sa.Column('snapshot_id', sa.Integer(), nullable=True),
        sa.Column('published_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('published_by_id', sa.Integer(), nullable=True),
        sa.Column('withdrawn_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('withdrawn_by_id', sa.Integer(), nullable=True),
        sa.Column('withdraw_reason', sa.Text(), server_default='', nullable=False),
        sa.Column('correction', sa.JSON(), nullable=True),
        sa.ForeignKeyConstraint(['published_by_id'], ['users.id'], name=op.f('fk_publications_published_by_id_users'), ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['snapshot_id'], ['result_snapshots.id'], name=op.f('fk_publications_snapshot_id_result_snapshots'), ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['stage_id'], ['stages.id'], name=op.f('fk_publications_stage_id_stages'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['withdrawn_by_id'], ['users.id'], name=op.f('fk_publications_withdrawn_by_id_users'), ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_publications')),
    )
    with op.batch_alter_table('publications', schema=None) as batch_op:
        batch_op.create_index('ix_publications_stage', ['stage_id', 'id'], unique=False)
    op.execute(
        "INSERT INTO publications (stage_id, snapshot_id, published_at, withdraw_reason) "
        "SELECT s.id, (SELECT MAX(r.id) FROM result_snapshots r WHERE r.stage_id = s.id), "
        "CURRENT_TIMESTAMP, '' FROM stages s WHERE s.state = 'published'"
    )

    # Plain ADD COLUMN: a batch rebuild of score_sheets would copy every sheet.
    op.add_column('score_sheets', sa.Column('reopened_at', sa.DateTime(timezone=True), nullable=True))

    with op.batch_alter_table('conflicts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('reviewed_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('reviewed_by_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('note', sa.Text(), server_default='', nullable=False))
        batch_op.create_foreign_key(
            batch_op.f('fk_conflicts_reviewed_by_id_users'), 'users', ['reviewed_by_id'], ['id'],
            ondelete='SET NULL',
        )


def downgrade():
    with op.batch_alter_table('conflicts', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_conflicts_reviewed_by_id_users'), type_='foreignkey')
        batch_op.drop_column('note')
        batch_op.drop_column('reviewed_by_id')
        batch_op.drop_column('reviewed_at')
    op.drop_column('score_sheets', 'reopened_at')
    with op.batch_alter_table('publications', schema=None) as batch_op:
        batch_op.drop_index('ix_publications_stage')
    op.drop_table('publications')
    op.drop_column('result_snapshots', 'details')
    op.drop_column('result_snapshots', 'override_reason')
    op.drop_column('result_snapshots', 'kind')
