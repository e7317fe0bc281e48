-- Daily rollups for the Insights dashboards at a million cases. Per UTC day, what each case
-- contributes to the dashboards (dimensions, first-reply and resolution times, hand-offs,
-- reopenings, classification) in one compact blob (`backline_domain::rollups::encode`):
-- family 'filed' holds the cases filed that day, 'solved' the cases solved that day. A
-- dashboard reads whole days from here and the rest from `cases`.
CREATE TABLE case_rollups (
    family   TEXT   NOT NULL CHECK (family IN ('filed', 'solved')),
    day      BIGINT NOT NULL, -- days since 1970-01-01 (UTC)
    cases    BIGINT NOT NULL,
    facts    BYTEA  NOT NULL,
    built_at BIGINT NOT NULL,
    PRIMARY KEY (family, day)
);

-- Days whose rollup may be stale. Written by triggers in the transaction of every change to
-- a case that touches its facts, whatever code path makes it, so a rollup is current exactly
-- when its day has no row here. Unlike SQLite, every change adds a row (no uniqueness): the
-- rollup job rebuilds a day in a REPEATABLE READ transaction and deletes only the rows its
-- snapshot sees, so a change committed after that snapshot leaves its row, and its day
-- stale, even when another row of the day was already there.
CREATE TABLE case_rollup_dirty (
    family TEXT   NOT NULL,
    day    BIGINT NOT NULL
);
CREATE INDEX case_rollup_dirty_day ON case_rollup_dirty (family, day);

-- `/` is the day for every time from 1970 on; days before 1970 are never rolled up (a time
-- before then marks a neighbouring day, which is harmless).
CREATE FUNCTION case_rollup_mark() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        INSERT INTO case_rollup_dirty (family, day) VALUES ('filed', OLD.created_at / 86400000);
        IF OLD.solved_at IS NOT NULL THEN
            INSERT INTO case_rollup_dirty (family, day) VALUES ('solved', OLD.solved_at / 86400000);
        END IF;
    END IF;
    IF TG_OP = 'INSERT' THEN
        INSERT INTO case_rollup_dirty (family, day) VALUES ('filed', NEW.created_at / 86400000);
        IF NEW.solved_at IS NOT NULL THEN
            INSERT INTO case_rollup_dirty (family, day) VALUES ('solved', NEW.solved_at / 86400000);
        END IF;
    ELSIF TG_OP = 'UPDATE' THEN
        IF NEW.created_at / 86400000 <> OLD.created_at / 86400000 THEN
            INSERT INTO case_rollup_dirty (family, day) VALUES ('filed', NEW.created_at / 86400000);
        END IF;
        IF NEW.solved_at IS NOT NULL
            AND NEW.solved_at / 86400000 IS DISTINCT FROM OLD.solved_at / 86400000 THEN
            INSERT INTO case_rollup_dirty (family, day) VALUES ('solved', NEW.solved_at / 86400000);
        END IF;
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER cases_rollup_insert AFTER INSERT OR DELETE ON cases
    FOR EACH ROW EXECUTE FUNCTION case_rollup_mark();

CREATE TRIGGER cases_rollup_update AFTER UPDATE ON cases
    FOR EACH ROW WHEN (
        OLD.created_at IS DISTINCT FROM NEW.created_at OR OLD.category_id IS DISTINCT FROM NEW.category_id
        OR OLD.product IS DISTINCT FROM NEW.product OR OLD.partner_id IS DISTINCT FROM NEW.partner_id
        OR OLD.organization_id IS DISTINCT FROM NEW.organization_id OR OLD.channel IS DISTINCT FROM NEW.channel
        OR OLD.tier IS DISTINCT FROM NEW.tier OR OLD.queue_id IS DISTINCT FROM NEW.queue_id
        OR OLD.first_reply_at IS DISTINCT FROM NEW.first_reply_at OR OLD.solved_at IS DISTINCT FROM NEW.solved_at
        OR OLD.handoffs IS DISTINCT FROM NEW.handoffs OR OLD.reopens IS DISTINCT FROM NEW.reopens
        OR OLD.classification IS DISTINCT FROM NEW.classification
    ) EXECUTE FUNCTION case_rollup_mark();

-- Every day that already has cases waits for its first rollup.
INSERT INTO case_rollup_dirty (family, day)
    SELECT DISTINCT 'filed', created_at / 86400000 FROM cases;
INSERT INTO case_rollup_dirty (family, day)
    SELECT DISTINCT 'solved', solved_at / 86400000 FROM cases WHERE solved_at IS NOT NULL;
