"""a shift's kind (day, night, on call) as a column, so the subsidy sheet sums hours by kind
without reading the fields

Revision ID: 0018
Revises: 0017
"""

import sqlalchemy as sa
from alembic import op

revision = '0018'
down_revision = '0017'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('entries', schema=None) as batch_op:
        batch_op.add_column(sa.Column('shift_kind', sa.String(length=20), nullable=True))
    # Filled from the fields as `models.derived_columns` fills it (only shifts have a kind field).
    entries = sa.table('entries', sa.column('kind', sa.String), sa.column('fields', sa.JSON),
                       sa.column('shift_kind', sa.String))
    op.get_bind().execute(entries.update().where(entries.c.kind == 'shift').values(
        shift_kind=entries.c.fields['kind'].as_string()))


def downgrade() -> None:
    with op.batch_alter_table('entries', schema=None) as batch_op:
        batch_op.drop_column('shift_kind')
