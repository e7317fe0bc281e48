-- The help centre: categories and sections staff arrange articles in, where each article sits
-- (and which partner owns it, for a partner's own help centre), "Was this helpful?" votes,
-- what signed-in readers looked at (for deflection), and partners' brands.
CREATE TABLE help_categories (
    id          BIGSERIAL PRIMARY KEY,
    name        TEXT    NOT NULL,
    slug        TEXT    NOT NULL UNIQUE,
    description TEXT    NOT NULL,
    position    BIGINT  NOT NULL,
    created_at  BIGINT  NOT NULL
);

CREATE TABLE help_sections (
    id          BIGSERIAL PRIMARY KEY,
    category_id BIGINT  NOT NULL REFERENCES help_categories (id),
    name        TEXT    NOT NULL,
    position    BIGINT  NOT NULL,
    created_at  BIGINT  NOT NULL
);
CREATE INDEX help_sections_category ON help_sections (category_id);

-- An article's place: its section (none: listed under "Other articles") and, for a partner's
-- own article, that partner (shown only in that partner's help centre).
CREATE TABLE help_placements (
    article_id BIGINT  PRIMARY KEY REFERENCES articles (id),
    section_id BIGINT  REFERENCES help_sections (id),
    partner_id BIGINT  REFERENCES organizations (id),
    updated_at BIGINT  NOT NULL
);
CREATE INDEX help_placements_section ON help_placements (section_id);
CREATE INDEX help_placements_partner ON help_placements (partner_id);

-- One vote per signed-in reader and article (a new vote replaces the old); anonymous votes
-- have no user and each counts.
CREATE TABLE help_votes (
    id         BIGSERIAL PRIMARY KEY,
    article_id BIGINT  NOT NULL REFERENCES articles (id),
    user_id    BIGINT  REFERENCES users (id),
    helpful    BIGINT  NOT NULL,
    comment    TEXT    NOT NULL,
    created_at BIGINT  NOT NULL,
    UNIQUE (article_id, user_id)
);

-- A signed-in customer or partner technician reading an article or searching the help centre.
-- Followed by no case from that person within the window, it counts as deflected.
CREATE TABLE help_visits (
    id         BIGSERIAL PRIMARY KEY,
    user_id    BIGINT  NOT NULL REFERENCES users (id),
    article_id BIGINT  REFERENCES articles (id),
    searched   TEXT,
    at         BIGINT  NOT NULL
);
CREATE INDEX help_visits_at ON help_visits (at);
CREATE INDEX cases_requester_created ON cases (requester_id, created_at);

-- A partner's help centre under its own name, logo and colours (`/help/p/{slug}`).
CREATE TABLE help_brands (
    partner_id BIGINT  PRIMARY KEY REFERENCES organizations (id),
    name       TEXT    NOT NULL,
    logo_url   TEXT    NOT NULL,
    colour     TEXT    NOT NULL,
    accent     TEXT    NOT NULL,
    updated_at BIGINT  NOT NULL
);

-- Social mentions as a channel: each author once per network, as a contact (a customer user
-- with a made-up .invalid address in the organisation the mentions are filed under).
CREATE TABLE social_contacts (
    id         BIGSERIAL PRIMARY KEY,
    network    TEXT    NOT NULL,
    handle     TEXT    NOT NULL,
    user_id    BIGINT  NOT NULL REFERENCES users (id),
    created_at BIGINT  NOT NULL,
    UNIQUE (network, handle)
);

-- Every mention received, once per address: a compliment is counted here and files nothing;
-- anything else filed a case or commented on the author's open one.
CREATE TABLE social_mentions (
    id          BIGSERIAL PRIMARY KEY,
    contact_id  BIGINT  NOT NULL REFERENCES social_contacts (id),
    url         TEXT    NOT NULL UNIQUE,
    body        TEXT    NOT NULL,
    posted_at   BIGINT  NOT NULL,
    compliment  BIGINT  NOT NULL,
    case_id     BIGINT  REFERENCES cases (id),
    comment_id  BIGINT  REFERENCES comments (id),
    received_at BIGINT  NOT NULL
);
CREATE INDEX social_mentions_received ON social_mentions (received_at);

-- Outbound webhooks: an admin's subscription of an address to events, with the secret its
-- deliveries are signed with (kept as given: signing needs it), and since when it fails.
CREATE TABLE webhook_subscriptions (
    id            BIGSERIAL PRIMARY KEY,
    url           TEXT    NOT NULL,
    events        TEXT    NOT NULL,
    secret        TEXT    NOT NULL,
    owner_id      BIGINT  NOT NULL REFERENCES users (id),
    active        BIGINT  NOT NULL,
    failing_since BIGINT,
    disabled_at   BIGINT,
    created_at    BIGINT  NOT NULL
);

-- One event for one subscription: pending until an answer in 2xx, tried again with backoff.
CREATE TABLE webhook_deliveries (
    id              BIGSERIAL PRIMARY KEY,
    subscription_id BIGINT  NOT NULL REFERENCES webhook_subscriptions (id),
    event           TEXT    NOT NULL,
    body            TEXT    NOT NULL,
    status          TEXT    NOT NULL,
    attempts        BIGINT  NOT NULL,
    response_code   BIGINT,
    last_error      TEXT,
    next_attempt_at BIGINT  NOT NULL,
    last_attempt_at BIGINT,
    created_at      BIGINT  NOT NULL
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (status, next_attempt_at);
CREATE INDEX webhook_deliveries_subscription ON webhook_deliveries (subscription_id, id);

-- Where the webhook job stands in the case events (history before it is not announced).
INSERT INTO notifier_cursor (name, last_event_id)
    SELECT 'webhooks', COALESCE(MAX(id), 0) FROM case_events;
