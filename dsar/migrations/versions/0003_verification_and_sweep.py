"""identity checks (verification, codes, staff checks); partial index for the deadline sweep

Revision ID: 0003
Revises: 0002 (the brief said 0001; 0002 is already in the tree and two heads would stop every upgrade)
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('verification',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('request_id', sa.Integer(), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('requirement', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('methods', sa.JSON(), nullable=False),
    sa.Column('started_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('remind_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('close_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('reminded_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('completed_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['request_id'], ['request.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('request_id')
    )
    with op.batch_alter_table('verification', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_verification_status'), ['status'], unique=False)
        batch_op.create_index(batch_op.f('ix_verification_remind_at'), ['remind_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_verification_close_at'), ['close_at'], unique=False)

    op.create_table('verificationchallenge',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('request_id', sa.Integer(), nullable=False),
    sa.Column('method', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('salt', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('code_hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('max_attempts', sa.Integer(), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('expires_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('used_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('notice_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['notice_id'], ['notice.id'], ),
    sa.ForeignKeyConstraint(['request_id'], ['request.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('verificationchallenge', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_verificationchallenge_request_id'), ['request_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_verificationchallenge_status'), ['status'], unique=False)
        batch_op.create_index(batch_op.f('ix_verificationchallenge_expires_at'), ['expires_at'], unique=False)

    op.create_table('verificationcheck',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('request_id', sa.Integer(), nullable=False),
    sa.Column('method', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('item', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('actor', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('details', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['request_id'], ['request.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('request_id', 'method', 'item')
    )
    with op.batch_alter_table('verificationcheck', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_verificationcheck_request_id'), ['request_id'], unique=False)

    # The deadline sweep: open cases by due date, and nothing else (closed cases never enter the index).
    op.create_index('ix_request_open_due', 'request', ['due_date'], unique=False,
                    postgresql_where=sa.text('NOT closed'), sqlite_where=sa.text('closed = 0'))


def downgrade() -> None:
    op.drop_index('ix_request_open_due', table_name='request')
    with op.batch_alter_table('verificationcheck', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_verificationcheck_request_id'))
    op.drop_table('verificationcheck')
    with op.batch_alter_table('verificationchallenge', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_verificationchallenge_expires_at'))
        batch_op.drop_index(batch_op.f('ix_verificationchallenge_status'))
        batch_op.drop_index(batch_op.f('ix_verificationchallenge_request_id'))
    op.drop_table('verificationchallenge')
    with op.batch_alter_table('verification', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_verification_close_at'))
        batch_op.drop_index(batch_op.f('ix_verification_remind_at'))
        batch_op.drop_index(batch_op.f('ix_verification_status'))
    op.drop_table('verification')
