"""devices.label (a name staff give a phone) and conflicts.base (the value its candidates
started from), for conflict cards that can be judged

Revision ID: 0014
Revises: 0011
"""

import sqlalchemy as sa
from alembic import op

revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('devices', schema=None) as batch_op:
        batch_op.add_column(sa.Column('label', sa.String(length=40), nullable=True))
    with op.batch_alter_table('conflicts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('base', sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('conflicts', schema=None) as batch_op:
        batch_op.drop_column('base')
    with op.batch_alter_table('devices', schema=None) as batch_op:
        batch_op.drop_column('label')
