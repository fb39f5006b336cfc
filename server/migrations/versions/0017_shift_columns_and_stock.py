"""a shift's start, end and approval as columns, indexed for the pages; stock kept per site and item;
indexes for a kind's entries in seq order and for the open conflicts

Revision ID: 0017
Revises: 0011
"""

import sqlalchemy as sa
from alembic import op

revision = '0017'
down_revision = '0014'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('entries', schema=None) as batch_op:
        batch_op.add_column(sa.Column('start', sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column('end', sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column('approval', sa.String(length=20), nullable=True))
    # Filled from the fields as `models.derived_columns` fills them (only shifts have these).
    entries = sa.table('entries', sa.column('kind', sa.String), sa.column('fields', sa.JSON),
                       sa.column('start', sa.BigInteger), sa.column('end', sa.BigInteger),
                       sa.column('approval', sa.String))
    fields = entries.c.fields
    op.get_bind().execute(entries.update().where(entries.c.kind == 'shift').values(
        start=sa.cast(fields['start'].as_string(), sa.BigInteger),
        end=sa.cast(fields['end'].as_string(), sa.BigInteger),
        approval=fields['approval'].as_string(),
    ))
    with op.batch_alter_table('entries', schema=None) as batch_op:
        batch_op.create_index('ix_entries_kind_start', ['kind', 'start'])
        batch_op.create_index('ix_entries_kind_site_start', ['kind', 'site_id', 'start'])
        batch_op.create_index('ix_entries_kind_seq', ['kind', 'seq'])
    op.create_index('ix_conflicts_open', 'conflicts', ['resolved_at', 'opened_at', 'id'])
    op.create_table(
        'stock_levels',
        sa.Column('site_id', sa.String(length=64), nullable=False),
        sa.Column('item', sa.String(length=100), nullable=False),
        sa.Column('unit', sa.String(length=20), nullable=False),
        sa.Column('stock', sa.Float(), nullable=False),
        sa.Column('rate_moves', sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint('site_id', 'item'),
    )
    _fill_stock_levels()


def _fill_stock_levels() -> None:
    """Every (site, item) ledger's row, computed by the one rule, as a write would keep it."""
    from server.services import stock_levels

    bind = op.get_bind()
    entries = sa.table('entries', sa.column('id', sa.String), sa.column('kind', sa.String),
                       sa.column('fields', sa.JSON), sa.column('stamps', sa.JSON), sa.column('deleted', sa.Boolean))
    found = bind.execute(sa.select(entries.c.id, entries.c.fields, entries.c.stamps)
                         .where(entries.c.kind == 'supply', entries.c.deleted.is_(False)))
    rows = stock_levels.levels_of(stock_levels.movement(*row) for row in found)
    table = sa.table('stock_levels', sa.column('site_id', sa.String), sa.column('item', sa.String),
                     sa.column('unit', sa.String), sa.column('stock', sa.Float), sa.column('rate_moves', sa.JSON))
    if rows:
        bind.execute(table.insert(), rows)


def downgrade() -> None:
    op.drop_table('stock_levels')
    op.drop_index('ix_conflicts_open', table_name='conflicts')
    with op.batch_alter_table('entries', schema=None) as batch_op:
        batch_op.drop_index('ix_entries_kind_seq')
        batch_op.drop_index('ix_entries_kind_site_start')
        batch_op.drop_index('ix_entries_kind_start')
        batch_op.drop_column('approval')
        batch_op.drop_column('end')
        batch_op.drop_column('start')
