-- Files handed in around the survey (self-assessment reports, the assessment group's
-- reports, the half-yearly reports of the village archive): kept in the database with their
-- SHA-256, so a backup or the archive export holds them, and checked by content (PDF, Word,
-- PNG or JPEG) before they are stored. Rows are never changed; a replaced file is a new row.
CREATE TABLE attachments (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    sha256       TEXT NOT NULL,            -- hex of the content
    file_name    TEXT NOT NULL,            -- as uploaded, for the download
    kind         TEXT NOT NULL CHECK (kind IN ('pdf', 'docx', 'doc', 'png', 'jpeg')),
    size         INTEGER NOT NULL,
    content      BLOB NOT NULL,
    uploaded_by  INTEGER REFERENCES accounts(id),
    uploaded_at  INTEGER NOT NULL
);

-- The register of titled villages (廉洁村(社区) titles): granted per village when the town
-- party committee approves (镇党委批准), valid for the creation cycle (two years by default),
-- re-checked (复核) before it expires.
CREATE TABLE titles (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    campaign_id   INTEGER NOT NULL REFERENCES campaigns(id),
    village_id    INTEGER NOT NULL REFERENCES villages(id),
    granted_on    TEXT NOT NULL,           -- YYYY-MM-DD, the day of the party committee's approval
    expires_on    TEXT NOT NULL,           -- YYYY-MM-DD, the last day the title holds
    decision_ref  TEXT NOT NULL,           -- 镇党委批准文号
    granted_by    INTEGER REFERENCES accounts(id),
    granted_at    INTEGER NOT NULL,
    revoked_on    TEXT,                    -- YYYY-MM-DD when withdrawn (e.g. failed 复核)
    revoke_reason TEXT,
    UNIQUE (campaign_id, village_id)
);
CREATE INDEX titles_village ON titles(village_id);

-- Application and acceptance (申报与受理): a campaign with `participation = 'accepted'`
-- draws, surveys and assesses only the villages whose application the commission accepted;
-- 'all' (campaigns created before applications existed) draws every village with a roster.
-- A village applies with its self-assessment report by `applications_due`; the commission
-- accepts it or refuses it (不受理) with a reason. A 复核 round enters its villages as
-- accepted, without a report.
ALTER TABLE campaigns ADD COLUMN participation TEXT NOT NULL DEFAULT 'all'
    CHECK (participation IN ('all', 'accepted'));
ALTER TABLE campaigns ADD COLUMN applications_due TEXT;   -- YYYY-MM-DD, the last day to apply
CREATE TABLE applications (
    campaign_id  INTEGER NOT NULL REFERENCES campaigns(id),
    village_id   INTEGER NOT NULL REFERENCES villages(id),
    report_id    INTEGER REFERENCES attachments(id),  -- the self-assessment report
    note         TEXT NOT NULL DEFAULT '',
    applied_by   INTEGER REFERENCES accounts(id),
    applied_at   INTEGER NOT NULL,
    decision     TEXT CHECK (decision IN ('accepted', 'refused')),  -- NULL while pending
    reason       TEXT,                                -- required when refused
    decided_by   INTEGER REFERENCES accounts(id),
    decided_at   INTEGER,
    PRIMARY KEY (campaign_id, village_id),
    CHECK (decision IS NULL OR decision = 'accepted' OR length(trim(reason)) > 0)
);
