-- The proposed list (拟评定名单), its publicity, objections decided, and the decisions per
-- village (seed 二(二)4: 公示无异议 → 镇纪委研究 → 报镇党委批准).
--
-- Before publicity the list is the villages whose verdict passes, changed by the 领导小组's
-- adjustments (each kept, with its reason). Publishing freezes it: the rows of
-- `proposed_list` for the period in force are exactly what the notice lists. Changing the
-- list during publicity restarts publicity: a new period (publicity.period + 1) with its own
-- rows and notice; the period it replaces is kept in `publicity_history`.

-- How many years a title granted in this campaign holds (the creation cycle, 三(三)).
ALTER TABLE campaigns ADD COLUMN title_years INTEGER NOT NULL DEFAULT 2;

-- The period in force: 1 for the first publicity, one more at each restart; whether the
-- list was frozen at publication (FALSE for publicity started before the list existed).
ALTER TABLE publicity ADD COLUMN period INTEGER NOT NULL DEFAULT 1;
ALTER TABLE publicity ADD COLUMN list_frozen BOOLEAN NOT NULL DEFAULT FALSE;

-- Publicity periods replaced by a restart, with the notice that was posted then.
CREATE TABLE publicity_history (
    campaign_id    INTEGER NOT NULL REFERENCES campaigns(id),
    period         INTEGER NOT NULL,
    start_date     TEXT NOT NULL,
    end_date       TEXT NOT NULL,
    notice_text    TEXT,
    audit_head     TEXT,                    -- the audit chain's head when it began
    published_at   INTEGER NOT NULL,
    superseded_at  INTEGER NOT NULL,        -- when the restart replaced it
    superseded_by  INTEGER REFERENCES accounts(id),
    PRIMARY KEY (campaign_id, period)
);

-- The frozen list of each publicity period. A village removed because an objection about
-- it was upheld keeps its row, marked with the objection (no restart).
CREATE TABLE proposed_list (
    campaign_id   INTEGER NOT NULL REFERENCES campaigns(id),
    period        INTEGER NOT NULL,
    village_id    INTEGER NOT NULL REFERENCES villages(id),
    removed_by_objection INTEGER REFERENCES objections(id),
    PRIMARY KEY (campaign_id, period, village_id)
);

-- The 领导小组's changes to the list, never deleted. `period` NULL: before publicity; else
-- the publicity period this change started (a restart).
CREATE TABLE proposed_adjustments (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    campaign_id  INTEGER NOT NULL REFERENCES campaigns(id),
    village_id   INTEGER NOT NULL REFERENCES villages(id),
    action       TEXT NOT NULL CHECK (action IN ('add', 'remove')),
    reason       TEXT NOT NULL CHECK (length(trim(reason)) > 0),
    period       INTEGER,
    adjusted_by  INTEGER REFERENCES accounts(id),
    adjusted_at  INTEGER NOT NULL
);
CREATE INDEX proposed_adjustments_campaign ON proposed_adjustments(campaign_id);

-- An objection is decided upheld (属实) or dismissed (不属实), its reason in `resolution`;
-- rows resolved before decisions existed keep decision NULL (shown as 已处理).
ALTER TABLE objections ADD COLUMN decision TEXT CHECK (decision IN ('upheld', 'dismissed'));

-- Per village on the final list: the 镇纪委's study, then the 镇党委's decision (approved,
-- which grants the title, or declined with a reason).
CREATE TABLE village_decisions (
    campaign_id    INTEGER NOT NULL REFERENCES campaigns(id),
    village_id     INTEGER NOT NULL REFERENCES villages(id),
    studied_on     TEXT NOT NULL,            -- YYYY-MM-DD, 镇纪委研究日期
    study_ref      TEXT NOT NULL,            -- 会议纪要编号
    studied_by     INTEGER REFERENCES accounts(id),
    studied_at     INTEGER NOT NULL,
    outcome        TEXT CHECK (outcome IN ('approved', 'declined')),  -- NULL until 镇党委 decides
    decided_on     TEXT,                     -- YYYY-MM-DD
    decision_ref   TEXT,                     -- 镇党委批准文号 (approved)
    decline_reason TEXT,                     -- why not approved (declined)
    decided_by     INTEGER REFERENCES accounts(id),
    decided_at     INTEGER,
    PRIMARY KEY (campaign_id, village_id),
    CHECK (outcome IS NULL OR decided_on IS NOT NULL),
    CHECK (outcome IS NULL OR outcome = 'declined' OR length(trim(decision_ref)) > 0),
    CHECK (outcome IS NULL OR outcome = 'approved' OR length(trim(decline_reason)) > 0)
);
