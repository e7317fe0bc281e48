-- Case work: macros, followers, merging, satisfaction ratings and who has a case open.

-- A saved reply and the field changes that go with it. `owner_id` NULL: shared with the team.
CREATE TABLE macros (
    id         BIGSERIAL PRIMARY KEY,
    title      TEXT    NOT NULL,
    body       TEXT    NOT NULL,
    -- `MacroActions` as JSON.
    actions    TEXT    NOT NULL,
    owner_id   BIGINT REFERENCES users (id),
    uses       BIGINT  NOT NULL DEFAULT 0,
    created_at BIGINT  NOT NULL,
    updated_at BIGINT  NOT NULL
);
CREATE INDEX macros_owner ON macros (owner_id);

-- Staff who asked to hear about a case they do not own.
CREATE TABLE case_followers (
    case_id BIGINT NOT NULL REFERENCES cases (id),
    user_id BIGINT NOT NULL REFERENCES users (id),
    PRIMARY KEY (case_id, user_id)
);

-- A merged case is closed and points to the case its conversation moved to.
ALTER TABLE cases ADD COLUMN merged_into BIGINT REFERENCES cases (id);

-- One rating per case, by its requester; changing it replaces it. `assignee_id` is who had
-- the case when it was rated, so the score stays with who did the work.
CREATE TABLE case_ratings (
    case_id     BIGINT PRIMARY KEY REFERENCES cases (id),
    rating      TEXT    NOT NULL,
    comment     TEXT,
    rated_by    BIGINT REFERENCES users (id),
    assignee_id BIGINT REFERENCES users (id),
    rated_at    BIGINT  NOT NULL
);
CREATE INDEX case_ratings_rated_at ON case_ratings (rated_at);

-- Agents with a case open right now, refreshed by their page every few seconds.
CREATE TABLE case_presence (
    case_id  BIGINT NOT NULL REFERENCES cases (id),
    user_id  BIGINT NOT NULL REFERENCES users (id),
    replying BIGINT  NOT NULL,
    seen_at  BIGINT  NOT NULL,
    PRIMARY KEY (case_id, user_id)
);
