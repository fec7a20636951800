-- The village archive (创廉档案): the half-yearly written reports (半年书面报告) a village hands
-- in, `period` as '2026H1' or '2026H2'. Every upload is kept; the newest per village and
-- period is the current one. The file itself is an attachment (checked, with its SHA-256).
CREATE TABLE village_reports (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    village_id    INTEGER NOT NULL REFERENCES villages(id),
    period        TEXT NOT NULL CHECK (length(period) = 6 AND substr(period, 5, 1) = 'H'
                                       AND substr(period, 6, 1) IN ('1', '2')),
    attachment_id INTEGER NOT NULL REFERENCES attachments(id),
    note          TEXT NOT NULL DEFAULT '',
    uploaded_by   INTEGER REFERENCES accounts(id),
    uploaded_at   INTEGER NOT NULL
);
CREATE INDEX village_reports_village ON village_reports(village_id, period);

-- Every self-assessment report a village handed in with its application, replaced ones
-- too (`applications.report_id` is the current one): what was handed in, and when, stays.
CREATE TABLE application_reports (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    campaign_id   INTEGER NOT NULL REFERENCES campaigns(id),
    village_id    INTEGER NOT NULL REFERENCES villages(id),
    attachment_id INTEGER NOT NULL REFERENCES attachments(id),
    note          TEXT NOT NULL DEFAULT '',
    uploaded_by   INTEGER REFERENCES accounts(id),
    uploaded_at   INTEGER NOT NULL
);
CREATE INDEX application_reports_village ON application_reports(village_id, campaign_id);
