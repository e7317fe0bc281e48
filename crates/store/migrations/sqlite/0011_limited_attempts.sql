-- Attempts that are rate limited, by key: failed sign-ins by account (`email:...`) and by
-- client address (`address:...`), status-page subscriptions (`subscribe-email:...`,
-- `subscribe-address:...`). The record the limits read, and what an admin reads after an
-- attack. A successful sign-in clears its account's failures.
CREATE TABLE limited_attempts (
    key TEXT   NOT NULL,
    at  BIGINT NOT NULL
);
CREATE INDEX limited_attempts_key ON limited_attempts (key, at);
