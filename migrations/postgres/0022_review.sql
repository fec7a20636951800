-- 两联 (seed 三(二)): the town leader who keeps in touch with the village (联系领导), shown on
-- the title register and its CSV. Optional; NULL until the commission enters it.
ALTER TABLE villages ADD COLUMN contact_leader TEXT;

-- 复核 (seed 三(三)): titled villages are re-checked every two years. A review round is a
-- campaign like any other, with `kind = 'review'`; the titles it re-checks are listed in
-- `review_titles`, and its villages enter it as accepted applications without a report.
ALTER TABLE campaigns ADD COLUMN kind TEXT NOT NULL DEFAULT 'assessment'
    CHECK (kind IN ('assessment', 'review'));
CREATE TABLE review_titles (
    campaign_id  BIGINT NOT NULL REFERENCES campaigns(id),
    title_id     BIGINT NOT NULL REFERENCES titles(id),
    PRIMARY KEY (campaign_id, title_id)
);
