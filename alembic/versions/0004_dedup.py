"""dedup and provenance: stories, signatures, revisions, WARC pointers, editions

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25

Existing articles each become a story of their own (primary = itself) with their stored text
as revision 1, so nothing already collected is left outside the new model. Signatures are
computed by the daemon at start for articles that lack one.
"""
from alembic import op
import sqlalchemy as sa


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None

STORY_FK = 'fk_articles_story_id_stories'


def _is_sqlite() -> bool:
    return op.get_bind().dialect.name == 'sqlite'


def upgrade() -> None:
    op.create_table('stories',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('primary_article_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['primary_article_id'], ['articles.id'], name=op.f('fk_stories_primary_article_id_articles')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_stories'))
    )
    op.create_table('article_signatures',
    sa.Column('article_id', sa.Integer(), nullable=False),
    sa.Column('minhash', sa.LargeBinary(), nullable=False),
    sa.Column('shingles', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['article_id'], ['articles.id'], name=op.f('fk_article_signatures_article_id_articles'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('article_id', name=op.f('pk_article_signatures'))
    )
    op.create_table('article_revisions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('article_id', sa.Integer(), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('fetch_id', sa.Integer(), nullable=False),
    sa.Column('fetched_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('title', sa.Text(), nullable=True),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('content_hash', sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(['article_id'], ['articles.id'], name=op.f('fk_article_revisions_article_id_articles'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['fetch_id'], ['fetches.id'], name=op.f('fk_article_revisions_fetch_id_fetches')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_article_revisions')),
    sa.UniqueConstraint('article_id', 'number', name=op.f('uq_article_revisions_article_id_number'))
    )
    # Plain ADD COLUMN (no table rebuild): SQLite accepts an inline REFERENCES for a NULL column.
    if _is_sqlite():
        op.execute(f'ALTER TABLE articles ADD COLUMN story_id INTEGER '
                   f'CONSTRAINT {STORY_FK} REFERENCES stories (id)')
    else:
        op.add_column('articles', sa.Column('story_id', sa.Integer(), nullable=True))
    op.add_column('articles', sa.Column('match_kind', sa.String(length=10), nullable=True))
    op.add_column('articles', sa.Column('match_score', sa.Float(), nullable=True))
    op.add_column('articles', sa.Column('edition_key', sa.String(length=300), nullable=True))
    if not _is_sqlite():
        op.create_foreign_key(STORY_FK, 'articles', 'stories', ['story_id'], ['id'])
    op.create_index(op.f('ix_articles_story_id'), 'articles', ['story_id'], unique=False)
    op.create_index(op.f('ix_articles_edition_key'), 'articles', ['edition_key'], unique=False)
    for name, type_ in (('warc_file', sa.Text()), ('warc_offset', sa.BigInteger()),
                        ('warc_length', sa.BigInteger()), ('warc_sha256', sa.String(length=64)),
                        ('warc_error', sa.Text())):
        op.add_column('fetches', sa.Column(name, type_, nullable=True))
    with op.batch_alter_table('provenance_links', schema=None) as batch_op:
        batch_op.alter_column('url', existing_type=sa.Text(), nullable=True)

    op.execute("INSERT INTO stories (id, primary_article_id, created_at, updated_at) "
               "SELECT id, id, first_seen_at, first_seen_at FROM articles")
    op.execute("UPDATE articles SET story_id = id, match_kind = 'first'")
    op.execute("INSERT INTO article_revisions (article_id, number, fetch_id, fetched_at, title, text, content_hash) "
               "SELECT id, 1, fetch_id, fetched_at, title, text, content_hash FROM articles")
    if not _is_sqlite():
        op.execute("SELECT setval(pg_get_serial_sequence('stories', 'id'), "
                   "COALESCE((SELECT MAX(id) FROM stories), 0) + 1, false)")


def downgrade() -> None:
    op.execute("DELETE FROM provenance_links WHERE url IS NULL")
    with op.batch_alter_table('provenance_links', schema=None) as batch_op:
        batch_op.alter_column('url', existing_type=sa.Text(), nullable=False)
    with op.batch_alter_table('fetches', schema=None) as batch_op:
        for name in ('warc_error', 'warc_sha256', 'warc_length', 'warc_offset', 'warc_file'):
            batch_op.drop_column(name)
    op.drop_index(op.f('ix_articles_edition_key'), table_name='articles')
    op.drop_index(op.f('ix_articles_story_id'), table_name='articles')
    if not _is_sqlite():
        op.drop_constraint(STORY_FK, 'articles', type_='foreignkey')
    with op.batch_alter_table('articles', schema=None) as batch_op:
        for name in ('edition_key', 'match_score', 'match_kind', 'story_id'):
            batch_op.drop_column(name)
    op.drop_table('article_revisions')
    op.drop_table('article_signatures')
    op.drop_table('stories')
