"""article facts: how the text was found, where the date came from, how sure the language is

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-29

Four nullable columns on `articles`: `extraction_path` (rule / structured / fast / full),
`date_source` (page / structured / feed / first_seen), `date_precision` (second / day / none)
and `language_confidence`. Rows stored before stay NULL (unknown: nobody recorded how they
were made, and old dates may be guesses), except that a row without a date gets precision
'none'. Plain ADD/DROP COLUMN on both databases, so
SQLite's search triggers on `articles` survive (a batch rebuild would drop them).
"""
from alembic import op
import sqlalchemy as sa

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None

COLUMNS = (
    ('extraction_path', sa.String(12)),
    ('date_source', sa.String(12)),
    ('date_precision', sa.String(8)),
    ('language_confidence', sa.Float()),
)


def upgrade() -> None:
    for name, kind in COLUMNS:
        op.add_column('articles', sa.Column(name, kind, nullable=True))
    op.execute("UPDATE articles SET date_precision = 'none' WHERE published_at IS NULL")


def downgrade() -> None:
    for name, _ in reversed(COLUMNS):
        op.execute(f'ALTER TABLE articles DROP COLUMN {name}')
