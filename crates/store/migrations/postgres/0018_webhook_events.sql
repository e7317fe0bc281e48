-- Events beside the case audit trail that webhooks announce (incidents, partner alerts, community
-- questions...), waiting to be queued. A feature appends one in the transaction of the change it
-- announces, so an event exists if and only if its change committed. The webhook job deletes
-- each one, by compare-and-set, in the transaction that writes its deliveries: with several
-- nodes each event is queued once, an event committed late (a lower id after a higher one) is
-- still found (the job reads what is left rather than moving a place past ids), and the table
-- holds only what waits.
CREATE TABLE webhook_events (
    id         BIGSERIAL PRIMARY KEY,
    kind       TEXT    NOT NULL,
    subject_id BIGINT  NOT NULL,
    data       TEXT    NOT NULL,
    created_at BIGINT  NOT NULL
);

-- Why a subscription is switched off, in words (kept failing, or an admin switched it off).
ALTER TABLE webhook_subscriptions ADD COLUMN disabled_reason TEXT;
