"""participations: who took part in which stage, per (entry, stage)

Replaces ``entries.advanced_stage_id`` (the furthest stage an entry was advanced into),
which made re-confirming an earlier stage rewrite later stages' participants (issue 11).
Each entry advanced into stage X gets a row for every stage after the first up to X,
the stages its single column said it had reached; the column then goes.

On SQLite the column is dropped by rebuilding ``entries`` (batch mode); ``env.py`` runs
migrations with foreign keys off there, so dropping the old table cascades into nothing.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02 15:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'participations',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('stage_id', sa.Integer(), nullable=False),
        sa.Column('entry_id', sa.Integer(), nullable=False),
        sa.Column(
            'source',
            sa.Enum('advanced', 'imported', name='participationsource', native_enum=False,
                    create_constraint=True, length=20),
            nullable=False,
        ),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['entry_id'], ['entries.id'], name=op.f('fk_participations_entry_id_entries'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['stage_id'], ['stages.id'], name=op.f('fk_participations_stage_id_stages'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_participations')),
        sa.UniqueConstraint('stage_id', 'entry_id', name=op.f('uq_participations_stage_id_entry_id')),
    )
    with op.batch_alter_table('participations', schema=None) as batch_op:
        batch_op.create_index('ix_participations_entry', ['entry_id'], unique=False)

    # Every stage after the first, up to the one the entry was advanced into.
    op.execute(
        "INSERT INTO participations (stage_id, entry_id, source, created_at) "
        "SELECT s.id, e.id, 'advanced', CURRENT_TIMESTAMP "
        "FROM entries e "
        "JOIN stages a ON a.id = e.advanced_stage_id "
        "JOIN stages s ON s.contest_id = e.contest_id AND s.position <= a.position "
        "WHERE s.position > (SELECT MIN(f.position) FROM stages f WHERE f.contest_id = e.contest_id)"
    )

    with op.batch_alter_table('entries', schema=None) as batch_op:
        batch_op.drop_constraint('fk_entries_advanced_stage_id_stages', type_='foreignkey')
        batch_op.drop_column('advanced_stage_id')


def downgrade():
    with op.batch_alter_table('entries', schema=None) as batch_op:
        batch_op.add_column(sa.Column('advanced_stage_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            'fk_entries_advanced_stage_id_stages', 'stages', ['advanced_stage_id'], ['id'],
            ondelete='SET NULL',
        )
    # The furthest stage each entry was advanced into.
    op.execute(
        "UPDATE entries SET advanced_stage_id = ("
        "SELECT s.id FROM participations p JOIN stages s ON s.id = p.stage_id "
        "WHERE p.entry_id = entries.id ORDER BY s.position DESC LIMIT 1)"
    )
    with op.batch_alter_table('participations', schema=None) as batch_op:
        batch_op.drop_index('ix_participations_entry')
    op.drop_table('participations')
