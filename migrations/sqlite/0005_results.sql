-- Results (issue 6): grades of items 1–15, the negative list, item-16 overrides, the
-- working-day calendar, publicity and objections, and the demo mark.

-- A demo campaign (made by `minyi demo`): every page shows that its data are invented.
ALTER TABLE campaigns ADD COLUMN demo BOOLEAN NOT NULL DEFAULT FALSE;

-- The grade of items 1–15 per village, with where it came from. Item 16 is computed.
CREATE TABLE item_grades (
    campaign_id  INTEGER NOT NULL REFERENCES campaigns(id),
    village_id   INTEGER NOT NULL REFERENCES villages(id),
    item         INTEGER NOT NULL CHECK (item BETWEEN 1 AND 15),
    grade        TEXT NOT NULL CHECK (grade IN ('好', '较好', '一般', '差')),
    source       TEXT NOT NULL CHECK (source IN ('self', 'commission', 'onsite')), -- 自评, 镇纪委, 实地考核组
    note         TEXT NOT NULL DEFAULT '',
    entered_by   INTEGER REFERENCES accounts(id),
    entered_at   INTEGER NOT NULL,
    PRIMARY KEY (campaign_id, village_id, item)
);

-- Negative-list situations (item 15, ①–⑧) found in a village, each with a note.
CREATE TABLE negative_findings (
    campaign_id  INTEGER NOT NULL REFERENCES campaigns(id),
    village_id   INTEGER NOT NULL REFERENCES villages(id),
    situation    INTEGER NOT NULL CHECK (situation BETWEEN 1 AND 8),
    note         TEXT NOT NULL,
    entered_by   INTEGER REFERENCES accounts(id),
    entered_at   INTEGER NOT NULL,
    PRIMARY KEY (campaign_id, village_id, situation)
);

-- The commission's overrides of item 16's computed grade, every one kept: the latest row
-- of a village is in force; a row with grade NULL withdraws the override.
CREATE TABLE item16_overrides (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    campaign_id  INTEGER NOT NULL REFERENCES campaigns(id),
    village_id   INTEGER NOT NULL REFERENCES villages(id),
    grade        TEXT CHECK (grade IN ('好', '较好', '一般', '差')),
    reason       TEXT NOT NULL CHECK (length(trim(reason)) > 0),
    entered_by   INTEGER REFERENCES accounts(id),
    entered_at   INTEGER NOT NULL
);
CREATE INDEX item16_overrides_village ON item16_overrides(campaign_id, village_id);

-- The administrator's calendar: public holidays and adjusted working weekends (调休).
-- Days not listed follow the week: Monday–Friday work, Saturday and Sunday rest.
CREATE TABLE calendar_days (
    day   TEXT PRIMARY KEY,                -- YYYY-MM-DD
    kind  TEXT NOT NULL CHECK (kind IN ('holiday', 'workday')),
    name  TEXT NOT NULL DEFAULT ''
);

-- The publicity (公示) of a campaign's results: 7 working days from start_date to end_date.
-- Publishing lets each village see its own aggregates; approval comes after end_date.
CREATE TABLE publicity (
    campaign_id   INTEGER PRIMARY KEY REFERENCES campaigns(id),
    start_date    TEXT NOT NULL,
    end_date      TEXT NOT NULL,
    published_at  INTEGER NOT NULL,
    published_by  INTEGER REFERENCES accounts(id),
    approved_at   INTEGER,
    approved_by   INTEGER REFERENCES accounts(id)
);

-- Objections received during publicity, and how each was resolved.
CREATE TABLE objections (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    campaign_id   INTEGER NOT NULL REFERENCES campaigns(id),
    village_id    INTEGER REFERENCES villages(id),  -- NULL: about the campaign as a whole
    received_on   TEXT NOT NULL,                    -- YYYY-MM-DD
    summary       TEXT NOT NULL,
    recorded_by   INTEGER REFERENCES accounts(id),
    recorded_at   INTEGER NOT NULL,
    resolution    TEXT,                             -- NULL while unresolved
    resolved_by   INTEGER REFERENCES accounts(id),
    resolved_at   INTEGER
);
CREATE INDEX objections_campaign ON objections(campaign_id);
