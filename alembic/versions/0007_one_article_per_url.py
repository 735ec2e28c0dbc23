"""one article per canonical URL; provenance links name the source that recorded them

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-29

`articles.canonical_key` (sha256 of the canonical URL) gets a unique index, replacing the plain
index on `canonical_url` (a B-tree cannot hold every URL). Rows that share a canonical URL are
merged into the first one stored: their provenance links, feed entries and story roles move to
it (with a `feed` link and, when its URL differed, a `listed_as` link for each merged row's
source), then they are deleted with their revisions, signatures and screenshots.
`provenance_links.source_id` is filled with the article's source.
"""
import hashlib

import sqlalchemy as sa
from alembic import op

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None

SOURCE_FK = 'fk_provenance_links_source_id_sources'


def _is_sqlite() -> bool:
    return op.get_bind().dialect.name == 'sqlite'


def upgrade() -> None:
    bind = op.get_bind()
    if _is_sqlite():  # plain ADD COLUMN: no rebuild of tables that others reference
        op.execute(f'ALTER TABLE provenance_links ADD COLUMN source_id INTEGER '
                   f'CONSTRAINT {SOURCE_FK} REFERENCES sources (id)')
        op.execute("ALTER TABLE articles ADD COLUMN canonical_key VARCHAR(64) NOT NULL "
                   "DEFAULT ''")
    else:
        op.add_column('provenance_links', sa.Column('source_id', sa.Integer(), nullable=True))
        op.create_foreign_key(SOURCE_FK, 'provenance_links', 'sources', ['source_id'], ['id'])
        op.add_column('articles', sa.Column('canonical_key', sa.String(64), nullable=True))
    op.execute("UPDATE provenance_links SET source_id = (SELECT source_id FROM articles "
               "WHERE articles.id = provenance_links.article_id)")
    rows = bind.execute(sa.text("SELECT id, canonical_url FROM articles ORDER BY id")).all()
    keys: dict[str, int] = {}
    extras: list[tuple[int, int]] = []  # (merged row, the row kept)
    for article_id, canonical in rows:
        key = hashlib.sha256(canonical.encode('utf-8')).hexdigest()
        if key in keys:
            extras.append((article_id, keys[key]))
        else:
            keys[key] = article_id
    if keys:
        bind.execute(sa.text("UPDATE articles SET canonical_key = :k WHERE id = :i"),
                     [{"k": key, "i": article_id} for key, article_id in keys.items()])
    for extra, kept in extras:
        _merge(bind, extra, kept)
    if not _is_sqlite():
        op.alter_column('articles', 'canonical_key', existing_type=sa.String(64),
                        nullable=False)
    op.drop_index('ix_articles_canonical_url', table_name='articles')
    op.create_index('ix_articles_canonical_key', 'articles', ['canonical_key'], unique=True)


def _merge(bind, extra: int, kept: int) -> None:
    """Fold article `extra` into `kept` (same canonical URL, stored earlier)."""
    def run(sql: str, **params) -> sa.engine.CursorResult:
        return bind.execute(sa.text(sql), {"e": extra, "k": kept, **params})

    extra_row = run("SELECT a.url, a.guid, a.source_id, s.name, s.url AS feed FROM articles a "
                    "JOIN sources s ON s.id = a.source_id WHERE a.id = :e").one()
    kept_url = run("SELECT url FROM articles WHERE id = :k").scalar_one()
    existing = {(kind, url) for kind, url in run(
        "SELECT kind, url FROM provenance_links WHERE article_id = :k").all()}
    sighting = [('feed', extra_row.feed, extra_row.guid)]
    if extra_row.url != kept_url:
        sighting.append(('listed_as', extra_row.url, extra_row.name))
    for kind, url, label in sighting:
        if (kind, url) not in existing:
            existing.add((kind, url))
            run("INSERT INTO provenance_links (article_id, source_id, kind, url, label, "
                "created_at) SELECT :k, :s, :kind, :url, :label, first_seen_at FROM articles "
                "WHERE id = :e", s=extra_row.source_id, kind=kind, url=url, label=label)
    for link_id, kind, url in run(
            "SELECT id, kind, url FROM provenance_links WHERE article_id = :e").all():
        if (kind, url) not in existing and kind in ('cites', 'alternate', 'canonical'):
            existing.add((kind, url))
            run("UPDATE provenance_links SET article_id = :k WHERE id = :l", l=link_id)
    run("UPDATE feed_entries SET article_id = :k WHERE article_id = :e")
    # A story whose primary goes: the kept row where it is a member, else its first member.
    run("UPDATE stories SET primary_article_id = CASE "
        "WHEN id = (SELECT story_id FROM articles WHERE id = :k) THEN :k "
        "ELSE (SELECT MIN(a.id) FROM articles a WHERE a.story_id = stories.id AND a.id <> :e) "
        "END WHERE primary_article_id = :e")
    story = run("SELECT story_id FROM articles WHERE id = :e").scalar()
    for table in ('provenance_links', 'article_revisions', 'article_signatures', 'screenshots'):
        run(f"DELETE FROM {table} WHERE article_id = :e")
    run("DELETE FROM articles WHERE id = :e")
    if story is not None and run("SELECT COUNT(*) FROM articles WHERE story_id = :st",
                                 st=story).scalar_one() == 0:
        run("DELETE FROM stories WHERE id = :st", st=story)


def downgrade() -> None:
    """Merged rows stay merged; the key and the link's source go."""
    op.drop_index('ix_articles_canonical_key', table_name='articles')
    op.create_index('ix_articles_canonical_url', 'articles', ['canonical_url'], unique=False)
    if not _is_sqlite():
        op.drop_constraint(SOURCE_FK, 'provenance_links', type_='foreignkey')
    with op.batch_alter_table('provenance_links') as batch_op:  # nothing references it
        batch_op.drop_column('source_id')
    op.execute("ALTER TABLE articles DROP COLUMN canonical_key")  # no rebuild of articles
