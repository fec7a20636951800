-- Answers are mixed before they are stored (docs/privacy.md). A submitted answer waits in
-- `response_pool`, keyed by village only; the mixer moves a village's waiting answers to
-- `responses` in one shuffled batch once at least k of them wait, in a transaction that
-- touches nothing else, and every remaining one when fieldwork closes, when each village's
-- responses are shuffled again as one batch.

CREATE TABLE response_pool (
    id             TEXT PRIMARY KEY,       -- random: says nothing about who or when
    campaign_id    INTEGER NOT NULL REFERENCES campaigns(id),
    village_id     INTEGER NOT NULL REFERENCES villages(id),
    questionnaire  TEXT NOT NULL CHECK (questionnaire IN ('recipients', 'panel')),
    form_id        TEXT NOT NULL,
    form_version   TEXT NOT NULL,
    form_sha256    TEXT NOT NULL,
    answers        TEXT NOT NULL           -- JSON object, question id → answer
) WITHOUT ROWID;
CREATE INDEX response_pool_village ON response_pool(campaign_id, village_id, questionnaire);

-- Responses lose how they were given (link or phone) and their date: both could be matched
-- to the call log or to the day a case was completed. Only which questionnaire remains.
-- Rows already stored are copied in random order, so the old storage order goes too.
CREATE TABLE responses_mixed (
    id             TEXT NOT NULL,          -- random
    campaign_id    INTEGER NOT NULL REFERENCES campaigns(id),
    village_id     INTEGER NOT NULL REFERENCES villages(id),
    questionnaire  TEXT NOT NULL CHECK (questionnaire IN ('recipients', 'panel')),
    form_id        TEXT NOT NULL,
    form_version   TEXT NOT NULL,
    form_sha256    TEXT NOT NULL,
    answers        TEXT NOT NULL           -- JSON object, question id → answer
);
-- A rowid table: the mixer appends each shuffled batch at the end, so the storage order
-- says which batch an answer came in (a set of at least k of its village), never more;
-- random-keyed inserts into a large table would cost a page write per answer.
INSERT INTO responses_mixed (id, campaign_id, village_id, questionnaire, form_id, form_version, form_sha256, answers)
    SELECT lower(hex(randomblob(16))), campaign_id, village_id,
           CASE mode WHEN 'panel' THEN 'panel' ELSE 'recipients' END,
           form_id, form_version, form_sha256, answers
    FROM responses ORDER BY random();
DROP TABLE responses;
ALTER TABLE responses_mixed RENAME TO responses;
CREATE INDEX responses_campaign_village ON responses(campaign_id, village_id, questionnaire);
