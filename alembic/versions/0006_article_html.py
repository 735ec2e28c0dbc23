"""main content of articles as sanitised HTML

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-25
"""
from alembic import op
import sqlalchemy as sa

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('articles') as batch_op:
        batch_op.add_column(sa.Column('html', sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('articles') as batch_op:
        batch_op.drop_column('html')
