-- Data protection (issue 7): when a campaign's archive was exported, and when its phone
-- numbers and names were purged from the database.
ALTER TABLE campaigns ADD COLUMN archived_at INTEGER;
ALTER TABLE campaigns ADD COLUMN purged_at INTEGER;
