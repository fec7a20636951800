-- Grades from every source side by side (seed 二(二)4): the village's self-assessment
-- (村自评), the town discipline commission's opinion (镇纪委意见), the on-site assessment
-- group's (考核验收评估组) and the leading group's final grade (领导小组最终评定). Every entry
-- is kept; the newest of a campaign, village, item and source is in force, and the final
-- grade in force is what the verdict reads.
CREATE TABLE grade_entries (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    campaign_id  INTEGER NOT NULL REFERENCES campaigns(id),
    village_id   INTEGER NOT NULL REFERENCES villages(id),
    item         INTEGER NOT NULL CHECK (item BETWEEN 1 AND 15),
    source       TEXT NOT NULL CHECK (source IN ('self', 'commission', 'group', 'final')),
    grade        TEXT CHECK (grade IN ('好', '较好', '一般', '差')),  -- NULL: this source's grade withdrawn
    note         TEXT NOT NULL DEFAULT '',  -- a note; for `final`, the reason it differs
    entered_by   INTEGER REFERENCES accounts(id),
    entered_at   INTEGER NOT NULL
);
CREATE INDEX grade_entries_village ON grade_entries(campaign_id, village_id, item, source);

-- Grades entered before sources were kept apart (one row per item in item_grades, whatever
-- its label) were the grades in force: they become the first final entries, so every
-- verdict stays as it was. item_grades keeps those rows with their old labels and is no
-- longer written.
INSERT INTO grade_entries (campaign_id, village_id, item, source, grade, note, entered_by, entered_at)
    SELECT campaign_id, village_id, item, 'final', grade, note, entered_by, entered_at
    FROM item_grades ORDER BY campaign_id, village_id, item;

-- The assessment group's written report on a village (逐项写出详细的情况报告): text and an
-- optional file; every version kept, the newest in force.
CREATE TABLE group_reports (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    campaign_id    INTEGER NOT NULL REFERENCES campaigns(id),
    village_id     INTEGER NOT NULL REFERENCES villages(id),
    text           TEXT NOT NULL,
    attachment_id  INTEGER REFERENCES attachments(id),
    entered_by     INTEGER REFERENCES accounts(id),
    entered_at     INTEGER NOT NULL
);
CREATE INDEX group_reports_village ON group_reports(campaign_id, village_id);
