-- The verifiable draw (issue 3): freeze, seed, sample size, draw record and ranked lists.

-- When the rosters were frozen, and the fingerprint of the whole frame at that moment:
-- SHA-256 of the lines "<village code> <roster fingerprint>\n", sorted by village code.
ALTER TABLE campaigns ADD COLUMN frozen_at INTEGER;
ALTER TABLE campaigns ADD COLUMN frame_fingerprint TEXT;
-- The sample-size rule as written in the draw record (sampling::SizeParameters as JSON).
ALTER TABLE campaigns ADD COLUMN size_rule TEXT NOT NULL DEFAULT '{"method":"formula","margin":0.05,"confidence":0.95,"p":0.5,"z":1.96}';

-- The seed of a campaign's draw: either committed (hash) before the freeze and revealed after
-- it, or typed in after the freeze as read out at a public event.
CREATE TABLE seeds (
    campaign_id   INTEGER PRIMARY KEY REFERENCES campaigns(id),
    commitment    TEXT,                  -- lowercase hex SHA-256 of the seed, registered before the freeze
    committed_at  INTEGER,
    committed_by  INTEGER REFERENCES accounts(id),
    seed          TEXT,                  -- the trimmed seed, entered after the freeze
    source        TEXT CHECK (source IN ('reveal', 'public')),
    entered_at    INTEGER,
    entered_by    INTEGER REFERENCES accounts(id)
);

-- The published draw record (JSON; holds no phone number).
CREATE TABLE draws (
    campaign_id  INTEGER PRIMARY KEY REFERENCES campaigns(id),
    record       TEXT NOT NULL,
    drawn_at     INTEGER NOT NULL,
    drawn_by     INTEGER REFERENCES accounts(id)
);

-- Each village's ranked frame. `ranked` is exactly the text whose SHA-256 is list_sha256:
-- the phones in rank order, each followed by "\n".
CREATE TABLE draw_strata (
    campaign_id  INTEGER NOT NULL REFERENCES campaigns(id),
    village_id   INTEGER NOT NULL REFERENCES villages(id),
    population   INTEGER NOT NULL,
    size         INTEGER NOT NULL,        -- ranks 1..size are the primary sample
    fingerprint  TEXT NOT NULL,
    list_sha256  TEXT NOT NULL,
    ranked       TEXT NOT NULL,
    PRIMARY KEY (campaign_id, village_id)
);
