-- Each audit entry is also marked with a key kept outside the database (src/audit_key.rs),
-- so that recomputing every hash no longer passes `minyi audit verify`.
ALTER TABLE audit_log ADD COLUMN mac TEXT;  -- HMAC-SHA256(audit key, hash), lowercase hex; NULL for entries written before the key existed
-- The audit chain's head (`<entry id>:<hash>`) when the results were published, printed on
-- the publicity so the log up to it cannot later be rewritten unnoticed.
ALTER TABLE publicity ADD COLUMN audit_head TEXT;
