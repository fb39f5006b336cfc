"""pulls that use the index: a transfer's to_site as a column, and seq paired with each scope

Revision ID: 0010
Revises: 0009
"""

import sqlalchemy as sa
from alembic import op

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('entries', schema=None) as batch_op:
        batch_op.add_column(sa.Column('to_site', sa.String(length=64), nullable=True))
    entries = sa.table('entries', sa.column('fields', sa.JSON), sa.column('to_site', sa.String))
    to_site = entries.c.fields['to_site'].as_string()
    op.get_bind().execute(entries.update().where(to_site.is_not(None)).values(to_site=to_site))
    with op.batch_alter_table('entries', schema=None) as batch_op:
        batch_op.drop_index('ix_entries_subject_id')
        batch_op.drop_index('ix_entries_kind_site')
        batch_op.create_index('ix_entries_subject_seq', ['subject_id', 'seq'])
        batch_op.create_index('ix_entries_kind_site_seq', ['kind', 'site_id', 'seq'])
        batch_op.create_index('ix_entries_to_site_seq', ['to_site', 'seq'])


def downgrade() -> None:
    with op.batch_alter_table('entries', schema=None) as batch_op:
        batch_op.drop_index('ix_entries_to_site_seq')
        batch_op.drop_index('ix_entries_kind_site_seq')
        batch_op.drop_index('ix_entries_subject_seq')
        batch_op.create_index('ix_entries_kind_site', ['kind', 'site_id'])
        batch_op.create_index('ix_entries_subject_id', ['subject_id'])
        batch_op.drop_column('to_site')
