-- The notice shown to respondents (PIPL Art. 17): who runs the survey for the commission,
-- how a respondent checks a call is genuine, where their number came from, how long it is
-- kept, and whom to ask to exercise their rights. Set by the commission administrator;
-- empty until then (the campaign page warns while the party or the phone is missing).
ALTER TABLE campaigns ADD COLUMN notice_party TEXT NOT NULL DEFAULT '';      -- 第三方机构名称
ALTER TABLE campaigns ADD COLUMN notice_phone TEXT NOT NULL DEFAULT '';      -- 核实电话
ALTER TABLE campaigns ADD COLUMN notice_source TEXT NOT NULL DEFAULT '您的电话号码由本村（社区）在办理事项时登记，提供给镇纪委委托的第三方用于本次调查'; -- 号码来源说明
ALTER TABLE campaigns ADD COLUMN notice_retention TEXT NOT NULL DEFAULT '评定结果批准后删除全部电话号码和答卷与电话的对应关系'; -- 保存期限
ALTER TABLE campaigns ADD COLUMN notice_contact TEXT NOT NULL DEFAULT '';    -- 权利联系方式
