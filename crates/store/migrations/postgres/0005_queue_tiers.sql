-- The tier a tiered queue serves: escalating a case to that tier moves it to that queue.
-- At most one queue per tier (several NULLs are fine: swarms and untiered queues).
ALTER TABLE queues ADD COLUMN tier BIGINT CHECK (tier BETWEEN 1 AND 3);
CREATE UNIQUE INDEX queues_tier ON queues (tier);
