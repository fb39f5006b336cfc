"""people: phone number, post and retirement; sites: retirement (issue 10, item 1)

Plain ALTER TABLE ADD COLUMN and a unique index: a batch operation would rebuild `people` on
SQLite, and dropping the old table fails while devices and accounts point at it.

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
    op.add_column('people', sa.Column('phone', sa.String(length=20), nullable=True))
    op.add_column('people', sa.Column('post', sa.String(length=50), nullable=True))
    op.add_column('people', sa.Column('retired_at', sa.DateTime(timezone=True), nullable=True))
    op.create_index('uq_people_township_phone', 'people', ['township', 'phone'], unique=True)
    op.add_column('sites', sa.Column('retired_at', sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('sites', schema=None) as batch_op:
        batch_op.drop_column('retired_at')
    op.drop_index('uq_people_township_phone', table_name='people')
    with op.batch_alter_table('people', schema=None) as batch_op:
        batch_op.drop_column('retired_at')
        batch_op.drop_column('post')
        batch_op.drop_column('phone')
