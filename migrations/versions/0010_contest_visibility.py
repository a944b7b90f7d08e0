"""contest visibility and status: a draft contest is never public; the status follows the
stages unless the organizer set it by hand (issue 14)

Existing contests stay public (they were); contests made from now on in the organizer's
pages start as drafts.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02 22:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('contests') as batch:
        batch.add_column(sa.Column('is_public', sa.Boolean(), server_default=sa.true(), nullable=False))
        batch.add_column(sa.Column('status_by_hand', sa.Boolean(), server_default=sa.false(), nullable=False))


def downgrade():
    with op.batch_alter_table('contests') as batch:
        batch.drop_column('status_by_hand')
        batch.drop_column('is_public')
