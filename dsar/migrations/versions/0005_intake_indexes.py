"""intake under load: waiting messages and a requester's recent cases indexed, redundant prefixes dropped,
ciphertext stored without compression

Revision ID: 0005
Revises: 0004

- `ix_inboundmessage_waiting`: the messages still waiting (status 'stored'), by id. The worker tops its batch up
  with the oldest of them; through the index on status it read every row version ever stored (13,600 for
  10,000 messages), 4.6 ms a batch and growing.
- `ix_request_requester_received` replaces the index on the requester's lookup hash alone: the duplicate check
  asks for a requester's cases since a date, and the planner combined the hash index with the one on
  received_at, reading every recent case.
- Dropped because a composite index starts with the same column: request.org_id (ix_request_queue),
  request.closed (ix_request_all_queue), auditevent.chain (the unique (chain, seq)). Every insert paid for them.
- PostgreSQL: the encrypted columns are stored EXTERNAL (out of line, never compressed). Ciphertext does not
  compress: pglz tried on every large value (a notice's letter, a raw message) and kept it as it was, which made
  inserting a notice three times as slow (175 against 51 microseconds a row). Rows already stored stay as they
  are; the setting applies to values written from now on.
"""

import sqlalchemy as sa
from alembic import op

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None

# the columns holding ciphertext (dsar/crypto.py): the personal-data columns of migration 0004, and the raw message
CIPHERTEXT = {
    'inboundmessage': ('raw', 'problem_message', 'summary'),
    'request': ('requester_name', 'requester_email', 'requester_phone', 'subject', 'details'),
    'stageevent': ('reason',),
    'notice': ('recipient', 'subject', 'html', 'text', 'last_error', 'context'),
    'note': ('body',),
}


def upgrade() -> None:
    op.create_index('ix_inboundmessage_waiting', 'inboundmessage', ['id'], unique=False,
                    postgresql_where=sa.text("status = 'stored'"), sqlite_where=sa.text("status = 'stored'"))
    op.create_index('ix_request_requester_received', 'request', ['requester_email_hmac', 'received_at'],
                    unique=False)
    op.drop_index('ix_request_requester_email_hmac', table_name='request')
    op.drop_index('ix_request_org_id', table_name='request')
    op.drop_index('ix_request_closed', table_name='request')
    op.drop_index('ix_auditevent_chain', table_name='auditevent')
    _storage('EXTERNAL')


def downgrade() -> None:
    _storage('EXTENDED')
    op.create_index('ix_auditevent_chain', 'auditevent', ['chain'], unique=False)
    op.create_index('ix_request_closed', 'request', ['closed'], unique=False)
    op.create_index('ix_request_org_id', 'request', ['org_id'], unique=False)
    op.create_index('ix_request_requester_email_hmac', 'request', ['requester_email_hmac'], unique=False)
    op.drop_index('ix_request_requester_received', table_name='request')
    op.drop_index('ix_inboundmessage_waiting', table_name='inboundmessage')


def _storage(mode: str) -> None:
    if op.get_bind().dialect.name != 'postgresql':  # SQLite has no such setting
        return
    for table, columns in CIPHERTEXT.items():
        op.execute(f'ALTER TABLE {table} ' + ', '.join(f'ALTER COLUMN {c} SET STORAGE {mode}' for c in columns))
