-- Known-issue suggestions worked out when a case or the knowledge changes, instead of on every
-- view of the case page. A stored list is used only while it is current: worked out under the
-- present knowledge generation, the case's present stamp, and for the case's present text.

-- One list per case and sight (`Visibility::key`: every reader who sees exactly the same shares
-- it, so staff share one list and each customer organisation another).
CREATE TABLE case_suggestions (
    case_id     INTEGER NOT NULL REFERENCES cases (id),
    sight       TEXT    NOT NULL,
    -- `knowledge_generation.generation` when it was worked out.
    generation  BIGINT  NOT NULL,
    -- `suggestion_stamps.stamp` of the case (0 when it has none) when it was worked out.
    stamp       BIGINT  NOT NULL,
    -- A fingerprint of the case text it was worked out for.
    input_hash  BIGINT  NOT NULL,
    -- The suggestions, best first, as JSON.
    suggestions TEXT    NOT NULL,
    computed_at BIGINT  NOT NULL,
    PRIMARY KEY (case_id, sight)
);

-- Moves when something new may answer the case (a similar case was solved or reopened).
CREATE TABLE suggestion_stamps (
    case_id INTEGER PRIMARY KEY REFERENCES cases (id),
    stamp   BIGINT  NOT NULL
);

-- Moves when any article changes: every stored list becomes stale at once and is worked out
-- again when next asked for.
CREATE TABLE knowledge_generation (
    id         BIGINT PRIMARY KEY CHECK (id = 1),
    generation BIGINT NOT NULL
);
INSERT INTO knowledge_generation (id, generation) VALUES (1, 0);
