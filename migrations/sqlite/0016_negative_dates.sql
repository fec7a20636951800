-- The negative list counts only what happened from one year before the creation started
-- through the campaign: each ticked situation records the date of the event. Situation ⑥
-- (信访举报量大得不到有效解决) records the number of petitions and reports and how many were
-- resolved. Rows ticked before this have no date and count, as they did.
ALTER TABLE negative_findings ADD COLUMN event_date TEXT;
ALTER TABLE negative_findings ADD COLUMN petitions INTEGER CHECK (petitions >= 0);
ALTER TABLE negative_findings ADD COLUMN petitions_resolved INTEGER
    CHECK (petitions_resolved >= 0 AND petitions_resolved <= petitions);
