"""desk: full-text search over articles and the change stream

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-29

Search: SQLite gets an FTS5 table `article_search` over articles' title and text (external
content, kept in step by triggers); PostgreSQL a table `article_search` of weighted
`tsvector`s ('simple' configuration: PostgreSQL has no Ukrainian stemmer, see docs/api.md)
with a GIN index, filled by a trigger.

Changes: `changes` is appended to by triggers only (article stored, article revised, story
merged, primary changed, screenshot captured, translation added). On PostgreSQL each append first takes a
transaction-level advisory lock, so ids are handed out in commit order and a consumer paging
by id never passes a row that commits later. Existing data is written into both.
"""
from alembic import op
import sqlalchemy as sa

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None

CHANGES_LOCK = 7_320_014  # pg_advisory_xact_lock key of the change stream

# --- SQLite -----------------------------------------------------------------------------
SQLITE_NOW = "strftime('%Y-%m-%d %H:%M:%f', 'now') || '000'"
SQLITE = [
    "CREATE VIRTUAL TABLE article_search USING fts5(title, text, content='articles', "
    "content_rowid='id', tokenize='unicode61 remove_diacritics 2')",
    "CREATE TRIGGER article_search_insert AFTER INSERT ON articles BEGIN "
    "INSERT INTO article_search (rowid, title, text) VALUES (new.id, new.title, new.text); END",
    "CREATE TRIGGER article_search_delete AFTER DELETE ON articles BEGIN "
    "INSERT INTO article_search (article_search, rowid, title, text) "
    "VALUES ('delete', old.id, old.title, old.text); END",
    "CREATE TRIGGER article_search_update AFTER UPDATE OF title, text ON articles "
    "WHEN old.title IS NOT new.title OR old.text IS NOT new.text BEGIN "
    "INSERT INTO article_search (article_search, rowid, title, text) "
    "VALUES ('delete', old.id, old.title, old.text); "
    "INSERT INTO article_search (rowid, title, text) VALUES (new.id, new.title, new.text); END",
    "INSERT INTO article_search (article_search) VALUES ('rebuild')",
    f"CREATE TRIGGER changes_article_stored AFTER INSERT ON articles BEGIN "
    f"INSERT INTO changes (kind, article_id, story_id, revision, changed_at) "
    f"VALUES ('article_stored', new.id, new.story_id, 1, {SQLITE_NOW}); END",
    f"CREATE TRIGGER changes_story_merged AFTER UPDATE OF story_id ON articles "
    f"WHEN old.story_id IS NOT NULL AND new.story_id IS NOT NULL "
    f"AND old.story_id != new.story_id AND NOT EXISTS (SELECT 1 FROM changes "
    f"WHERE story_id = new.story_id AND kind = 'story_merged' "
    f"AND merged_story_id = old.story_id) BEGIN "
    f"INSERT INTO changes (kind, story_id, merged_story_id, changed_at) "
    f"VALUES ('story_merged', new.story_id, old.story_id, {SQLITE_NOW}); END",
    f"CREATE TRIGGER changes_article_revised AFTER INSERT ON article_revisions "
    f"WHEN new.number > 1 BEGIN "
    f"INSERT INTO changes (kind, article_id, story_id, revision, changed_at) "
    f"VALUES ('article_revised', new.article_id, "
    f"(SELECT story_id FROM articles WHERE id = new.article_id), new.number, {SQLITE_NOW}); END",
    f"CREATE TRIGGER changes_primary_changed AFTER UPDATE OF primary_article_id ON stories "
    f"WHEN old.primary_article_id IS NOT NULL "
    f"AND old.primary_article_id IS NOT new.primary_article_id BEGIN "
    f"INSERT INTO changes (kind, article_id, story_id, changed_at) "
    f"VALUES ('primary_changed', new.primary_article_id, new.id, {SQLITE_NOW}); END",
    f"CREATE TRIGGER changes_screenshot_captured AFTER UPDATE OF outcome ON screenshots "
    f"WHEN new.outcome = 'captured' AND old.outcome IS NOT 'captured' BEGIN "
    f"INSERT INTO changes (kind, article_id, story_id, screenshot_id, changed_at) "
    f"VALUES ('screenshot_captured', new.article_id, "
    f"(SELECT story_id FROM articles WHERE id = new.article_id), new.id, {SQLITE_NOW}); END",
    f"CREATE TRIGGER changes_translation_added AFTER UPDATE OF status ON translations "
    f"WHEN new.status = 'done' AND old.status IS NOT 'done' BEGIN "
    f"INSERT INTO changes (kind, article_id, story_id, revision, changed_at) "
    f"VALUES ('translation_added', new.article_id, "
    f"(SELECT story_id FROM articles WHERE id = new.article_id), new.revision, {SQLITE_NOW}); "
    f"END",
]
SQLITE_DROP = [
    "DROP TRIGGER IF EXISTS " + name for name in (
        "article_search_insert", "article_search_delete", "article_search_update",
        "changes_article_stored", "changes_story_merged", "changes_article_revised",
        "changes_primary_changed", "changes_screenshot_captured", "changes_translation_added")
] + ["DROP TABLE IF EXISTS article_search"]

# --- PostgreSQL -------------------------------------------------------------------------
POSTGRES = [
    "CREATE TABLE article_search (article_id integer PRIMARY KEY "
    "REFERENCES articles (id) ON DELETE CASCADE, document tsvector NOT NULL)",
    "CREATE INDEX ix_article_search_document ON article_search USING gin (document)",
    """CREATE FUNCTION article_search_refresh() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO article_search (article_id, document)
  VALUES (NEW.id, setweight(to_tsvector('simple', coalesce(NEW.title, '')), 'A')
                  || setweight(to_tsvector('simple', coalesce(NEW.text, '')), 'B'))
  ON CONFLICT (article_id) DO UPDATE SET document = EXCLUDED.document;
  RETURN NULL;
END $$""",
    "CREATE TRIGGER article_search_refresh AFTER INSERT OR UPDATE OF title, text ON articles "
    "FOR EACH ROW EXECUTE FUNCTION article_search_refresh()",
    "INSERT INTO article_search (article_id, document) SELECT id, "
    "setweight(to_tsvector('simple', coalesce(title, '')), 'A') "
    "|| setweight(to_tsvector('simple', coalesce(text, '')), 'B') FROM articles",
    f"""CREATE FUNCTION changes_append(p_kind text, p_article integer, p_story integer,
    p_merged integer, p_revision integer, p_screenshot integer)
RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  -- Held to the end of the transaction: the next writer gets its id only after this one
  -- committed, so ids are in commit order.
  PERFORM pg_advisory_xact_lock({CHANGES_LOCK});
  INSERT INTO changes (kind, article_id, story_id, merged_story_id, revision, screenshot_id,
                       changed_at)
  VALUES (p_kind, p_article, p_story, p_merged, p_revision, p_screenshot, clock_timestamp());
END $$""",
    """CREATE FUNCTION changes_on_article() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    PERFORM changes_append('article_stored', NEW.id, NEW.story_id, NULL, 1, NULL);
  ELSIF OLD.story_id IS NOT NULL AND NEW.story_id IS NOT NULL
        AND OLD.story_id <> NEW.story_id AND NOT EXISTS (
          SELECT 1 FROM changes WHERE story_id = NEW.story_id AND kind = 'story_merged'
          AND merged_story_id = OLD.story_id) THEN
    PERFORM changes_append('story_merged', NULL, NEW.story_id, OLD.story_id, NULL, NULL);
  END IF;
  RETURN NULL;
END $$""",
    "CREATE TRIGGER changes_on_article AFTER INSERT OR UPDATE OF story_id ON articles "
    "FOR EACH ROW EXECUTE FUNCTION changes_on_article()",
    """CREATE FUNCTION changes_on_revision() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM changes_append('article_revised', NEW.article_id,
    (SELECT story_id FROM articles WHERE id = NEW.article_id), NULL, NEW.number, NULL);
  RETURN NULL;
END $$""",
    "CREATE TRIGGER changes_on_revision AFTER INSERT ON article_revisions "
    "FOR EACH ROW WHEN (NEW.number > 1) EXECUTE FUNCTION changes_on_revision()",
    """CREATE FUNCTION changes_on_story() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM changes_append('primary_changed', NEW.primary_article_id, NEW.id, NULL, NULL, NULL);
  RETURN NULL;
END $$""",
    "CREATE TRIGGER changes_on_story AFTER UPDATE OF primary_article_id ON stories "
    "FOR EACH ROW WHEN (OLD.primary_article_id IS NOT NULL "
    "AND OLD.primary_article_id IS DISTINCT FROM NEW.primary_article_id) "
    "EXECUTE FUNCTION changes_on_story()",
    """CREATE FUNCTION changes_on_screenshot() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM changes_append('screenshot_captured', NEW.article_id,
    (SELECT story_id FROM articles WHERE id = NEW.article_id), NULL, NULL, NEW.id);
  RETURN NULL;
END $$""",
    "CREATE TRIGGER changes_on_screenshot AFTER UPDATE OF outcome ON screenshots "
    "FOR EACH ROW WHEN (NEW.outcome = 'captured' AND OLD.outcome IS DISTINCT FROM 'captured') "
    "EXECUTE FUNCTION changes_on_screenshot()",
    """CREATE FUNCTION changes_on_translation() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM changes_append('translation_added', NEW.article_id,
    (SELECT story_id FROM articles WHERE id = NEW.article_id), NULL, NEW.revision, NULL);
  RETURN NULL;
END $$""",
    "CREATE TRIGGER changes_on_translation AFTER UPDATE OF status ON translations "
    "FOR EACH ROW WHEN (NEW.status = 'done' AND OLD.status IS DISTINCT FROM 'done') "
    "EXECUTE FUNCTION changes_on_translation()",
]
POSTGRES_DROP = [
    "DROP TRIGGER IF EXISTS changes_on_translation ON translations",
    "DROP FUNCTION IF EXISTS changes_on_translation()",
    "DROP TRIGGER IF EXISTS changes_on_screenshot ON screenshots",
    "DROP TRIGGER IF EXISTS changes_on_story ON stories",
    "DROP TRIGGER IF EXISTS changes_on_revision ON article_revisions",
    "DROP TRIGGER IF EXISTS changes_on_article ON articles",
    "DROP TRIGGER IF EXISTS article_search_refresh ON articles",
    "DROP FUNCTION IF EXISTS changes_on_screenshot()",
    "DROP FUNCTION IF EXISTS changes_on_story()",
    "DROP FUNCTION IF EXISTS changes_on_revision()",
    "DROP FUNCTION IF EXISTS changes_on_article()",
    "DROP FUNCTION IF EXISTS changes_append(text, integer, integer, integer, integer, integer)",
    "DROP FUNCTION IF EXISTS article_search_refresh()",
    "DROP TABLE IF EXISTS article_search",
]

# What was already stored enters the stream once, oldest first, before any trigger fires.
BACKFILL = """
INSERT INTO changes (kind, article_id, story_id, revision, screenshot_id, changed_at)
SELECT kind, article_id, story_id, revision, screenshot_id, changed_at FROM (
  SELECT 'article_stored' AS kind, a.id AS article_id, a.story_id, 1 AS revision,
         CAST(NULL AS integer) AS screenshot_id, a.first_seen_at AS changed_at, 0 AS tie, a.id AS ord
  FROM articles a
  UNION ALL
  SELECT 'article_revised', r.article_id, a.story_id, r.number, CAST(NULL AS integer), r.fetched_at, 1, r.id
  FROM article_revisions r JOIN articles a ON a.id = r.article_id WHERE r.number > 1
  UNION ALL
  SELECT 'screenshot_captured', s.article_id, a.story_id, CAST(NULL AS integer), s.id, s.captured_at, 2, s.id
  FROM screenshots s JOIN articles a ON a.id = s.article_id WHERE s.outcome = 'captured'
  UNION ALL
  SELECT 'translation_added', t.article_id, a.story_id, t.revision, CAST(NULL AS integer),
         t.translated_at, 3, t.id
  FROM translations t JOIN articles a ON a.id = t.article_id WHERE t.status = 'done'
) AS history ORDER BY changed_at, tie, ord
"""


def _is_sqlite() -> bool:
    return op.get_bind().dialect.name == 'sqlite'


def upgrade() -> None:
    op.create_table('changes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=24), nullable=False),
    sa.Column('article_id', sa.Integer(), nullable=True),
    sa.Column('story_id', sa.Integer(), nullable=True),
    sa.Column('merged_story_id', sa.Integer(), nullable=True),
    sa.Column('revision', sa.Integer(), nullable=True),
    sa.Column('screenshot_id', sa.Integer(), nullable=True),
    sa.Column('changed_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_changes')),
    sqlite_autoincrement=True,
    )
    op.create_index(op.f('ix_changes_story_id_id'), 'changes', ['story_id', 'id'], unique=False)
    op.create_index(op.f('ix_screenshots_sha256'), 'screenshots', ['sha256'], unique=False)
    op.execute(BACKFILL)
    for statement in SQLITE if _is_sqlite() else POSTGRES:
        op.execute(statement)


def downgrade() -> None:
    for statement in SQLITE_DROP if _is_sqlite() else POSTGRES_DROP:
        op.execute(statement)
    op.drop_index(op.f('ix_screenshots_sha256'), table_name='screenshots')
    op.drop_index(op.f('ix_changes_story_id_id'), table_name='changes')
    op.drop_table('changes')
