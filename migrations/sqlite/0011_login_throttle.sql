-- Failed logins per account, kept in the database so that several servers behind one load
-- balancer enforce one delay (src/http/limit.rs, LoginGuard). A row exists only while an
-- account has failures to remember; a successful login, an unlock or a password reset
-- deletes it. Times are milliseconds since the Unix epoch (by the servers' clocks).
CREATE TABLE login_throttle (
    account_id       INTEGER PRIMARY KEY REFERENCES accounts(id) ON DELETE CASCADE,
    failures         INTEGER NOT NULL,  -- attempts counted since the last success or reset (each is counted before its password is checked)
    next_allowed_at  INTEGER NOT NULL,  -- no password check for the account before this time (0: none pending)
    last_failure_at  INTEGER NOT NULL   -- the last counted attempt; failures older than the forget time start afresh
);
