-- Answers are mixed before they are stored (docs/privacy.md). A submitted answer waits in
-- `response_pool`, keyed by village only; the mixer moves a village's waiting answers to
-- `responses` in one shuffled batch once at least k of them wait, in a transaction that
-- touches nothing else, and every remaining one when fieldwork closes, when each village's
-- responses are shuffled again as one batch.

CREATE TABLE response_pool (
    id             TEXT PRIMARY KEY,       -- random: says nothing about who or when
    campaign_id    BIGINT NOT NULL REFERENCES campaigns(id),
    village_id     BIGINT NOT NULL REFERENCES villages(id),
    questionnaire  TEXT NOT NULL CHECK (questionnaire IN ('recipients', 'panel')),
    form_id        TEXT NOT NULL,
    form_version   TEXT NOT NULL,
    form_sha256    TEXT NOT NULL,
    answers        TEXT NOT NULL           -- JSON object, question id → answer
);
CREATE INDEX response_pool_village ON response_pool(campaign_id, village_id, questionnaire);

-- Responses lose how they were given (link or phone) and their date: both could be matched
-- to the call log or to the day a case was completed. Only which questionnaire remains.
-- Rows already stored are copied in random order into a new table (new xmin, new ctid),
-- so neither the old transaction ids nor the old storage order survive.
CREATE TABLE responses_mixed (
    id             TEXT PRIMARY KEY,       -- random
    campaign_id    BIGINT NOT NULL REFERENCES campaigns(id),
    village_id     BIGINT NOT NULL REFERENCES villages(id),
    questionnaire  TEXT NOT NULL CHECK (questionnaire IN ('recipients', 'panel')),
    form_id        TEXT NOT NULL,
    form_version   TEXT NOT NULL,
    form_sha256    TEXT NOT NULL,
    answers        TEXT NOT NULL           -- JSON object, question id → answer
);
INSERT INTO responses_mixed (id, campaign_id, village_id, questionnaire, form_id, form_version, form_sha256, answers)
    SELECT replace(gen_random_uuid()::text, '-', ''), campaign_id, village_id,
           CASE mode WHEN 'panel' THEN 'panel' ELSE 'recipients' END,
           form_id, form_version, form_sha256, answers
    FROM responses ORDER BY random();
DROP TABLE responses;
ALTER TABLE responses_mixed RENAME TO responses;
ALTER INDEX responses_mixed_pkey RENAME TO responses_pkey;
CREATE INDEX responses_campaign_village ON responses(campaign_id, village_id, questionnaire);
