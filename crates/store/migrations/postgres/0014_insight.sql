-- Known events for the arrival forecast (a release, a holiday, a partner's centre closing):
-- the hours they cover, `[starts_at, ends_at)`, and the lift an admin expects, in percent of
-- the usual arrivals (200 = twice as many), used until past events of the kind teach one.
CREATE TABLE staffing_events (
    id            BIGSERIAL PRIMARY KEY,
    name          TEXT    NOT NULL,
    kind          TEXT    NOT NULL,
    starts_at     BIGINT  NOT NULL,
    ends_at       BIGINT  NOT NULL,
    lift_percent  BIGINT  NOT NULL,
    created_by    BIGINT REFERENCES users (id),
    updated_at    BIGINT  NOT NULL
);
CREATE INDEX staffing_events_starts ON staffing_events (starts_at);

-- Customer success: an account is a customer or partner organisation with a success manager
-- (a staff user), a lifecycle stage and a renewal date. A row exists once someone set one.
CREATE TABLE success_accounts (
    org_id      BIGINT PRIMARY KEY REFERENCES organizations (id),
    owner_id    BIGINT REFERENCES users (id),
    stage       TEXT    NOT NULL,
    renewal_at  BIGINT,
    updated_at  BIGINT  NOT NULL
);
CREATE INDEX success_accounts_owner ON success_accounts (owner_id);

-- Playbooks, versioned: every save is a new row in playbook_versions holding the whole
-- content (situation, trigger, steps with scripts, sample emails and dialogues) as JSON;
-- `playbooks` names the current version.
CREATE TABLE playbooks (
    id          BIGSERIAL PRIMARY KEY,
    name        TEXT    NOT NULL,
    situation   TEXT    NOT NULL,
    version     BIGINT  NOT NULL,
    owner_id    BIGINT REFERENCES users (id),
    updated_at  BIGINT  NOT NULL
);
CREATE TABLE playbook_versions (
    playbook_id BIGINT NOT NULL REFERENCES playbooks (id),
    version     BIGINT  NOT NULL,
    content     TEXT    NOT NULL,
    author_id   BIGINT REFERENCES users (id),
    created_at  BIGINT  NOT NULL,
    PRIMARY KEY (playbook_id, version)
);

-- "What I needed to learn": anyone on staff suggests an addition; the playbook's owner
-- accepts or declines it.
CREATE TABLE playbook_suggestions (
    id          BIGSERIAL PRIMARY KEY,
    playbook_id BIGINT NOT NULL REFERENCES playbooks (id),
    author_id   BIGINT NOT NULL REFERENCES users (id),
    body        TEXT    NOT NULL,
    state       TEXT    NOT NULL,
    decided_by  BIGINT REFERENCES users (id),
    created_at  BIGINT  NOT NULL,
    decided_at  BIGINT
);
CREATE INDEX playbook_suggestions_playbook ON playbook_suggestions (playbook_id, id);

-- A playbook run on an account, by hand (`started_by`) or by a trigger (`reason`). The
-- trigger key makes a trigger start a playbook on an account once a day at most, even when
-- two nodes check at once.
CREATE TABLE playbook_runs (
    id          BIGSERIAL PRIMARY KEY,
    playbook_id BIGINT NOT NULL REFERENCES playbooks (id),
    version     BIGINT  NOT NULL,
    org_id      BIGINT NOT NULL REFERENCES organizations (id),
    started_by  BIGINT REFERENCES users (id),
    trigger_kind TEXT   NOT NULL,
    reason      TEXT    NOT NULL,
    trigger_key TEXT,
    outcome     TEXT,
    started_at  BIGINT  NOT NULL,
    finished_at BIGINT,
    UNIQUE (playbook_id, org_id, trigger_key)
);
CREATE INDEX playbook_runs_org ON playbook_runs (org_id, id);

-- The tasks a run creates, one per step: owner, due date, and the step's email once its owner
-- approved it (written to the outbox in the same transaction).
CREATE TABLE success_tasks (
    id            BIGSERIAL PRIMARY KEY,
    run_id        BIGINT NOT NULL REFERENCES playbook_runs (id),
    step          BIGINT  NOT NULL,
    title         TEXT    NOT NULL,
    owner_id      BIGINT NOT NULL REFERENCES users (id),
    due_at        BIGINT  NOT NULL,
    done_at       BIGINT,
    note          TEXT,
    email_to      TEXT,
    email_sent_at BIGINT
);
CREATE INDEX success_tasks_owner ON success_tasks (owner_id, done_at, due_at);
CREATE INDEX success_tasks_run ON success_tasks (run_id, step);
