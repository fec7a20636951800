-- Foundation: villages, accounts, sessions, campaigns, rosters (issue 2).
-- Times are Unix seconds (UTC); text is UTF-8.

-- The assessed units. `code` is the stable identifier used everywhere (draw, exports).
CREATE TABLE villages (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    code        TEXT NOT NULL UNIQUE,      -- e.g. 430527101
    name        TEXT NOT NULL,             -- e.g. 唐家坊村
    created_at  INTEGER NOT NULL
);

-- People who log in. A village operator is bound to exactly one village.
CREATE TABLE accounts (
    id                    INTEGER PRIMARY KEY AUTOINCREMENT,
    username              TEXT NOT NULL UNIQUE,
    display_name          TEXT NOT NULL,
    role                  TEXT NOT NULL CHECK (role IN ('admin', 'village', 'surveyor', 'panel')),
    village_id            INTEGER REFERENCES villages(id),
    password_hash         TEXT NOT NULL,   -- argon2id PHC string
    must_change_password  BOOLEAN NOT NULL, -- set for one-time passwords
    disabled              BOOLEAN NOT NULL DEFAULT FALSE,
    created_at            INTEGER NOT NULL,
    CHECK ((role = 'village') = (village_id IS NOT NULL))
);

-- Login sessions, kept in the database so several servers can share them.
CREATE TABLE sessions (
    token_hash  TEXT PRIMARY KEY,          -- SHA-256 hex of the cookie/bearer token; the token itself is never stored
    account_id  INTEGER NOT NULL REFERENCES accounts(id),
    csrf_token  TEXT NOT NULL,             -- per-session token every state-changing form must echo
    created_at  INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL
);
CREATE INDEX sessions_account ON sessions(account_id);

-- One assessment round of the town.
CREATE TABLE campaigns (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    name            TEXT NOT NULL,
    town            TEXT NOT NULL,
    year            INTEGER NOT NULL,
    state           TEXT NOT NULL CHECK (state IN ('collecting', 'frozen', 'drawn', 'fieldwork', 'closed', 'approved')),
    roster_version  INTEGER NOT NULL DEFAULT 0, -- bumped by every roster upload; serialises uploads against the freeze
    created_at      INTEGER NOT NULL
);

-- Every roster handed in, with its receipt. Only the current one per village keeps entries.
CREATE TABLE rosters (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    campaign_id  INTEGER NOT NULL REFERENCES campaigns(id),
    village_id   INTEGER NOT NULL REFERENCES villages(id),
    is_current   BOOLEAN NOT NULL,
    fingerprint  TEXT NOT NULL,            -- SHA-256 hex of the sorted unique phones, each + "\n"
    rows_read    INTEGER NOT NULL,
    accepted     INTEGER NOT NULL,
    invalid      INTEGER NOT NULL,
    duplicates   INTEGER NOT NULL,
    receipt      TEXT NOT NULL,            -- the receipt as JSON, exactly as given to the uploader
    file_name    TEXT NOT NULL,
    uploaded_by  INTEGER REFERENCES accounts(id), -- NULL when imported from the command line
    uploaded_at  INTEGER NOT NULL
);
CREATE UNIQUE INDEX rosters_one_current ON rosters(campaign_id, village_id) WHERE is_current;

-- The sampling frame: the accepted rows of current rosters (unique phone per roster).
CREATE TABLE roster_entries (
    roster_id     INTEGER NOT NULL REFERENCES rosters(id),
    phone         TEXT NOT NULL,           -- normalised digits
    name          TEXT,
    service       TEXT,
    service_date  TEXT,
    row_no        INTEGER NOT NULL         -- row as the spreadsheet shows it
);
CREATE INDEX roster_entries_roster ON roster_entries(roster_id);
