-- Daily rollups for the Insights dashboards at a million cases. Per UTC day, what each case
-- contributes to the dashboards (dimensions, first-reply and resolution times, hand-offs,
-- reopenings, classification) in one compact blob (`backline_domain::rollups::encode`):
-- family 'filed' holds the cases filed that day, 'solved' the cases solved that day. A
-- dashboard reads whole days from here and the rest from `cases`.
CREATE TABLE case_rollups (
    family   TEXT   NOT NULL CHECK (family IN ('filed', 'solved')),
    day      BIGINT NOT NULL, -- days since 1970-01-01 (UTC)
    cases    BIGINT NOT NULL,
    facts    BLOB   NOT NULL,
    built_at BIGINT NOT NULL,
    PRIMARY KEY (family, day)
) WITHOUT ROWID;

-- Days whose rollup may be stale. Written by triggers in the transaction of every change to
-- a case that touches its facts, whatever code path makes it, so a rollup is current exactly
-- when its day has no row here. The rollup job rebuilds a day and deletes its rows in one
-- transaction; on SQLite that transaction is the only writer, so one row per day suffices.
CREATE TABLE case_rollup_dirty (
    family TEXT   NOT NULL,
    day    BIGINT NOT NULL,
    PRIMARY KEY (family, day)
) WITHOUT ROWID;

-- `/` is the day for every time from 1970 on; days before 1970 are never rolled up (a time
-- before then marks a neighbouring day, which is harmless).
CREATE TRIGGER cases_rollup_insert AFTER INSERT ON cases
BEGIN
    INSERT OR IGNORE INTO case_rollup_dirty (family, day) VALUES ('filed', NEW.created_at / 86400000);
    INSERT OR IGNORE INTO case_rollup_dirty (family, day)
        SELECT 'solved', NEW.solved_at / 86400000 WHERE NEW.solved_at IS NOT NULL;
END;

CREATE TRIGGER cases_rollup_update AFTER UPDATE OF
    created_at, category_id, product, partner_id, organization_id, channel, tier, queue_id,
    first_reply_at, solved_at, handoffs, reopens, classification ON cases
WHEN OLD.created_at IS NOT NEW.created_at OR OLD.category_id IS NOT NEW.category_id
    OR OLD.product IS NOT NEW.product OR OLD.partner_id IS NOT NEW.partner_id
    OR OLD.organization_id IS NOT NEW.organization_id OR OLD.channel IS NOT NEW.channel
    OR OLD.tier IS NOT NEW.tier OR OLD.queue_id IS NOT NEW.queue_id
    OR OLD.first_reply_at IS NOT NEW.first_reply_at OR OLD.solved_at IS NOT NEW.solved_at
    OR OLD.handoffs IS NOT NEW.handoffs OR OLD.reopens IS NOT NEW.reopens
    OR OLD.classification IS NOT NEW.classification
BEGIN
    INSERT OR IGNORE INTO case_rollup_dirty (family, day) VALUES ('filed', OLD.created_at / 86400000);
    INSERT OR IGNORE INTO case_rollup_dirty (family, day) VALUES ('filed', NEW.created_at / 86400000);
    INSERT OR IGNORE INTO case_rollup_dirty (family, day)
        SELECT 'solved', OLD.solved_at / 86400000 WHERE OLD.solved_at IS NOT NULL;
    INSERT OR IGNORE INTO case_rollup_dirty (family, day)
        SELECT 'solved', NEW.solved_at / 86400000 WHERE NEW.solved_at IS NOT NULL;
END;

CREATE TRIGGER cases_rollup_delete AFTER DELETE ON cases
BEGIN
    INSERT OR IGNORE INTO case_rollup_dirty (family, day) VALUES ('filed', OLD.created_at / 86400000);
    INSERT OR IGNORE INTO case_rollup_dirty (family, day)
        SELECT 'solved', OLD.solved_at / 86400000 WHERE OLD.solved_at IS NOT NULL;
END;

-- Every day that already has cases waits for its first rollup.
INSERT INTO case_rollup_dirty (family, day)
    SELECT DISTINCT 'filed', created_at / 86400000 FROM cases;
INSERT INTO case_rollup_dirty (family, day)
    SELECT DISTINCT 'solved', solved_at / 86400000 FROM cases WHERE solved_at IS NOT NULL;
