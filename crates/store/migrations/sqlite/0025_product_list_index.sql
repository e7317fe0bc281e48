-- Counting a view that names a product. Lists match products case-insensitively
-- (`LOWER(product)`), which `cases_list_filters` can only check entry by entry after seeking
-- on the priority: "priority:high product:backup" read some 40,000 entries of the high
-- priority cases to count 10,001 of one product, four times what the count needs, and was
-- the one slow view at a million cases. Led by the lowered product, this index seeks to
-- exactly the cases of the product (and priority, when named) and holds the other filter
-- columns, so such a count reads the index alone.
CREATE INDEX cases_product_filters ON cases (LOWER(product), priority, status, sla_state, assignee_id, queue_id, tier, channel, organization_id, partner_id);
