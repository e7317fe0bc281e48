-- Partner program: agreements, routing rules and queues, training and certification, fees.
ALTER TABLE organizations ADD COLUMN relationship_manager_id BIGINT  REFERENCES users (id);
-- Until when the partner's valid certificates meet its required number (NULL: not certified).
-- Kept current whenever certificates or the agreement change; compared with the clock on read.
ALTER TABLE organizations ADD COLUMN certified_until BIGINT;

-- The agreement as a JSON document (backline_domain::partner::Agreement).
CREATE TABLE partner_agreements (
    partner_id BIGINT  PRIMARY KEY REFERENCES organizations (id),
    terms      TEXT    NOT NULL,
    updated_by BIGINT  NOT NULL REFERENCES users (id),
    updated_at BIGINT  NOT NULL
);

CREATE TABLE queues (
    id         BIGSERIAL PRIMARY KEY,
    slug       TEXT    NOT NULL UNIQUE,
    name       TEXT    NOT NULL,
    model      TEXT    NOT NULL CHECK (model IN ('tiered', 'swarm')),
    created_at BIGINT  NOT NULL
);

CREATE TABLE queue_members (
    queue_id         BIGINT  NOT NULL REFERENCES queues (id),
    user_id          BIGINT  NOT NULL REFERENCES users (id),
    skills           TEXT    NOT NULL DEFAULT '[]',
    last_assigned_at BIGINT,
    PRIMARY KEY (queue_id, user_id)
);

-- Ordered by position; the definition is backline_domain::routing::RuleDefinition as JSON.
CREATE TABLE routing_rules (
    id         BIGSERIAL PRIMARY KEY,
    position   BIGINT  NOT NULL,
    definition TEXT    NOT NULL,
    created_at BIGINT  NOT NULL,
    updated_at BIGINT  NOT NULL
);

ALTER TABLE cases ADD COLUMN queue_id BIGINT  REFERENCES queues (id);
ALTER TABLE cases ADD COLUMN routed_by_rule_id BIGINT  REFERENCES routing_rules (id);
-- What the partner stated when escalating (checklist answers, vanilla reproduction), as JSON.
ALTER TABLE cases ADD COLUMN escalation TEXT;

-- A course per product release, with its test.
CREATE TABLE courses (
    id            BIGSERIAL PRIMARY KEY,
    product       TEXT    NOT NULL,
    product_release TEXT  NOT NULL,
    title         TEXT    NOT NULL,
    material      TEXT    NOT NULL,
    questions     TEXT    NOT NULL,
    pass_mark     BIGINT  NOT NULL,
    validity_days BIGINT  NOT NULL,
    created_at    BIGINT  NOT NULL
);

CREATE TABLE test_attempts (
    id         BIGSERIAL PRIMARY KEY,
    course_id  BIGINT  NOT NULL REFERENCES courses (id),
    user_id    BIGINT  NOT NULL REFERENCES users (id),
    answers    TEXT    NOT NULL,
    score      BIGINT  NOT NULL,
    passed     BIGINT  NOT NULL CHECK (passed IN (0, 1)),
    created_at BIGINT  NOT NULL
);
CREATE INDEX test_attempts_user ON test_attempts (user_id);

CREATE TABLE certificates (
    id         BIGSERIAL PRIMARY KEY,
    user_id    BIGINT  NOT NULL REFERENCES users (id),
    course_id  BIGINT  NOT NULL REFERENCES courses (id),
    issued_at  BIGINT  NOT NULL,
    expires_at BIGINT  NOT NULL
);
CREATE INDEX certificates_user ON certificates (user_id);

-- Support fees a partner reports per period; every report is kept.
CREATE TABLE fee_reports (
    id          BIGSERIAL PRIMARY KEY,
    partner_id  BIGINT  NOT NULL REFERENCES organizations (id),
    period      TEXT    NOT NULL,
    fees_cents  BIGINT  NOT NULL,
    reported_by BIGINT  NOT NULL REFERENCES users (id),
    reported_at BIGINT  NOT NULL
);
CREATE INDEX fee_reports_partner ON fee_reports (partner_id, period, id);
