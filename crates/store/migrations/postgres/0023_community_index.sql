-- Community questions are in each node's search index. After a restart the indexer re-reads
-- what changed since its watermark: posts by `updated_at` (an answer's change re-indexes its
-- question). The staff case page shows the question a case came from, found by `case_id`.
CREATE INDEX community_posts_updated ON community_posts (updated_at);
CREATE INDEX community_posts_case ON community_posts (case_id) WHERE case_id IS NOT NULL;
-- The moderation queue lists held posts, oldest first.
CREATE INDEX community_posts_held ON community_posts (created_at) WHERE state = 'held';
