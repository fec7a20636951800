-- Request counts per survey or panel link, and for unknown tokens, shared by every server on
-- the database so that N servers enforce one limit (src/http/limit.rs). Each server counts in
-- memory and adds its counts here about once a second.
--
-- `key` is never the token hash that `invitations` stores: it is a hash of the token under its
-- own label (crate::secrets::limit_key), which cannot be computed from the database, so a row
-- here cannot be joined to an invitation. Deleted rows are zeroed (secure_delete).
CREATE TABLE rate_counts (
    key         TEXT PRIMARY KEY,
    hits        INTEGER NOT NULL,  -- requests counted in the current window, by all servers
    expires_at  INTEGER NOT NULL   -- the window ends (and the count restarts) at this time, ms since the Unix epoch
) WITHOUT ROWID;
