"""entries and judges one by one, organizer accounts (issue 14, item 2): a password set by
an organizer must be changed at the next sign-in; why an entry was withdrawn or
disqualified

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-03 08:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0012'
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('users') as batch:
        batch.add_column(sa.Column('must_change_password', sa.Boolean(), server_default=sa.false(), nullable=False))
    with op.batch_alter_table('entries') as batch:
        batch.add_column(sa.Column('status_reason', sa.Text(), server_default='', nullable=False))


def downgrade():
    with op.batch_alter_table('entries') as batch:
        batch.drop_column('status_reason')
    with op.batch_alter_table('users') as batch:
        batch.drop_column('must_change_password')
