-- Fieldwork for the third party (issue 5): call attempts, dispositions, replacements from the
-- reserve, closing.

ALTER TABLE campaigns ADD COLUMN fieldwork_closed_at INTEGER;
-- When a released case is replaced by the village's next reserve rank (configurable).
ALTER TABLE campaigns ADD COLUMN replace_on_not_eligible BOOLEAN NOT NULL DEFAULT TRUE;
ALTER TABLE campaigns ADD COLUMN replace_on_refusal BOOLEAN NOT NULL DEFAULT TRUE;
ALTER TABLE campaigns ADD COLUMN noncontact_attempts INTEGER NOT NULL DEFAULT 3;
ALTER TABLE campaigns ADD COLUMN noncontact_days INTEGER NOT NULL DEFAULT 2;

-- The case's current disposition: the outcome key of its last attempt ('complete' when
-- answered by phone or link, 'refusal' when declined through the link); NULL if untouched.
ALTER TABLE cases ADD COLUMN disposition TEXT;
-- Set when the case was replaced (its replacement is the case released for that reason).
ALTER TABLE cases ADD COLUMN replaced_at INTEGER;

-- Every call attempt, from the console or imported from other interviewing software.
CREATE TABLE attempts (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    case_id       INTEGER NOT NULL REFERENCES cases(id),
    attempted_at  INTEGER NOT NULL,          -- Unix time of the call
    attempted_on  TEXT NOT NULL,             -- its date (China time), for "different days"
    outcome       TEXT NOT NULL,             -- fieldwork::Outcome key
    callback_at   INTEGER,                   -- when to call again, if agreed
    note          TEXT,
    recorded_by   INTEGER REFERENCES accounts(id),
    import_key    TEXT UNIQUE                -- SHA-256 of an imported row (re-importing skips it)
);
CREATE INDEX attempts_case ON attempts(case_id);
