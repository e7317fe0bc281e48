-- Failed sign-ins, by account (`email:...`) and by client address (`address:...`): the record
-- the back-off reads, and what an admin reads after an attack. A success clears the account's.
CREATE TABLE sign_in_failures (
    key TEXT   NOT NULL,
    at  BIGINT NOT NULL
);
CREATE INDEX sign_in_failures_key ON sign_in_failures (key, at);
