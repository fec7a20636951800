-- The publicity notice (公示) posted in the villages: where objections are received and who
-- issues it, set on the campaign before publication (NULL until then; publishing is refused
-- without them), and the notice's text as generated when publicity started, kept so the
-- posted text never changes afterwards.
ALTER TABLE campaigns ADD COLUMN objection_phone TEXT;    -- 受理异议电话
ALTER TABLE campaigns ADD COLUMN objection_address TEXT;  -- 受理异议地址
ALTER TABLE campaigns ADD COLUMN notice_issuer TEXT;      -- 公示发布单位, e.g. 中共某某镇纪律检查委员会
ALTER TABLE publicity ADD COLUMN notice_text TEXT;        -- the notice as published; NULL for publicity started before notices were kept
