-- The verifiable draw (issue 3): freeze, seed, sample size, draw record and ranked lists.

-- When the rosters were frozen, and the fingerprint of the whole frame at that moment:
-- SHA-256 of the lines "<village code> <roster fingerprint>\n", sorted by village code.
ALTER TABLE campaigns ADD COLUMN frozen_at BIGINT;
ALTER TABLE campaigns ADD COLUMN frame_fingerprint TEXT;
-- The sample-size rule as written in the draw record (sampling::SizeParameters as JSON).
ALTER TABLE campaigns ADD COLUMN size_rule TEXT NOT NULL DEFAULT '{"method":"formula","margin":0.05,"confidence":0.95,"p":0.5,"z":1.96}';

-- The seed of a campaign's draw: either committed (hash) before the freeze and revealed after
-- it, or typed in after the freeze as read out at a public event.
CREATE TABLE seeds (
    campaign_id   BIGINT PRIMARY KEY REFERENCES campaigns(id),
    commitment    TEXT,                  -- lowercase hex SHA-256 of the seed, registered before the freeze
    committed_at  BIGINT,
    committed_by  BIGINT REFERENCES accounts(id),
    seed          TEXT,                  -- the trimmed seed, entered after the freeze
    source        TEXT CHECK (source IN ('reveal', 'public')),
    entered_at    BIGINT,
    entered_by    BIGINT REFERENCES accounts(id)
);

-- The published draw record (JSON; holds no phone number).
CREATE TABLE draws (
    campaign_id  BIGINT PRIMARY KEY REFERENCES campaigns(id),
    record       TEXT NOT NULL,
    drawn_at     BIGINT NOT NULL,
    drawn_by     BIGINT REFERENCES accounts(id)
);

-- Each village's ranked frame. `ranked` is exactly the text whose SHA-256 is list_sha256:
-- the phones in rank order, each followed by "\n".
CREATE TABLE draw_strata (
    campaign_id  BIGINT NOT NULL REFERENCES campaigns(id),
    village_id   BIGINT NOT NULL REFERENCES villages(id),
    population   BIGINT NOT NULL,
    size         BIGINT NOT NULL,        -- ranks 1..size are the primary sample
    fingerprint  TEXT NOT NULL,
    list_sha256  TEXT NOT NULL,
    ranked       TEXT NOT NULL,
    PRIMARY KEY (campaign_id, village_id)
);
