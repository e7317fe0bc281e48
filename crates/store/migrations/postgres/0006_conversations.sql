-- Conversations by email: mail as it arrived (stored before anything is decided about it),
-- attachments and their content, where a case or comment came from, the domains
-- organisations own, mailboxes to poll, and what the notifier has already announced.

-- A domain belongs to one organisation: unknown senders from it become its customer users.
CREATE TABLE org_domains (
    domain TEXT    PRIMARY KEY,
    org_id BIGINT NOT NULL REFERENCES organizations (id)
);
CREATE INDEX org_domains_org ON org_domains (org_id);

-- Every message received, raw, whatever became of it. `state`: pending (not yet placed),
-- placed (a case or comment), noise (auto-reply, bounce, our own), duplicate (the same
-- Message-ID was placed before), quarantined (waits for a person, with `reason`).
CREATE TABLE inbound_mail (
    id            BIGSERIAL PRIMARY KEY,
    source        TEXT    NOT NULL CHECK (source IN ('smtp', 'imap', 'pipe')),
    envelope_from TEXT,
    envelope_to   TEXT    NOT NULL DEFAULT '',
    raw           BYTEA    NOT NULL,
    size          BIGINT  NOT NULL,
    received_at   BIGINT  NOT NULL,
    state         TEXT    NOT NULL DEFAULT 'pending'
                  CHECK (state IN ('pending', 'placed', 'noise', 'duplicate', 'quarantined')),
    dedup_key     TEXT    UNIQUE,
    sender        TEXT,
    subject       TEXT,
    reason        TEXT,
    case_id       BIGINT REFERENCES cases (id),
    comment_id    BIGINT REFERENCES comments (id),
    attempts      BIGINT  NOT NULL DEFAULT 0,
    claimed_until BIGINT,
    processed_at  BIGINT
);
CREATE INDEX inbound_mail_state ON inbound_mail (state, id);
CREATE INDEX inbound_mail_sender ON inbound_mail (sender, received_at);

-- Where each case and comment came from; mail keeps a link to the message for its headers.
ALTER TABLE comments ADD COLUMN channel TEXT NOT NULL DEFAULT 'web';
ALTER TABLE comments ADD COLUMN mail_id BIGINT REFERENCES inbound_mail (id);
ALTER TABLE cases ADD COLUMN mail_id BIGINT REFERENCES inbound_mail (id);

-- File content, addressed by its SHA-256: written before the row that names it, so a
-- storage outside the database (a directory, an object store) can take its place.
CREATE TABLE blobs (
    sha256 TEXT   PRIMARY KEY,
    size   BIGINT NOT NULL,
    data   BYTEA   NOT NULL
);

-- A file on a case: on a comment, on the case itself (what came with the mail that opened
-- it), or uploaded and not yet referenced by a comment (`comment_id` NULL, `pending` 1).
CREATE TABLE attachments (
    id           BIGSERIAL PRIMARY KEY,
    case_id      BIGINT NOT NULL REFERENCES cases (id),
    comment_id   BIGINT REFERENCES comments (id),
    uploader_id  BIGINT REFERENCES users (id),
    pending      BIGINT  NOT NULL DEFAULT 0 CHECK (pending IN (0, 1)),
    public       BIGINT  NOT NULL DEFAULT 1 CHECK (public IN (0, 1)),
    file_name    TEXT    NOT NULL,
    content_type TEXT    NOT NULL,
    size         BIGINT  NOT NULL,
    sha256       TEXT    NOT NULL REFERENCES blobs (sha256),
    created_at   BIGINT  NOT NULL
);
CREATE INDEX attachments_case ON attachments (case_id, id);
CREATE INDEX attachments_comment ON attachments (comment_id);

-- Outgoing mail threads: the case it is about and the headers it carries besides the usual.
ALTER TABLE outbox ADD COLUMN case_id BIGINT REFERENCES cases (id);
ALTER TABLE outbox ADD COLUMN headers TEXT NOT NULL DEFAULT '[]';
CREATE INDEX outbox_case ON outbox (case_id);

-- People copied on a case's mail who get its public replies.
CREATE TABLE case_cc (
    case_id BIGINT NOT NULL REFERENCES cases (id),
    email   TEXT    NOT NULL,
    PRIMARY KEY (case_id, email)
);

-- Users who hear of every public change on their organisation's cases.
CREATE TABLE org_followers (
    org_id  BIGINT NOT NULL REFERENCES organizations (id),
    user_id BIGINT NOT NULL REFERENCES users (id),
    PRIMARY KEY (org_id, user_id)
);

-- What a user chose not to receive (see domain `NotificationKind`).
CREATE TABLE notification_optouts (
    user_id BIGINT NOT NULL REFERENCES users (id),
    kind    TEXT    NOT NULL,
    PRIMARY KEY (user_id, kind)
);

-- Addresses that bounced: no more mail goes to them until they write again.
CREATE TABLE mail_bounces (
    email      TEXT   PRIMARY KEY,
    reason     TEXT   NOT NULL,
    bounced_at BIGINT NOT NULL
);

-- The notifier's place in case_events: advanced in the transaction that writes the mail, by
-- compare-and-set, so with several nodes each event is announced once.
CREATE TABLE notifier_cursor (
    name          TEXT   PRIMARY KEY,
    last_event_id BIGINT NOT NULL
);
INSERT INTO notifier_cursor (name, last_event_id)
    SELECT 'case_events', COALESCE(MAX(id), 0) FROM case_events;

-- IMAP mailboxes to poll. The password is kept as given: the database is as secret as the
-- mail it holds.
CREATE TABLE mailboxes (
    id           BIGSERIAL PRIMARY KEY,
    url          TEXT    NOT NULL UNIQUE,
    password     TEXT    NOT NULL,
    uid_validity BIGINT,
    last_uid     BIGINT  NOT NULL DEFAULT 0,
    last_error   TEXT,
    polled_at    BIGINT,
    created_at   BIGINT  NOT NULL
);

-- Settings of the mail channel, one row each.
CREATE TABLE mail_settings (
    name  TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
