"""audit chain: each audit event stores its hash and the previous event's, one chain per contest

`flask verify-audit` walks a contest's chain (issue 11). The head table records each
chain's last event and length, so a deleted last event shows too, and is the lock that
keeps concurrent writers from forking a chain. Existing events are chained here in id
order per contest (events of no contest in a chain of their own, key 0), so verification
passes right after the upgrade.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-27 10:00:00

"""
import hashlib
import json
from datetime import UTC

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None

GENESIS = '0' * 64
HASHED = (
    'created_at', 'user_id', 'ip', 'action', 'contest_id', 'entry_id',
    'object_type', 'object_id', 'old', 'new', 'reason',
)
BATCH = 5000

# The table as this revision knows it, with the types that read values back as the app
# does (JSON decoded, timestamps as datetimes).
events = sa.table(
    'audit_events',
    sa.column('id', sa.Integer()),
    sa.column('created_at', sa.DateTime(timezone=True)),
    sa.column('user_id', sa.Integer()),
    sa.column('ip', sa.String()),
    sa.column('action', sa.String()),
    sa.column('contest_id', sa.Integer()),
    sa.column('entry_id', sa.Integer()),
    sa.column('object_type', sa.String()),
    sa.column('object_id', sa.Integer()),
    sa.column('old', sa.JSON()),
    sa.column('new', sa.JSON()),
    sa.column('reason', sa.Text()),
    sa.column('prev_hash', sa.String()),
    sa.column('hash', sa.String()),
)
heads = sa.table(
    'audit_heads',
    sa.column('chain_key', sa.Integer()),
    sa.column('last_id', sa.Integer()),
    sa.column('last_hash', sa.String()),
    sa.column('event_count', sa.Integer()),
)


def _hash(row, prev_hash):
    """judging.common.audit.event_hash as of this revision (a migration never imports the
    app, which may change later; tests/test_migrations.py checks the two agree)."""
    content = {name: row[name] for name in HASHED}
    moment = row['created_at']
    if moment.tzinfo is None:  # SQLite keeps no zone: the app stores UTC
        moment = moment.replace(tzinfo=UTC)
    content['created_at'] = moment.astimezone(UTC).isoformat(timespec='microseconds')
    content['prev_hash'] = prev_hash
    text = json.dumps(content, sort_keys=True, separators=(',', ':'), ensure_ascii=False)
    return hashlib.sha256(text.encode('utf-8', 'surrogatepass')).hexdigest()


def _chain_existing_events(conn):
    chains = {}  # chain key -> [last id, last hash, count]
    after = 0
    while True:
        rows = conn.execute(
            sa.select(*(events.c[name] for name in ('id', *HASHED)))
            .where(events.c.id > after)
            .order_by(events.c.id)
            .limit(BATCH)
        ).mappings().all()
        if not rows:
            break
        updates = []
        for row in rows:
            key = row['contest_id'] if row['contest_id'] is not None else 0
            chain = chains.setdefault(key, [None, GENESIS, 0])
            digest = _hash(row, chain[1])
            updates.append({'event_id': row['id'], 'link': chain[1], 'digest': digest})
            chain[:] = [row['id'], digest, chain[2] + 1]
        conn.execute(
            events.update()
            .where(events.c.id == sa.bindparam('event_id'))
            .values(prev_hash=sa.bindparam('link'), hash=sa.bindparam('digest')),
            updates,
        )
        after = rows[-1]['id']
    if chains:
        conn.execute(
            heads.insert(),
            [
                {'chain_key': key, 'last_id': last_id, 'last_hash': last_hash, 'event_count': n}
                for key, (last_id, last_hash, n) in chains.items()
            ],
        )


def upgrade():
    op.create_table('audit_heads',
    sa.Column('chain_key', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('last_id', sa.Integer(), nullable=True),
    sa.Column('last_hash', sa.String(length=64), nullable=False),
    sa.Column('event_count', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('chain_key', name=op.f('pk_audit_heads'))
    )
    op.add_column('audit_events', sa.Column('prev_hash', sa.String(length=64), nullable=True))
    op.add_column('audit_events', sa.Column('hash', sa.String(length=64), nullable=True))
    _chain_existing_events(op.get_bind())
    # NOT NULL once filled. On SQLite this rebuilds the table, which is safe here: no other
    # table refers to audit_events, so dropping the old copy cascades nowhere.
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.alter_column('prev_hash', existing_type=sa.String(length=64), nullable=False)
        batch_op.alter_column('hash', existing_type=sa.String(length=64), nullable=False)
        batch_op.drop_index(batch_op.f('ix_audit_events_contest_id'))
        batch_op.create_index('ix_audit_events_contest_id_id', ['contest_id', 'id'], unique=False)


def downgrade():
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.drop_index('ix_audit_events_contest_id_id')
        batch_op.create_index(batch_op.f('ix_audit_events_contest_id'), ['contest_id'], unique=False)
        batch_op.drop_column('hash')
        batch_op.drop_column('prev_hash')
    op.drop_table('audit_heads')
