-- Case categories (issue 12): an admin-kept tree (product › area › issue). A retired
-- category keeps its cases and history but takes no new ones and is not learned from.
CREATE TABLE categories (
    id         BIGSERIAL PRIMARY KEY,
    parent_id  BIGINT REFERENCES categories (id),
    name       TEXT    NOT NULL,
    retired_at BIGINT,
    created_at BIGINT  NOT NULL,
    updated_at BIGINT  NOT NULL
);
-- Siblings have different names (0 stands for "no parent": NULLs are never equal).
CREATE UNIQUE INDEX categories_sibling ON categories ((COALESCE(parent_id, 0)), name);

-- The category staff gave a case (NULL: none yet), who and when, and what the categoriser
-- suggested: suggested_at set with suggested_category_id NULL means "uncategorised" (not
-- confident enough to name one); suggested_at NULL means not looked at yet.
ALTER TABLE cases ADD COLUMN category_id BIGINT REFERENCES categories (id);
ALTER TABLE cases ADD COLUMN categorized_by BIGINT REFERENCES users (id);
ALTER TABLE cases ADD COLUMN categorized_at BIGINT;
ALTER TABLE cases ADD COLUMN suggested_category_id BIGINT REFERENCES categories (id);
-- Confidence in basis points (0 to 10000).
ALTER TABLE cases ADD COLUMN suggestion_confidence BIGINT;
ALTER TABLE cases ADD COLUMN suggested_at BIGINT;

-- Learning reads labelled cases newest first and counts labels since the last fit.
CREATE INDEX cases_categorized ON cases (categorized_at);
-- The suggester looks for recent cases nobody has categorised or suggested for.
CREATE INDEX cases_unsuggested ON cases (suggested_at, created_at);
-- Dashboards count cases filed in a period grouped by one dimension; with every dimension
-- in the index, SQLite and PostgreSQL answer from the index alone.
CREATE INDEX cases_created_dims ON cases (created_at, category_id, partner_id, organization_id, tier, queue_id, product, channel, status);
-- Outcomes count solved cases by when they were solved; the backlog reads cases in work by age.
CREATE INDEX cases_solved ON cases (solved_at, classification);
CREATE INDEX cases_status_created ON cases (status, created_at);
-- Hand-offs and reopenings are a few kinds of event among many.
CREATE INDEX case_events_kind ON case_events (kind, case_id);
