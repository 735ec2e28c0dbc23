"""scheduling state and health of sources

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25
"""
from alembic import op
import sqlalchemy as sa

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None

COLUMNS = [
    ('last_new_article_at', sa.DateTime(timezone=True)),
    ('next_run_at', sa.DateTime(timezone=True)),
    ('interval_seconds', sa.Float()),
    ('backoff_seconds', sa.Float()),
    ('rhythm_seconds', sa.Float()),
]


def upgrade() -> None:
    with op.batch_alter_table('sources') as batch_op:
        for name, type_ in COLUMNS:
            batch_op.add_column(sa.Column(name, type_, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('sources') as batch_op:
        for name, _ in reversed(COLUMNS):
            batch_op.drop_column(name)
