"""urgent reports by SMS: a key per device, and every inbound message recorded

Revision ID: 0009
Revises: 0005
"""

import secrets

import sqlalchemy as sa
from alembic import op

revision = '0009'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('devices', sa.Column('sms_key', sa.String(length=64), nullable=True))
    # Phones enrolled before this revision get a key too; they fetch it with their token
    # (GET /api/config).
    devices = sa.table('devices', sa.column('id', sa.String), sa.column('sms_key', sa.String))
    connection = op.get_bind()
    for (device_id,) in connection.execute(sa.select(devices.c.id)).all():
        connection.execute(devices.update().where(devices.c.id == device_id)
                           .values(sms_key=secrets.token_urlsafe(32)))
    op.create_table('sms_messages',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('sender', sa.String(length=40), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('device_id', sa.String(length=32), nullable=True),
    sa.Column('change_id', sa.String(length=64), nullable=True),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('reason', sa.String(length=300), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_sms_messages_change_id', 'sms_messages', ['change_id'])


def downgrade() -> None:
    op.drop_index('ix_sms_messages_change_id', table_name='sms_messages')
    op.drop_table('sms_messages')
    op.drop_column('devices', 'sms_key')
