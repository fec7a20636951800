-- The audit chain (issue 7): every state-changing event, chained by SHA-256 (src/audit.rs).
-- Ids are assigned 1, 2, 3 … by the writer, without gaps, so a deleted entry is found.
CREATE TABLE audit_log (
    id           INTEGER PRIMARY KEY,
    at           INTEGER NOT NULL,          -- Unix time
    actor        TEXT NOT NULL,             -- account:<id>:<username>, cli, anonymous, system
    event        TEXT NOT NULL,             -- e.g. roster.receipt, draw, login.failure
    campaign_id  INTEGER,                   -- the campaign it concerns, if any (no foreign key: a purge keeps the log)
    details      TEXT NOT NULL,             -- canonical JSON
    prev_hash    TEXT NOT NULL,             -- the previous entry's hash (64 zeros for entry 1)
    hash         TEXT NOT NULL              -- SHA-256(prev_hash || "\n" || canonical entry)
);
