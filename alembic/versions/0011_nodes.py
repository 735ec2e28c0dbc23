"""nodes: several daemons on one PostgreSQL

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-29

`nodes` (one row per running daemon, its heartbeat), `host_leases` (which node crawls a host
and until when), `article_bands` (LSH band keys of every signature, the near-duplicate index
shared by all nodes; filled for existing signatures by the first daemon that starts) and
`crawls.node` (which node ran a crawl).
"""
from alembic import op
import sqlalchemy as sa

revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('nodes',
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('hostname', sa.String(length=255), nullable=False),
    sa.Column('pid', sa.Integer(), nullable=False),
    sa.Column('http', sa.String(length=300), nullable=True),
    sa.Column('hosts', sa.Integer(), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('heartbeat_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('name', name=op.f('pk_nodes'))
    )
    op.create_table('host_leases',
    sa.Column('host', sa.String(length=255), nullable=False),
    sa.Column('node', sa.String(length=100), nullable=True),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('acquired_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('wanted_by', sa.String(length=100), nullable=True),
    sa.Column('wanted_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('host', name=op.f('pk_host_leases'))
    )
    with op.batch_alter_table('host_leases', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_host_leases_node'), ['node'], unique=False)
    op.create_table('article_bands',
    sa.Column('key', sa.BigInteger(), nullable=False),
    sa.Column('article_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['article_id'], ['articles.id'], name=op.f('fk_article_bands_article_id_articles'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('key', 'article_id', name=op.f('pk_article_bands'))
    )
    with op.batch_alter_table('article_bands', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_article_bands_article_id'), ['article_id'], unique=False)
    with op.batch_alter_table('crawls', schema=None) as batch_op:
        batch_op.add_column(sa.Column('node', sa.String(length=100), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('crawls', schema=None) as batch_op:
        batch_op.drop_column('node')
    with op.batch_alter_table('article_bands', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_article_bands_article_id'))
    op.drop_table('article_bands')
    with op.batch_alter_table('host_leases', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_host_leases_node'))
    op.drop_table('host_leases')
    op.drop_table('nodes')
