# ruff: noqa: S608  (statements are constants of this module)
"""The journal's tables, written once for SQLite and PostgreSQL, and the steps that upgraded old SQLite files.

Types are the ones both accept with the same meaning: TEXT, INTEGER and DOUBLE PRECISION (SQLite reads
it as REAL; PostgreSQL's own REAL would round timestamps to minutes).
"""

from __future__ import annotations

SCHEMA_VERSION = 4
LINEAGE = """
CREATE TABLE IF NOT EXISTS lineage (
    job_id    TEXT NOT NULL REFERENCES jobs(id),
    position  INTEGER NOT NULL,
    parent_id TEXT NOT NULL,
    candidate INTEGER,
    PRIMARY KEY (job_id, position)
);
CREATE INDEX IF NOT EXISTS lineage_by_parent ON lineage(parent_id);
"""
ATTEMPTS_TABLE = """
CREATE TABLE IF NOT EXISTS delivery_attempts (
    job_id   TEXT NOT NULL,
    at       DOUBLE PRECISION NOT NULL,
    outcome  TEXT NOT NULL,  -- posted | reconciled | retry | refused | gave_up | error
    ref      TEXT,
    detail   TEXT
);
"""
JOBS_TABLE = """
CREATE TABLE IF NOT EXISTS jobs (
    id            TEXT PRIMARY KEY,
    kind          TEXT NOT NULL,
    platform      TEXT NOT NULL,
    state         TEXT NOT NULL,
    request       TEXT NOT NULL,
    requester     TEXT NOT NULL,
    origin        TEXT NOT NULL,
    parent_id     TEXT REFERENCES jobs(id),
    attempts      INTEGER NOT NULL DEFAULT 0,
    error_code    TEXT,
    error         TEXT,
    result        TEXT,
    delivery      TEXT NOT NULL DEFAULT 'pending',
    delivered_ref TEXT,
    dedupe_key    TEXT,
    owner         TEXT,
    lease_until   DOUBLE PRECISION,
    created_at    DOUBLE PRECISION NOT NULL,
    updated_at    DOUBLE PRECISION NOT NULL
);
"""
TABLES = JOBS_TABLE + LINEAGE + ATTEMPTS_TABLE
# PostgreSQL only: results and inputs, so a worker on one machine reads what a front end on another wrote.
# The bytes are PNG, JPEG or Opus already: EXTERNAL stores them out of line without trying to compress them.
FILES_TABLE = """
DO $$ BEGIN
IF to_regclass('files') IS NULL THEN
    CREATE TABLE files (
        name       TEXT PRIMARY KEY,  -- results/<job>.<ext>, results/<job>-<n>.<ext>, blobs/<ab>/<sha256>
        data       BYTEA NOT NULL,
        created_at DOUBLE PRECISION NOT NULL  -- last written (an input reused by a new job counts as new again)
    );
    ALTER TABLE files ALTER COLUMN data SET STORAGE EXTERNAL;
END IF;
END $$;
CREATE INDEX IF NOT EXISTS files_by_age ON files(created_at);
"""
INDEXES = """
CREATE INDEX IF NOT EXISTS jobs_open ON jobs(state) WHERE state IN ('queued', 'running');
CREATE INDEX IF NOT EXISTS jobs_undelivered ON jobs(platform, delivery) WHERE delivery != 'delivered';
CREATE INDEX IF NOT EXISTS jobs_by_ref ON jobs(platform, delivered_ref);
CREATE INDEX IF NOT EXISTS jobs_recent ON jobs(platform, created_at);
CREATE UNIQUE INDEX IF NOT EXISTS jobs_dedupe ON jobs(dedupe_key) WHERE dedupe_key IS NOT NULL;
CREATE INDEX IF NOT EXISTS jobs_lease ON jobs(owner, lease_until);
CREATE INDEX IF NOT EXISTS jobs_updated ON jobs(updated_at);
CREATE INDEX IF NOT EXISTS attempts_by_job ON delivery_attempts(job_id);
"""
SQLITE_MIGRATIONS: dict[int, str] = {  # version -> what turns an older SQLite journal into it
    2: "ALTER TABLE jobs ADD COLUMN dedupe_key TEXT;",
    3: LINEAGE,
    4: "ALTER TABLE jobs ADD COLUMN owner TEXT; ALTER TABLE jobs ADD COLUMN lease_until REAL;"
       + ATTEMPTS_TABLE
       # capabilities never belong in the journal: forget any an older version stored
       + "UPDATE jobs SET origin = json_remove(origin, '$.meta.response_url');",
}
