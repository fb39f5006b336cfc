"""people: phone number, post and retirement; sites: retirement (issue 10, item 1)

Revision ID: 0012
Revises: 0011
"""

import sqlalchemy as sa
from alembic import op

revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('people', schema=None) as batch_op:
        batch_op.add_column(sa.Column('phone', sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column('post', sa.String(length=50), nullable=True))
        batch_op.add_column(sa.Column('retired_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.create_unique_constraint('uq_people_township_phone', ['township', 'phone'])
    with op.batch_alter_table('sites', schema=None) as batch_op:
        batch_op.add_column(sa.Column('retired_at', sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('sites', schema=None) as batch_op:
        batch_op.drop_column('retired_at')
    with op.batch_alter_table('people', schema=None) as batch_op:
        batch_op.drop_constraint('uq_people_township_phone', type_='unique')
        batch_op.drop_column('retired_at')
        batch_op.drop_column('post')
        batch_op.drop_column('phone')
