-- Events beside the case audit trail that webhooks announce (incidents, partner alerts, community
-- questions...). A feature appends one in the transaction of the change it announces, so an
-- event exists if and only if its change committed. The webhook job marks each one queued by
-- compare-and-set in the transaction that queues its deliveries: with several nodes each event
-- is queued once, and an event committed late (a lower id after a higher one) is still seen,
-- because the job looks for unqueued rows rather than moving a place past ids.
CREATE TABLE webhook_events (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    kind       TEXT    NOT NULL,
    subject_id BIGINT  NOT NULL,
    data       TEXT    NOT NULL,
    created_at BIGINT  NOT NULL,
    queued_at  BIGINT
);
CREATE INDEX webhook_events_waiting ON webhook_events (id) WHERE queued_at IS NULL;

-- Why a subscription is switched off, in words (kept failing, or an admin switched it off).
ALTER TABLE webhook_subscriptions ADD COLUMN disabled_reason TEXT;
