-- The agent workspace: service-level policies and their clocks, and saved case views.

-- Working hours and holidays, kept as the `CalendarSpec` JSON admins wrote.
CREATE TABLE sla_calendars (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    name       TEXT    NOT NULL UNIQUE,
    spec       TEXT    NOT NULL,
    updated_at BIGINT  NOT NULL
);

-- The first policy (by position) whose conditions match a case sets its targets.
CREATE TABLE sla_policies (
    id                  INTEGER PRIMARY KEY AUTOINCREMENT,
    name                TEXT    NOT NULL UNIQUE,
    position            BIGINT  NOT NULL,
    conditions          TEXT    NOT NULL,
    -- NULL: the clock runs around the clock.
    calendar_id         INTEGER REFERENCES sla_calendars (id),
    first_reply_minutes BIGINT,
    next_reply_minutes  BIGINT,
    resolution_minutes  BIGINT,
    warn_minutes        BIGINT  NOT NULL,
    updated_at          BIGINT  NOT NULL
);

-- Each running or finished clock of a case, as last evaluated.
CREATE TABLE case_sla (
    case_id      INTEGER NOT NULL REFERENCES cases (id),
    metric       TEXT    NOT NULL,
    policy_id    INTEGER REFERENCES sla_policies (id),
    started_at   BIGINT  NOT NULL,
    target_ms    BIGINT  NOT NULL,
    elapsed_ms   BIGINT  NOT NULL,
    due_at       BIGINT,
    paused       BIGINT  NOT NULL CHECK (paused IN (0, 1)),
    fulfilled_at BIGINT,
    breached_at  BIGINT,
    state        TEXT    NOT NULL,
    PRIMARY KEY (case_id, metric)
);

ALTER TABLE cases ADD COLUMN sla_policy_id INTEGER REFERENCES sla_policies (id);
-- The soonest due moment of the case's running clocks, and their worst state, for lists.
ALTER TABLE cases ADD COLUMN sla_due_at BIGINT;
ALTER TABLE cases ADD COLUMN sla_state TEXT;
-- When the clocks must be looked at again: set to the moment of every change to the case (so
-- the background sweep evaluates it at once), then to the next warning or breach.
ALTER TABLE cases ADD COLUMN sla_check_at BIGINT;
UPDATE cases SET sla_check_at = 0 WHERE status NOT IN ('solved', 'closed');
CREATE INDEX cases_sla_check ON cases (sla_check_at);
-- "What needs attention first": breach soonest, then the latest update.
CREATE INDEX cases_attention ON cases ((COALESCE(sla_due_at, 9223372036854775807)), updated_at);
CREATE INDEX cases_updated ON cases (updated_at);

-- Case lists saved from the query language; `owner_id` NULL shares one with every agent.
CREATE TABLE case_views (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    name       TEXT    NOT NULL,
    query      TEXT    NOT NULL,
    sort       TEXT    NOT NULL,
    owner_id   INTEGER REFERENCES users (id),
    created_by INTEGER NOT NULL REFERENCES users (id),
    created_at BIGINT  NOT NULL
);
CREATE INDEX case_views_owner ON case_views (owner_id);
