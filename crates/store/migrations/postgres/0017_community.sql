-- The community: spaces of questions and answers, each public, for the signed-in, or for
-- partner technicians (all, or those of some partner kinds, or certified ones only).
CREATE TABLE community_spaces (
    id             BIGSERIAL PRIMARY KEY,
    name           TEXT    NOT NULL,
    slug           TEXT    NOT NULL UNIQUE,
    description    TEXT    NOT NULL,
    visibility     TEXT    NOT NULL,
    -- Partner spaces: the partner kinds admitted, comma-separated (empty: every kind).
    partner_kinds  TEXT    NOT NULL,
    certified_only BIGINT  NOT NULL,
    created_at     BIGINT  NOT NULL
);

-- Questions, answers and comments in one table, so moderation, the held rule and the rate
-- limit read one place. An answer's or comment's `question_id` is its thread; a comment's
-- `parent_id` the post it is on. Question-only columns stay NULL/0 on the others.
CREATE TABLE community_posts (
    id                 BIGSERIAL PRIMARY KEY,
    kind               TEXT    NOT NULL,
    space_id           BIGINT  NOT NULL REFERENCES community_spaces (id),
    question_id        BIGINT  REFERENCES community_posts (id),
    parent_id          BIGINT  REFERENCES community_posts (id),
    author_id          BIGINT  NOT NULL REFERENCES users (id),
    title              TEXT    NOT NULL,
    body               TEXT    NOT NULL,
    state              TEXT    NOT NULL,
    locked             BIGINT  NOT NULL,
    accepted_answer_id BIGINT  REFERENCES community_posts (id),
    merged_into        BIGINT  REFERENCES community_posts (id),
    case_id            BIGINT  REFERENCES cases (id),
    article_id         BIGINT  REFERENCES articles (id),
    created_at         BIGINT  NOT NULL,
    updated_at         BIGINT  NOT NULL
);
CREATE INDEX community_posts_space ON community_posts (space_id, kind, created_at);
CREATE INDEX community_posts_thread ON community_posts (question_id, id);
CREATE INDEX community_posts_author ON community_posts (author_id, created_at);

-- One vote per person and post: 1 up, -1 down.
CREATE TABLE community_votes (
    post_id    BIGINT  NOT NULL REFERENCES community_posts (id),
    user_id    BIGINT  NOT NULL REFERENCES users (id),
    value      BIGINT  NOT NULL,
    created_at BIGINT  NOT NULL,
    PRIMARY KEY (post_id, user_id)
);

-- Who hears of new answers to a question by email.
CREATE TABLE community_follows (
    question_id BIGINT  NOT NULL REFERENCES community_posts (id),
    user_id     BIGINT  NOT NULL REFERENCES users (id),
    created_at  BIGINT  NOT NULL,
    PRIMARY KEY (question_id, user_id)
);
