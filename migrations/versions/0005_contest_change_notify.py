"""contest change notifications (PostgreSQL): a trigger notifies judging_data_version

The public front door keeps contest versions per process and forgets them when notified
(issue 6). SQLite has no notifications: there the front door reads the version per
request, and this migration does nothing.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-25 23:20:00

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None

FUNCTION = """
CREATE OR REPLACE FUNCTION judging_notify_data_version() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('judging_data_version', CAST(COALESCE(NEW.id, OLD.id) AS text));
    RETURN NULL;
END
$$
"""
TRIGGERS = (
    "CREATE TRIGGER contests_notify_change AFTER UPDATE OR DELETE ON contests "
    "FOR EACH ROW EXECUTE FUNCTION judging_notify_data_version()",
    "CREATE TRIGGER contests_notify_truncate AFTER TRUNCATE ON contests "
    "FOR EACH STATEMENT EXECUTE FUNCTION judging_notify_data_version()",
)


def upgrade():
    if op.get_bind().dialect.name != 'postgresql':
        return
    op.execute(FUNCTION)
    for sql in TRIGGERS:
        op.execute(sql)


def downgrade():
    if op.get_bind().dialect.name != 'postgresql':
        return
    op.execute("DROP TRIGGER IF EXISTS contests_notify_truncate ON contests")
    op.execute("DROP TRIGGER IF EXISTS contests_notify_change ON contests")
    op.execute("DROP FUNCTION IF EXISTS judging_notify_data_version()")
