"""screenshots: capture queue and metadata of article screenshots

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26
"""
from alembic import op
import sqlalchemy as sa


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('screenshots',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('article_id', sa.Integer(), nullable=False),
    sa.Column('fetch_id', sa.Integer(), nullable=True),
    sa.Column('requested_url', sa.Text(), nullable=False),
    sa.Column('requested_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('outcome', sa.String(length=10), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('final_url', sa.Text(), nullable=True),
    sa.Column('http_status', sa.Integer(), nullable=True),
    sa.Column('page_title', sa.Text(), nullable=True),
    sa.Column('width', sa.Integer(), nullable=True),
    sa.Column('height', sa.Integer(), nullable=True),
    sa.Column('bytes', sa.BigInteger(), nullable=True),
    sa.Column('sha256', sa.String(length=64), nullable=True),
    sa.Column('format', sa.String(length=8), nullable=True),
    sa.Column('path', sa.Text(), nullable=True),
    sa.Column('thumbnail_path', sa.Text(), nullable=True),
    sa.Column('viewport_width', sa.Integer(), nullable=True),
    sa.Column('viewport_height', sa.Integer(), nullable=True),
    sa.Column('full_page', sa.Boolean(), nullable=True),
    sa.Column('settled', sa.Boolean(), nullable=True),
    sa.Column('captured_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('browser', sa.String(length=40), nullable=True),
    sa.Column('browser_version', sa.String(length=40), nullable=True),
    sa.Column('duration_ms', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['article_id'], ['articles.id'], name=op.f('fk_screenshots_article_id_articles'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['fetch_id'], ['fetches.id'], name=op.f('fk_screenshots_fetch_id_fetches')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_screenshots'))
    )
    with op.batch_alter_table('screenshots', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_screenshots_article_id'), ['article_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_screenshots_outcome_next_attempt_at'), ['outcome', 'next_attempt_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('screenshots', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_screenshots_outcome_next_attempt_at'))
        batch_op.drop_index(batch_op.f('ix_screenshots_article_id'))

    op.drop_table('screenshots')
