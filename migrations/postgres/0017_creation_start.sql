-- The day the village's creation (创建) started, set by the commission. The negative list
-- counts what happened from one year before it (seed clause 15: 创建启动前一年以及创建期间);
-- a campaign without it counts from one year before the campaign was created.
ALTER TABLE campaigns ADD COLUMN creation_started_on TEXT;
