-- A link can be issued again (the outbox file was lost, a resident deleted the SMS): the new
-- token replaces the old ones, which then only say that the link is no longer in use.
ALTER TABLE invitation_tokens ADD COLUMN superseded_at INTEGER;
