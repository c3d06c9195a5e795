"""personal data encrypted at rest, lookup hash of the requester's e-mail, retention tombstones

Revision ID: 0004
Revises: 0003

JSON columns that now hold encrypted text become strings; the notice recipient loses its 320-character limit
(its ciphertext is longer). The data step encrypts every existing clear value with the current first key
(dsar/crypto.py, from DSAR_ENCRYPTION_KEYS or the key file) and fills requester_email_hmac, in batches;
values already encrypted are left alone. The downgrade decrypts them back.
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

from dsar.crypto import CryptoError, header_key_id, keyring

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None

BATCH = 500
# table → (text columns, JSON columns now encrypted text, binary columns)
ENCRYPTED = {
    'inboundmessage': (('problem_message',), ('summary',), ('raw',)),
    'request': (('requester_name', 'requester_email', 'requester_phone', 'subject', 'details'), (), ()),
    'stageevent': (('reason',), (), ()),
    'notice': (('recipient', 'subject', 'html', 'text', 'last_error'), ('context',), ()),
    'note': (('body',), (), ()),
}


def upgrade() -> None:
    op.add_column('inboundmessage', sa.Column('purged_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True))
    _retype('inboundmessage', 'summary', to_json=False)
    _retype('notice', 'context', to_json=False)
    if op.get_bind().dialect.name != 'sqlite':  # SQLite does not enforce lengths
        op.alter_column('notice', 'recipient', existing_type=sqlmodel.sql.sqltypes.AutoString(length=320),
                        type_=sa.String(), existing_nullable=True)
    op.add_column('request', sa.Column('requester_email_hmac', sqlmodel.sql.sqltypes.AutoString(length=64),
                                       nullable=True))
    op.add_column('request', sa.Column('purged_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True))
    op.drop_index('ix_request_requester_email', table_name='request')
    op.create_index('ix_request_requester_email_hmac', 'request', ['requester_email_hmac'], unique=False)
    _convert(encrypt=True)


def downgrade() -> None:
    _convert(encrypt=False)
    op.drop_index('ix_request_requester_email_hmac', table_name='request')
    op.create_index('ix_request_requester_email', 'request', ['requester_email'], unique=False)
    op.drop_column('request', 'purged_at')
    op.drop_column('request', 'requester_email_hmac')
    if op.get_bind().dialect.name != 'sqlite':
        op.alter_column('notice', 'recipient', existing_type=sa.String(),
                        type_=sqlmodel.sql.sqltypes.AutoString(length=320), existing_nullable=True)
    _retype('notice', 'context', to_json=True)
    _retype('inboundmessage', 'summary', to_json=True)
    op.drop_column('inboundmessage', 'purged_at')


def _retype(table, column, *, to_json):
    """JSON ↔ string. SQLite cannot change a column's type in place, and rebuilding the table (batch mode) would
    drop it under the rows of other tables that point at it: there a new column takes the values and the name."""
    new_type = sa.JSON() if to_json else sa.String()
    if op.get_bind().dialect.name != 'sqlite':
        op.alter_column(table, column, existing_type=sa.String() if to_json else sa.JSON(), type_=new_type,
                        existing_nullable=False, postgresql_using=f"{column}::{'json' if to_json else 'text'}")
        return
    op.add_column(table, sa.Column(f'{column}_new', new_type, nullable=False, server_default='{}'))
    op.execute(f'UPDATE {table} SET {column}_new = {column}')
    op.drop_column(table, column)
    op.alter_column(table, f'{column}_new', new_column_name=column)


def _convert(*, encrypt: bool) -> None:
    """Encrypt (or decrypt) every value of the ENCRYPTED columns, a batch of rows at a time."""
    bind, ring = op.get_bind(), keyring()
    for name, (texts, jsons, binaries) in ENCRYPTED.items():
        names = texts + jsons + binaries
        columns = [sa.column(c, sa.LargeBinary() if c in binaries else sa.String()) for c in names]
        table = sa.table(name, sa.column('id', sa.Integer()), *columns, sa.column('requester_email_hmac'))
        last = 0
        while True:
            query = sa.select(table.c.id, *columns).where(table.c.id > last).order_by(table.c.id).limit(BATCH)
            rows = bind.execute(query).all()
            for row in rows:
                values = {c: _convert_value(ring, getattr(row, c), encrypt) for c in names}
                if name == 'request' and encrypt:
                    email = row.requester_email
                    values['requester_email_hmac'] = ring.lookup_hash(
                        ring.decrypt_text(email) if _is_encrypted(email) else email) if email else None
                bind.execute(sa.update(table).where(table.c.id == row.id).values(**values))
            if len(rows) < BATCH:
                break
            last = rows[-1].id


def _is_encrypted(value):
    try:
        header_key_id(value)
    except CryptoError:
        return False
    return True


def _convert_value(ring, value, encrypt):
    if isinstance(value, memoryview):
        value = bytes(value)
    if value is None or _is_encrypted(value) is encrypt:
        return value
    if isinstance(value, bytes):
        return ring.encrypt_bytes(value) if encrypt else ring.decrypt_bytes(value)
    return ring.encrypt_text(value) if encrypt else ring.decrypt_text(value)
