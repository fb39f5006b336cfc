"""staff_accounts.last_look_at: when each staff member last opened the overview, so that it
can show what arrived late since (server/services/today.py)

Revision ID: 0013
Revises: 0011
"""

import sqlalchemy as sa
from alembic import op

revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('staff_accounts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('last_look_at', sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('staff_accounts', schema=None) as batch_op:
        batch_op.drop_column('last_look_at')
