-- Questionnaires (issue 4): pinned forms, released cases, invitations with single-use links,
-- responses that cannot be joined back to anyone, and the panel.

ALTER TABLE campaigns ADD COLUMN fieldwork_started_at INTEGER;

-- The form files a campaign uses, copied when its fieldwork starts: editing survey-forms/
-- later does not change a running campaign.
CREATE TABLE campaign_forms (
    campaign_id  INTEGER NOT NULL REFERENCES campaigns(id),
    role         TEXT NOT NULL CHECK (role IN ('recipients', 'panel', 'scheme')),
    form_id      TEXT NOT NULL,
    version      TEXT NOT NULL,
    sha256       TEXT NOT NULL,           -- of the file's exact bytes
    source       TEXT NOT NULL,           -- the file's text
    PRIMARY KEY (campaign_id, role)
);

-- A released member of the sample: someone the surveyor may contact.
CREATE TABLE cases (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    campaign_id     INTEGER NOT NULL REFERENCES campaigns(id),
    village_id      INTEGER NOT NULL REFERENCES villages(id),
    rank            INTEGER NOT NULL,      -- position in the village's ranked list
    phone           TEXT NOT NULL,
    name            TEXT,
    released_at     INTEGER NOT NULL,
    release_reason  TEXT NOT NULL,         -- 'primary', or why a reserve rank was released
    status          TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'completed', 'refused')),
    UNIQUE (campaign_id, village_id, rank)
);

-- One invitation per case. Used once: by a response or a refusal through the link, or voided
-- when the case is answered by phone. Only whether, never when: a date could be matched to
-- the response's date.
CREATE TABLE invitations (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    case_id       INTEGER NOT NULL UNIQUE REFERENCES cases(id),
    first_sent_at INTEGER,                 -- when its first link went into an SMS outbox
    last_sent_at  INTEGER,                 -- when its latest link (invitation or reminder) did
    used          BOOLEAN NOT NULL DEFAULT FALSE, -- the link was used (answered or declined)
    voided        BOOLEAN NOT NULL DEFAULT FALSE
);

-- The links' tokens, as SHA-256 only. A reminder adds a token; any of them works once.
CREATE TABLE invitation_tokens (
    token_hash     TEXT PRIMARY KEY,
    invitation_id  INTEGER NOT NULL REFERENCES invitations(id),
    created_at     INTEGER NOT NULL
);
CREATE INDEX invitation_tokens_invitation ON invitation_tokens(invitation_id);

-- Answers. No reference to the invitation, the case, the phone or the rank, and only the
-- date: a response cannot be joined back to the person. The random id and WITHOUT ROWID
-- keep even the storage order from following the order of submission.
CREATE TABLE responses (
    id            TEXT PRIMARY KEY,        -- random
    campaign_id   INTEGER NOT NULL REFERENCES campaigns(id),
    village_id    INTEGER NOT NULL REFERENCES villages(id),
    form_id       TEXT NOT NULL,
    form_version  TEXT NOT NULL,
    form_sha256   TEXT NOT NULL,
    mode          TEXT NOT NULL CHECK (mode IN ('self', 'phone', 'panel')),
    answers       TEXT NOT NULL,           -- JSON object, question id → answer
    answered_on   TEXT NOT NULL            -- YYYY-MM-DD
) WITHOUT ROWID;
CREATE INDEX responses_campaign_village ON responses(campaign_id, village_id);

-- The panel (两代表一委员) of a campaign. Each member has a personal link.
CREATE TABLE panel_members (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    campaign_id  INTEGER NOT NULL REFERENCES campaigns(id),
    name         TEXT NOT NULL,
    category     TEXT NOT NULL CHECK (category IN ('党代表', '人大代表', '政协委员', '其他')),
    phone        TEXT,
    token_hash   TEXT UNIQUE,              -- SHA-256 of the personal link's token; NULL until issued
    created_at   INTEGER NOT NULL
);

-- Which villages a panel member has rated (one rating per member per village). The rating
-- itself is a response row, not linked to the member.
CREATE TABLE panel_ratings (
    panel_member_id  INTEGER NOT NULL REFERENCES panel_members(id),
    village_id       INTEGER NOT NULL REFERENCES villages(id),
    PRIMARY KEY (panel_member_id, village_id)
);
