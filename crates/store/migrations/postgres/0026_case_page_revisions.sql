-- What the staff case page is drawn from changes far less often than the page is read. A
-- node keeps each case's page data in memory (`cases::page_cache`) and checks it with one
-- read of these counters instead of some fifteen queries. Triggers move them in the same
-- transaction as the change itself, so every node sees the change and the new counter
-- together, whichever code path wrote it.
--
-- case_page_revisions: one row per case that has changed since this migration (a missing
-- row reads as 0); it moves with the case row and every table the page shows rows of.
CREATE TABLE case_page_revisions (
    case_id  BIGINT PRIMARY KEY,
    revision BIGINT NOT NULL
);

-- page_revisions: what many case pages share. 'directory' moves with the names the pages
-- show (people, organisations, queues, categories, article and case titles) and with the
-- agents to assign to; 'macros' with the macro lists.
CREATE TABLE page_revisions (
    scope    TEXT   PRIMARY KEY,
    revision BIGINT NOT NULL
);
INSERT INTO page_revisions (scope, revision) VALUES ('directory', 0), ('macros', 0);

CREATE FUNCTION case_page_touch(touched BIGINT) RETURNS void LANGUAGE sql AS $$
    INSERT INTO case_page_revisions (case_id, revision) VALUES (touched, 1)
        ON CONFLICT (case_id) DO UPDATE SET revision = case_page_revisions.revision + 1;
$$;

-- For the tables whose rows belong to a case through `case_id`.
CREATE FUNCTION case_page_child() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP <> 'INSERT' AND OLD.case_id IS NOT NULL THEN
        PERFORM case_page_touch(OLD.case_id);
    END IF;
    IF TG_OP = 'INSERT' AND NEW.case_id IS NOT NULL
        OR TG_OP = 'UPDATE' AND NEW.case_id IS NOT NULL AND NEW.case_id IS DISTINCT FROM OLD.case_id THEN
        PERFORM case_page_touch(NEW.case_id);
    END IF;
    RETURN NULL;
END
$$;

CREATE FUNCTION case_page_case() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM case_page_touch(NEW.id);
    -- A case's title is shown by the pages of the cases linked to it.
    IF OLD.subject IS DISTINCT FROM NEW.subject THEN
        UPDATE page_revisions SET revision = revision + 1 WHERE scope = 'directory';
    END IF;
    RETURN NULL;
END
$$;

CREATE FUNCTION page_revision_bump() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE page_revisions SET revision = revision + 1 WHERE scope = TG_ARGV[0];
    RETURN NULL;
END
$$;

CREATE TRIGGER cases_page_update AFTER UPDATE ON cases
    FOR EACH ROW EXECUTE FUNCTION case_page_case();
CREATE TRIGGER comments_page AFTER INSERT OR UPDATE OR DELETE ON comments
    FOR EACH ROW EXECUTE FUNCTION case_page_child();
CREATE TRIGGER attachments_page AFTER INSERT OR UPDATE OR DELETE ON attachments
    FOR EACH ROW EXECUTE FUNCTION case_page_child();
CREATE TRIGGER case_links_page AFTER INSERT OR UPDATE OR DELETE ON case_links
    FOR EACH ROW EXECUTE FUNCTION case_page_child();
CREATE TRIGGER case_suggestions_page AFTER INSERT OR UPDATE OR DELETE ON case_suggestions
    FOR EACH ROW EXECUTE FUNCTION case_page_child();
CREATE TRIGGER suggestion_stamps_page AFTER INSERT OR UPDATE OR DELETE ON suggestion_stamps
    FOR EACH ROW EXECUTE FUNCTION case_page_child();
CREATE TRIGGER case_sla_page AFTER INSERT OR UPDATE OR DELETE ON case_sla
    FOR EACH ROW EXECUTE FUNCTION case_page_child();
CREATE TRIGGER case_events_page AFTER INSERT OR UPDATE OR DELETE ON case_events
    FOR EACH ROW EXECUTE FUNCTION case_page_child();
CREATE TRIGGER case_followers_page AFTER INSERT OR UPDATE OR DELETE ON case_followers
    FOR EACH ROW EXECUTE FUNCTION case_page_child();
CREATE TRIGGER case_cc_page AFTER INSERT OR UPDATE OR DELETE ON case_cc
    FOR EACH ROW EXECUTE FUNCTION case_page_child();
CREATE TRIGGER case_ratings_page AFTER INSERT OR UPDATE OR DELETE ON case_ratings
    FOR EACH ROW EXECUTE FUNCTION case_page_child();
CREATE TRIGGER community_posts_page AFTER INSERT OR UPDATE OR DELETE ON community_posts
    FOR EACH ROW EXECUTE FUNCTION case_page_child();

-- Shared by many pages: the names they show (people, organisations, queues, categories,
-- article titles) and the list of agents to assign to. A new customer or organisation is not
-- shown until a case row refers to it, which moves that case's own counter. The knowledge
-- generation that kept suggestions are judged by is read beside these counters.
CREATE TRIGGER users_page_insert AFTER INSERT ON users
    FOR EACH ROW WHEN (NEW.role IN ('admin', 'agent')) EXECUTE FUNCTION page_revision_bump('directory');
CREATE TRIGGER users_page AFTER DELETE OR UPDATE OF email, name, role, org_id, tier ON users
    FOR EACH STATEMENT EXECUTE FUNCTION page_revision_bump('directory');
-- (Any column: the partner flag shows its kinds and technical level too.)
CREATE TRIGGER organizations_page AFTER DELETE OR UPDATE ON organizations
    FOR EACH STATEMENT EXECUTE FUNCTION page_revision_bump('directory');
CREATE TRIGGER queues_page AFTER INSERT OR UPDATE OR DELETE ON queues
    FOR EACH STATEMENT EXECUTE FUNCTION page_revision_bump('directory');
CREATE TRIGGER categories_page AFTER INSERT OR UPDATE OR DELETE ON categories
    FOR EACH STATEMENT EXECUTE FUNCTION page_revision_bump('directory');
CREATE TRIGGER articles_page AFTER DELETE OR UPDATE OF title ON articles
    FOR EACH STATEMENT EXECUTE FUNCTION page_revision_bump('directory');
-- Macro lists are ordered by use, so a use moves them too.
CREATE TRIGGER macros_page AFTER INSERT OR UPDATE OR DELETE ON macros
    FOR EACH STATEMENT EXECUTE FUNCTION page_revision_bump('macros');
