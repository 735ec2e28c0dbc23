"""the LSH band keys move into the signature row (PostgreSQL's GIN index)

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-30

`article_bands` held an article's 37 band keys as 37 rows, each with its primary-key entry,
its `article_id` entry and a foreign-key check: about 1 ms of the writer's time an article on
PostgreSQL. The keys are now an array in the article's signature row, found by a GIN index
(`fastupdate` off: a look-up would otherwise scan the pending list on every batch): a third of
that cost for the same look-up time (docs/benchmarks.md). A revision rewrites the one row.
SQLite: the table goes and the column stays empty (its one node keeps the index in memory).
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None

INDEX = "ix_article_signatures_bands"  # the migration's own, outside the models


def upgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    keys = postgresql.ARRAY(sa.BigInteger()) if postgres else sa.JSON()
    with op.batch_alter_table('article_signatures') as batch_op:
        batch_op.add_column(sa.Column('bands', keys, nullable=True))
    if postgres:
        op.execute("UPDATE article_signatures s SET bands = b.keys FROM (SELECT article_id, "
                   "array_agg(key ORDER BY key) AS keys FROM article_bands GROUP BY article_id)"
                   " AS b WHERE b.article_id = s.article_id")
        op.execute(f"CREATE INDEX {INDEX} ON article_signatures USING gin (bands) "
                   "WITH (fastupdate = off)")
    with op.batch_alter_table('article_bands') as batch_op:
        batch_op.drop_index('ix_article_bands_article_id')
    op.drop_table('article_bands')


def downgrade() -> None:
    op.create_table('article_bands',
    sa.Column('key', sa.BigInteger(), nullable=False),
    sa.Column('article_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['article_id'], ['articles.id'], name=op.f('fk_article_bands_article_id_articles'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('key', 'article_id', name=op.f('pk_article_bands'))
    )
    with op.batch_alter_table('article_bands') as batch_op:
        batch_op.create_index('ix_article_bands_article_id', ['article_id'], unique=False)
    if op.get_bind().dialect.name == "postgresql":
        op.execute("INSERT INTO article_bands (key, article_id) SELECT DISTINCT unnest(bands), "
                   "article_id FROM article_signatures WHERE bands IS NOT NULL")
        op.execute(f"DROP INDEX {INDEX}")
    with op.batch_alter_table('article_signatures') as batch_op:
        batch_op.drop_column('bands')
