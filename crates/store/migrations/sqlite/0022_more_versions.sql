-- Case categories, staffing's known events and success accounts get a version as the settings
-- did in 0019: each change adds one, and a write naming an older version is refused instead of
-- overwriting. An account without a record yet reads as version 0. (A partner's relationship
-- manager is part of its organisation and uses the version 0019 gave organizations; the
-- health weights are a stored setting, versioned since 0019.)
ALTER TABLE categories ADD COLUMN version INTEGER NOT NULL DEFAULT 1;
ALTER TABLE staffing_events ADD COLUMN version INTEGER NOT NULL DEFAULT 1;
ALTER TABLE success_accounts ADD COLUMN version INTEGER NOT NULL DEFAULT 1;
