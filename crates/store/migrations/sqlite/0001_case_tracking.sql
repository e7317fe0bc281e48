-- Case tracking core. Times are Unix milliseconds in UTC.
CREATE TABLE organizations (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    slug            TEXT    NOT NULL UNIQUE,
    name            TEXT    NOT NULL,
    kind            TEXT    NOT NULL CHECK (kind IN ('customer', 'partner')),
    partner_kinds   TEXT    NOT NULL DEFAULT '',
    technical_level TEXT,
    served_by_id    INTEGER REFERENCES organizations (id),
    created_at      BIGINT  NOT NULL,
    updated_at      BIGINT  NOT NULL
);
CREATE INDEX organizations_served_by ON organizations (served_by_id);

CREATE TABLE users (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    email         TEXT    NOT NULL UNIQUE,
    name          TEXT    NOT NULL,
    role          TEXT    NOT NULL CHECK (role IN ('admin', 'agent', 'partner', 'customer')),
    org_id        INTEGER REFERENCES organizations (id),
    tier          BIGINT,
    password_hash TEXT,
    created_at    BIGINT  NOT NULL
);
CREATE INDEX users_org ON users (org_id);

CREATE TABLE api_tokens (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id      INTEGER NOT NULL REFERENCES users (id),
    token_hash   TEXT    NOT NULL UNIQUE,
    created_at   BIGINT  NOT NULL
);

CREATE TABLE web_sessions (
    token_hash TEXT    PRIMARY KEY,
    user_id    INTEGER NOT NULL REFERENCES users (id),
    csrf_token TEXT    NOT NULL,
    created_at BIGINT  NOT NULL,
    expires_at BIGINT  NOT NULL
);

CREATE TABLE cases (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    subject         TEXT    NOT NULL,
    description     TEXT    NOT NULL,
    status          TEXT    NOT NULL,
    priority        TEXT    NOT NULL,
    tier            BIGINT  NOT NULL,
    product         TEXT,
    channel         TEXT    NOT NULL,
    tags            TEXT    NOT NULL DEFAULT '[]',
    organization_id INTEGER NOT NULL REFERENCES organizations (id),
    requester_id    INTEGER NOT NULL REFERENCES users (id),
    assignee_id     INTEGER REFERENCES users (id),
    partner_id      INTEGER REFERENCES organizations (id),
    created_at      BIGINT  NOT NULL,
    updated_at      BIGINT  NOT NULL,
    solved_at       BIGINT
);
-- The list queries page by id within a visibility scope.
CREATE INDEX cases_org ON cases (organization_id, id);
CREATE INDEX cases_partner ON cases (partner_id, id);
CREATE INDEX cases_assignee ON cases (assignee_id, id);
CREATE INDEX cases_status ON cases (status, id);

CREATE TABLE comments (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    case_id    INTEGER NOT NULL REFERENCES cases (id),
    author_id  INTEGER NOT NULL REFERENCES users (id),
    body       TEXT    NOT NULL,
    public     BIGINT  NOT NULL CHECK (public IN (0, 1)), -- 0/1: sqlx Any has no SQLite boolean
    created_at BIGINT  NOT NULL
);
CREATE INDEX comments_case ON comments (case_id, id);

CREATE TABLE case_events (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    case_id    INTEGER NOT NULL REFERENCES cases (id),
    actor_id   INTEGER REFERENCES users (id),
    kind       TEXT    NOT NULL,
    data       TEXT    NOT NULL,
    created_at BIGINT  NOT NULL
);
CREATE INDEX case_events_case ON case_events (case_id, id);
