-- Every setting people edit gets a version (optimistic concurrency, as cases have since 0012):
-- each change adds one, a write that names the version it was prepared against is refused when
-- the row moved on, and a form drawn from an older version comes back instead of overwriting.
-- Rows that do not exist yet (a template or an agreement still on its default, an unset
-- setting) read as version 0.
ALTER TABLE sla_policies ADD COLUMN version BIGINT NOT NULL DEFAULT 1;
ALTER TABLE sla_calendars ADD COLUMN version BIGINT NOT NULL DEFAULT 1;
ALTER TABLE routing_rules ADD COLUMN version BIGINT NOT NULL DEFAULT 1;
-- A queue's version moves with its members (who is in it, with which skills).
ALTER TABLE queues ADD COLUMN version BIGINT NOT NULL DEFAULT 1;
ALTER TABLE macros ADD COLUMN version BIGINT NOT NULL DEFAULT 1;
ALTER TABLE partner_agreements ADD COLUMN version BIGINT NOT NULL DEFAULT 1;
ALTER TABLE organizations ADD COLUMN version BIGINT NOT NULL DEFAULT 1;
ALTER TABLE templates ADD COLUMN version BIGINT NOT NULL DEFAULT 1;
ALTER TABLE settings ADD COLUMN version BIGINT NOT NULL DEFAULT 1;
