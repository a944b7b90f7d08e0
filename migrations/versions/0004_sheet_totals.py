"""sheet totals: each score sheet stores its total (hundredths of a point) and point count

Standings read these two columns instead of every criterion row (issue 4). Existing
sheets are filled from their score rows.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25 22:30:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade():
    # Plain ALTER TABLE ADD COLUMN, no batch table rebuild: on SQLite a rebuild drops the
    # table, and with foreign keys on that would cascade into every score row.
    op.add_column('score_sheets', sa.Column('total_hundredths', sa.Integer(), server_default='0', nullable=False))
    op.add_column('score_sheets', sa.Column('points_count', sa.SmallInteger(), server_default='0', nullable=False))
    if op.get_bind().dialect.name != 'sqlite':  # SQLite cannot add a CHECK in place
        op.create_check_constraint(
            op.f('ck_score_sheets_totals_not_negative'),
            'score_sheets',
            'total_hundredths >= 0 AND points_count >= 0',
        )
    op.execute(
        "UPDATE score_sheets SET "
        "total_hundredths = COALESCE((SELECT CAST(ROUND(SUM(points) * 100) AS INTEGER) "
        "FROM scores WHERE scores.sheet_id = score_sheets.id), 0), "
        "points_count = (SELECT COUNT(*) FROM scores WHERE scores.sheet_id = score_sheets.id)"
    )


def downgrade():
    if op.get_bind().dialect.name != 'sqlite':
        op.drop_constraint(op.f('ck_score_sheets_totals_not_negative'), 'score_sheets', type_='check')
    op.drop_column('score_sheets', 'points_count')
    op.drop_column('score_sheets', 'total_hundredths')
