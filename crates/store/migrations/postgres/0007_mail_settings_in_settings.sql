-- The mail channel's settings live in `settings` beside every other shared setting (named
-- `mail:...`); the table 0006 gave them is folded in and dropped.
INSERT INTO settings (key, value, updated_at)
    SELECT 'mail:' || name, value, 0 FROM mail_settings
    ON CONFLICT (key) DO NOTHING;
DROP TABLE mail_settings;
