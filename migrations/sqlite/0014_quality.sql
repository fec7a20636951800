-- Quality checks against coaching and padded rosters (docs/fieldwork.md, 质量检查与回访).

-- How long the respondent took, as a bucket computed when the answer is submitted: never
-- a time of day, never the seconds themselves (a timestamp could be matched to the call log
-- or to the moment a case was completed). Answers stored before this have no bucket.
ALTER TABLE response_pool ADD COLUMN duration TEXT NOT NULL DEFAULT 'unknown'
    CHECK (duration IN ('under_1m', '1_3m', '3_10m', 'over_10m', 'unknown'));
ALTER TABLE responses ADD COLUMN duration TEXT NOT NULL DEFAULT 'unknown'
    CHECK (duration IN ('under_1m', '1_3m', '3_10m', 'over_10m', 'unknown'));

-- 回访: the surveyor calls back a seeded random subsample of completed cases to confirm
-- they took part (never what they answered). One row per case called back, its latest
-- outcome; each recording is an audited operation (`callback.record`).
CREATE TABLE callbacks (
    case_id      INTEGER PRIMARY KEY REFERENCES cases(id),
    campaign_id  INTEGER NOT NULL REFERENCES campaigns(id),
    outcome      TEXT NOT NULL CHECK (outcome IN ('confirmed', 'denied', 'unreachable')),
    recorded_at  INTEGER NOT NULL,         -- when the outcome was recorded (not an answer's time)
    recorded_by  INTEGER REFERENCES accounts(id)
);
CREATE INDEX callbacks_campaign ON callbacks(campaign_id);
