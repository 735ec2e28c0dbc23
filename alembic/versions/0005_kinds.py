"""more ways in: discovery pages (sitemaps, listings, backfill progress), extraction stats

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-26

Both tables start empty: sitemap and listing sources fill discovery_pages as they are walked,
and extraction_stats counts from the first page extracted after the upgrade.
"""
from alembic import op
import sqlalchemy as sa


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('discovery_pages',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('source_id', sa.Integer(), nullable=False),
    sa.Column('url', sa.Text(), nullable=False),
    sa.Column('kind', sa.String(length=10), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('lastmod', sa.DateTime(timezone=True), nullable=True),
    sa.Column('entries', sa.Integer(), nullable=False),
    sa.Column('found_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('walked_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['source_id'], ['sources.id'], name=op.f('fk_discovery_pages_source_id_sources')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_discovery_pages')),
    sa.UniqueConstraint('source_id', 'url', name=op.f('uq_discovery_pages_source_id_url'))
    )
    op.create_table('extraction_stats',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('source_id', sa.Integer(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('pages', sa.Integer(), nullable=False),
    sa.Column('empty_text', sa.Integer(), nullable=False),
    sa.Column('short_text', sa.Integer(), nullable=False),
    sa.Column('no_date', sa.Integer(), nullable=False),
    sa.Column('no_author', sa.Integer(), nullable=False),
    sa.Column('language_mismatch', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['source_id'], ['sources.id'], name=op.f('fk_extraction_stats_source_id_sources')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_extraction_stats')),
    sa.UniqueConstraint('source_id', 'day', name=op.f('uq_extraction_stats_source_id_day'))
    )


def downgrade() -> None:
    op.drop_table('extraction_stats')
    op.drop_table('discovery_pages')
