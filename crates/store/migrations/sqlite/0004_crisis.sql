-- Crisis management: the service catalogue and who uses what, the roster, signals, incidents
-- with their updates and post-mortems, message templates, status-page subscriptions, and the
-- outbox every email goes through.
CREATE TABLE services (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    slug       TEXT    NOT NULL UNIQUE,
    name       TEXT    NOT NULL,
    kind       TEXT    NOT NULL,
    group_name TEXT    NOT NULL DEFAULT '',
    created_at BIGINT  NOT NULL
);

CREATE TABLE service_usage (
    org_id     INTEGER NOT NULL REFERENCES organizations (id),
    service_id INTEGER NOT NULL REFERENCES services (id),
    PRIMARY KEY (org_id, service_id)
);
CREATE INDEX service_usage_service ON service_usage (service_id);

CREATE TABLE roster (
    id    INTEGER PRIMARY KEY AUTOINCREMENT,
    role  TEXT    NOT NULL,
    name  TEXT    NOT NULL,
    email TEXT    NOT NULL,
    phone TEXT    NOT NULL DEFAULT ''
);

-- Alerts about one service (or one Alertmanager group) gathered while they keep coming.
CREATE TABLE signal_groups (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    service_id  INTEGER REFERENCES services (id),
    group_key   TEXT    NOT NULL,
    title       TEXT    NOT NULL,
    state       TEXT    NOT NULL CHECK (state IN ('open', 'declared', 'dismissed')),
    signals     BIGINT  NOT NULL,
    firing      BIGINT  NOT NULL,
    first_at    BIGINT  NOT NULL,
    last_at     BIGINT  NOT NULL,
    incident_id INTEGER
);
CREATE INDEX signal_groups_open ON signal_groups (state, group_key);

CREATE TABLE signals (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    group_id    INTEGER NOT NULL REFERENCES signal_groups (id),
    source      TEXT    NOT NULL,
    status      TEXT    NOT NULL,
    title       TEXT    NOT NULL,
    detail      TEXT    NOT NULL,
    reported_by INTEGER REFERENCES users (id),
    received_at BIGINT  NOT NULL
);

CREATE TABLE incidents (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    title           TEXT    NOT NULL,
    impact          TEXT    NOT NULL,
    nature          TEXT    NOT NULL,
    state           TEXT    NOT NULL,
    eta             TEXT    NOT NULL DEFAULT '',
    next_update_at  BIGINT,
    last_update_at  BIGINT  NOT NULL,
    long_resolution BIGINT  NOT NULL DEFAULT 0,
    overdue         BIGINT  NOT NULL DEFAULT 0,
    hourly_breach   BIGINT  NOT NULL DEFAULT 0,
    reminded_for    BIGINT,
    dry_run         BIGINT  NOT NULL DEFAULT 0,
    public          BIGINT  NOT NULL DEFAULT 1,
    declared_by     INTEGER NOT NULL REFERENCES users (id),
    declared_at     BIGINT  NOT NULL,
    resolved_at     BIGINT
);

CREATE TABLE incident_services (
    incident_id INTEGER NOT NULL REFERENCES incidents (id),
    service_id  INTEGER NOT NULL REFERENCES services (id),
    PRIMARY KEY (incident_id, service_id)
);

-- The timeline: declaration, updates, reminders, flags, post-mortem steps.
CREATE TABLE incident_events (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    incident_id INTEGER NOT NULL REFERENCES incidents (id),
    kind        TEXT    NOT NULL,
    state       TEXT,
    message     TEXT    NOT NULL DEFAULT '',
    data        TEXT    NOT NULL DEFAULT '{}',
    actor_id    INTEGER REFERENCES users (id),
    created_at  BIGINT  NOT NULL
);
CREATE INDEX incident_events_incident ON incident_events (incident_id, id);

CREATE TABLE postmortems (
    incident_id      INTEGER PRIMARY KEY REFERENCES incidents (id),
    summary          TEXT    NOT NULL DEFAULT '',
    root_cause       TEXT    NOT NULL DEFAULT '',
    category         TEXT    NOT NULL DEFAULT '',
    action_items     TEXT    NOT NULL DEFAULT '[]',
    internal_report  TEXT    NOT NULL DEFAULT '',
    customer_edition TEXT    NOT NULL DEFAULT '',
    due_at           BIGINT  NOT NULL,
    executive_review BIGINT  NOT NULL DEFAULT 0,
    published_at     BIGINT,
    updated_at       BIGINT  NOT NULL
);

CREATE TABLE templates (
    kind       TEXT    PRIMARY KEY,
    subject    TEXT    NOT NULL,
    body       TEXT    NOT NULL,
    updated_at BIGINT  NOT NULL
);

CREATE TABLE status_subscriptions (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    email        TEXT    NOT NULL,
    service_id   INTEGER NOT NULL REFERENCES services (id),
    -- One token per subscribe request: it confirms, and unsubscribes, the request's services.
    token        TEXT    NOT NULL,
    confirmed_at BIGINT,
    created_at   BIGINT  NOT NULL,
    UNIQUE (email, service_id)
);
CREATE INDEX status_subscriptions_token ON status_subscriptions (token);

-- Every outgoing email, written in the transaction of the change that causes it and sent by
-- the mail worker: claimed for a while by one node, marked sent once the server accepted it.
CREATE TABLE outbox (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    recipient       TEXT    NOT NULL,
    subject         TEXT    NOT NULL,
    body            TEXT    NOT NULL,
    kind            TEXT    NOT NULL,
    incident_id     INTEGER REFERENCES incidents (id),
    created_at      BIGINT  NOT NULL,
    attempts        BIGINT  NOT NULL DEFAULT 0,
    next_attempt_at BIGINT  NOT NULL,
    claimed_until   BIGINT,
    sent_at         BIGINT,
    failed_at       BIGINT,
    last_error      TEXT
);
CREATE INDEX outbox_due ON outbox (sent_at, next_attempt_at);
CREATE INDEX outbox_incident ON outbox (incident_id);
