"""the article_id index of provenance_links goes: the unique (article_id, kind, url) index
serves every look-up by article

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-30

Both indexes were written for every link (two to four an article); the unique one already
starts with `article_id`, so an article's links, and the cascade when an article is deleted,
find their rows through it.
"""
from alembic import op

revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_index('ix_provenance_links_article_id', table_name='provenance_links')


def downgrade() -> None:
    op.create_index('ix_provenance_links_article_id', 'provenance_links', ['article_id'])
