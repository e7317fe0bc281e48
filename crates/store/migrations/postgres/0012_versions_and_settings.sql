-- Optimistic concurrency: every change a person makes to a case (fields, a reply, a merge
-- into it) adds one to its version; a write that names the version it was prepared against
-- is refused when the case has moved on, instead of overwriting what it never saw.
ALTER TABLE cases ADD COLUMN version BIGINT NOT NULL DEFAULT 1;
-- Settings (routing rules, queues, services, the roster, message templates, courses) are an
-- admin task; an admin may grant it to agents by setting this flag (0/1).
ALTER TABLE users ADD COLUMN manage_settings BIGINT NOT NULL DEFAULT 0 CHECK (manage_settings IN (0, 1));
