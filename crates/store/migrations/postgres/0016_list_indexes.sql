-- Case lists at a million cases. The attention order is due time first, then most recently
-- updated, then newest id: the index holds exactly that order, so a page is read from its
-- start instead of sorting every matching case. Each agent's and the unassigned list walk
-- their own slice of the same order. Counts by status within an assignee, organisation,
-- partner or service-level state read only their slice.
DROP INDEX cases_attention;
CREATE INDEX cases_attention ON cases ((COALESCE(sla_due_at, 9223372036854775807)), updated_at DESC, id DESC);
CREATE INDEX cases_assignee_attention ON cases (assignee_id, (COALESCE(sla_due_at, 9223372036854775807)), updated_at DESC, id DESC);
CREATE INDEX cases_assignee_status ON cases (assignee_id, status);
CREATE INDEX cases_org_status ON cases (organization_id, status);
CREATE INDEX cases_partner_status ON cases (partner_id, status);
CREATE INDEX cases_sla_state ON cases (sla_state, status);
