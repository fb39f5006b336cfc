"""township settings: a township's items, rest rules and rates over the deployment's defaults

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('township_config',
    sa.Column('township', sa.String(length=100), nullable=False),
    sa.Column('value', sa.JSON(), nullable=False),
    sa.PrimaryKeyConstraint('township')
    )


def downgrade() -> None:
    op.drop_table('township_config')
