-- What the staff case page is drawn from changes far less often than the page is read. A
-- node keeps each case's page data in memory (`cases::page_cache`) and checks it with one
-- read of these counters instead of some fifteen queries. Triggers move them in the same
-- transaction as the change itself, so every node sees the change and the new counter
-- together, whichever code path wrote it.
--
-- case_page_revisions: one row per case that has changed since this migration (a missing
-- row reads as 0); it moves with the case row and every table the page shows rows of.
CREATE TABLE case_page_revisions (
    case_id  INTEGER PRIMARY KEY,
    revision BIGINT  NOT NULL
);

-- page_revisions: what many case pages share. 'directory' moves with the names the pages
-- show (people, organisations, queues, categories, article and case titles) and with the
-- agents to assign to; 'macros' with the macro lists.
CREATE TABLE page_revisions (
    scope    TEXT   PRIMARY KEY,
    revision BIGINT NOT NULL
);
INSERT INTO page_revisions (scope, revision) VALUES ('directory', 0), ('macros', 0);

CREATE TRIGGER cases_page_update AFTER UPDATE ON cases
BEGIN
    INSERT INTO case_page_revisions (case_id, revision) VALUES (NEW.id, 1)
        ON CONFLICT (case_id) DO UPDATE SET revision = revision + 1;
END;

-- A case's title is shown by the pages of the cases linked to it.
CREATE TRIGGER cases_page_subject AFTER UPDATE OF subject ON cases
WHEN OLD.subject IS NOT NEW.subject
BEGIN
    UPDATE page_revisions SET revision = revision + 1 WHERE scope = 'directory';
END;

CREATE TRIGGER comments_page_insert AFTER INSERT ON comments WHEN NEW.case_id IS NOT NULL
BEGIN
    INSERT INTO case_page_revisions (case_id, revision) VALUES (NEW.case_id, 1)
        ON CONFLICT (case_id) DO UPDATE SET revision = revision + 1;
END;
CREATE TRIGGER comments_page_update AFTER UPDATE ON comments
BEGIN
    INSERT INTO case_page_revisions (case_id, revision) SELECT OLD.case_id, 1 WHERE OLD.case_id IS NOT NULL
        ON CONFLICT (case_id) DO UPDATE SET revision = revision + 1;
    INSERT INTO case_page_revisions (case_id, revision) SELECT NEW.case_id, 1
        WHERE NEW.case_id IS NOT NULL AND NEW.case_id IS NOT OLD.case_id
        ON CONFLICT (case_id) DO UPDATE SET revision = revision + 1;
END;
CREATE TRIGGER comments_page_delete AFTER DELETE ON comments WHEN OLD.case_id IS NOT NULL
BEGIN
    INSERT INTO case_page_revisions (case_id, revision) VALUES (OLD.case_id, 1)
        ON CONFLICT (case_id) DO UPDATE SET revision = revision + 1;
END;

CREATE TRIGGER attachments_page_insert AFTER INSERT ON attachments WHEN NEW.case_id IS NOT NULL
BEGIN
    INSERT INTO case_page_revisions (case_id, revision) VALUES (NEW.case_id, 1)
        ON CONFLICT (case_id) DO UPDATE SET revision = revision + 1;
END;
CREATE TRIGGER attachments_page_update AFTER UPDATE ON attachments
BEGIN
    INSERT INTO case_page_revisions (case_id, revision) SELECT OLD.case_id, 1 WHERE OLD.case_id IS NOT NULL
        ON CONFLICT (case_id) DO UPDATE SET revision = revision + 1;
    INSERT INTO case_page_revisions (case_id, revision) SELECT NEW.case_id, 1
        WHERE NEW.case_id IS NOT NULL AND NEW.case_id IS NOT OLD.case_id
        ON CONFLICT (case_id) DO UPDATE SET revision = revision + 1;
END;
CREATE TRIGGER attachments_page_delete AFTER DELETE ON attachments WHEN OLD.case_id IS NOT NULL
BEGIN
    INSERT INTO case_page_revisions (case_id, revision) VALUES (OLD.case_id, 1)
        ON CONFLICT (case_id) DO UPDATE SET revision = revision + 1;
END;

CREATE TRIGGER case_links_page_insert AFTER INSERT ON case_links WHEN NEW.case_id IS NOT NULL
BEGIN
    INSERT INTO case_page_revisions (case_id, revision) VALUES (NEW.case_id, 1)
        ON CONFLICT (case_id) DO UPDATE SET revision = revision + 1;
END;
CREATE TRIGGER case_links_page_update AFTER UPDATE ON case_links
BEGIN
    INSERT INTO case_page_revisions (case_id, revision) SELECT OLD.case_id, 1 WHERE OLD.case_id IS NOT NULL
        ON CONFLICT (case_id) DO UPDATE SET revision = revision + 1;
    INSERT INTO case_page_revisions (case_id, revision) SELECT NEW.case_id, 1
        WHERE NEW.case_id IS NOT NULL AND NEW.case_id IS NOT OLD.case_id
        ON CONFLICT (case_id) DO UPDATE SET revision = revision + 1;
END;
CREATE TRIGGER case_links_page_delete AFTER DELETE ON case_links WHEN OLD.case_id IS NOT NULL
BEGIN
    INSERT INTO case_page_revisions (case_id, revision) VALUES (OLD.case_id, 1)
        ON CONFLICT (case_id) DO UPDATE SET revision = revision + 1;
END;

CREATE TRIGGER case_suggestions_page_insert AFTER INSERT ON case_suggestions WHEN NEW.case_id IS NOT NULL
BEGIN
    INSERT INTO case_page_revisions (case_id, revision) VALUES (NEW.case_id, 1)
        ON CONFLICT (case_id) DO UPDATE SET revision = revision + 1;
END;
CREATE TRIGGER case_suggestions_page_update AFTER UPDATE ON case_suggestions
BEGIN
    INSERT INTO case_page_revisions (case_id, revision) SELECT OLD.case_id, 1 WHERE OLD.case_id IS NOT NULL
        ON CONFLICT (case_id) DO UPDATE SET revision = revision + 1;
    INSERT INTO case_page_revisions (case_id, revision) SELECT NEW.case_id, 1
        WHERE NEW.case_id IS NOT NULL AND NEW.case_id IS NOT OLD.case_id
        ON CONFLICT (case_id) DO UPDATE SET revision = revision + 1;
END;
CREATE TRIGGER case_suggestions_page_delete AFTER DELETE ON case_suggestions WHEN OLD.case_id IS NOT NULL
BEGIN
    INSERT INTO case_page_revisions (case_id, revision) VALUES (OLD.case_id, 1)
        ON CONFLICT (case_id) DO UPDATE SET revision = revision + 1;
END;

CREATE TRIGGER suggestion_stamps_page_insert AFTER INSERT ON suggestion_stamps WHEN NEW.case_id IS NOT NULL
BEGIN
    INSERT INTO case_page_revisions (case_id, revision) VALUES (NEW.case_id, 1)
        ON CONFLICT (case_id) DO UPDATE SET revision = revision + 1;
END;
CREATE TRIGGER suggestion_stamps_page_update AFTER UPDATE ON suggestion_stamps
BEGIN
    INSERT INTO case_page_revisions (case_id, revision) SELECT OLD.case_id, 1 WHERE OLD.case_id IS NOT NULL
        ON CONFLICT (case_id) DO UPDATE SET revision = revision + 1;
    INSERT INTO case_page_revisions (case_id, revision) SELECT NEW.case_id, 1
        WHERE NEW.case_id IS NOT NULL AND NEW.case_id IS NOT OLD.case_id
        ON CONFLICT (case_id) DO UPDATE SET revision = revision + 1;
END;
CREATE TRIGGER suggestion_stamps_page_delete AFTER DELETE ON suggestion_stamps WHEN OLD.case_id IS NOT NULL
BEGIN
    INSERT INTO case_page_revisions (case_id, revision) VALUES (OLD.case_id, 1)
        ON CONFLICT (case_id) DO UPDATE SET revision = revision + 1;
END;

CREATE TRIGGER case_sla_page_insert AFTER INSERT ON case_sla WHEN NEW.case_id IS NOT NULL
BEGIN
    INSERT INTO case_page_revisions (case_id, revision) VALUES (NEW.case_id, 1)
        ON CONFLICT (case_id) DO UPDATE SET revision = revision + 1;
END;
CREATE TRIGGER case_sla_page_update AFTER UPDATE ON case_sla
BEGIN
    INSERT INTO case_page_revisions (case_id, revision) SELECT OLD.case_id, 1 WHERE OLD.case_id IS NOT NULL
        ON CONFLICT (case_id) DO UPDATE SET revision = revision + 1;
    INSERT INTO case_page_revisions (case_id, revision) SELECT NEW.case_id, 1
        WHERE NEW.case_id IS NOT NULL AND NEW.case_id IS NOT OLD.case_id
        ON CONFLICT (case_id) DO UPDATE SET revision = revision + 1;
END;
CREATE TRIGGER case_sla_page_delete AFTER DELETE ON case_sla WHEN OLD.case_id IS NOT NULL
BEGIN
    INSERT INTO case_page_revisions (case_id, revision) VALUES (OLD.case_id, 1)
        ON CONFLICT (case_id) DO UPDATE SET revision = revision + 1;
END;

CREATE TRIGGER case_events_page_insert AFTER INSERT ON case_events WHEN NEW.case_id IS NOT NULL
BEGIN
    INSERT INTO case_page_revisions (case_id, revision) VALUES (NEW.case_id, 1)
        ON CONFLICT (case_id) DO UPDATE SET revision = revision + 1;
END;
CREATE TRIGGER case_events_page_update AFTER UPDATE ON case_events
BEGIN
    INSERT INTO case_page_revisions (case_id, revision) SELECT OLD.case_id, 1 WHERE OLD.case_id IS NOT NULL
        ON CONFLICT (case_id) DO UPDATE SET revision = revision + 1;
    INSERT INTO case_page_revisions (case_id, revision) SELECT NEW.case_id, 1
        WHERE NEW.case_id IS NOT NULL AND NEW.case_id IS NOT OLD.case_id
        ON CONFLICT (case_id) DO UPDATE SET revision = revision + 1;
END;
CREATE TRIGGER case_events_page_delete AFTER DELETE ON case_events WHEN OLD.case_id IS NOT NULL
BEGIN
    INSERT INTO case_page_revisions (case_id, revision) VALUES (OLD.case_id, 1)
        ON CONFLICT (case_id) DO UPDATE SET revision = revision + 1;
END;

CREATE TRIGGER case_followers_page_insert AFTER INSERT ON case_followers WHEN NEW.case_id IS NOT NULL
BEGIN
    INSERT INTO case_page_revisions (case_id, revision) VALUES (NEW.case_id, 1)
        ON CONFLICT (case_id) DO UPDATE SET revision = revision + 1;
END;
CREATE TRIGGER case_followers_page_update AFTER UPDATE ON case_followers
BEGIN
    INSERT INTO case_page_revisions (case_id, revision) SELECT OLD.case_id, 1 WHERE OLD.case_id IS NOT NULL
        ON CONFLICT (case_id) DO UPDATE SET revision = revision + 1;
    INSERT INTO case_page_revisions (case_id, revision) SELECT NEW.case_id, 1
        WHERE NEW.case_id IS NOT NULL AND NEW.case_id IS NOT OLD.case_id
        ON CONFLICT (case_id) DO UPDATE SET revision = revision + 1;
END;
CREATE TRIGGER case_followers_page_delete AFTER DELETE ON case_followers WHEN OLD.case_id IS NOT NULL
BEGIN
    INSERT INTO case_page_revisions (case_id, revision) VALUES (OLD.case_id, 1)
        ON CONFLICT (case_id) DO UPDATE SET revision = revision + 1;
END;

CREATE TRIGGER case_cc_page_insert AFTER INSERT ON case_cc WHEN NEW.case_id IS NOT NULL
BEGIN
    INSERT INTO case_page_revisions (case_id, revision) VALUES (NEW.case_id, 1)
        ON CONFLICT (case_id) DO UPDATE SET revision = revision + 1;
END;
CREATE TRIGGER case_cc_page_update AFTER UPDATE ON case_cc
BEGIN
    INSERT INTO case_page_revisions (case_id, revision) SELECT OLD.case_id, 1 WHERE OLD.case_id IS NOT NULL
        ON CONFLICT (case_id) DO UPDATE SET revision = revision + 1;
    INSERT INTO case_page_revisions (case_id, revision) SELECT NEW.case_id, 1
        WHERE NEW.case_id IS NOT NULL AND NEW.case_id IS NOT OLD.case_id
        ON CONFLICT (case_id) DO UPDATE SET revision = revision + 1;
END;
CREATE TRIGGER case_cc_page_delete AFTER DELETE ON case_cc WHEN OLD.case_id IS NOT NULL
BEGIN
    INSERT INTO case_page_revisions (case_id, revision) VALUES (OLD.case_id, 1)
        ON CONFLICT (case_id) DO UPDATE SET revision = revision + 1;
END;

CREATE TRIGGER case_ratings_page_insert AFTER INSERT ON case_ratings WHEN NEW.case_id IS NOT NULL
BEGIN
    INSERT INTO case_page_revisions (case_id, revision) VALUES (NEW.case_id, 1)
        ON CONFLICT (case_id) DO UPDATE SET revision = revision + 1;
END;
CREATE TRIGGER case_ratings_page_update AFTER UPDATE ON case_ratings
BEGIN
    INSERT INTO case_page_revisions (case_id, revision) SELECT OLD.case_id, 1 WHERE OLD.case_id IS NOT NULL
        ON CONFLICT (case_id) DO UPDATE SET revision = revision + 1;
    INSERT INTO case_page_revisions (case_id, revision) SELECT NEW.case_id, 1
        WHERE NEW.case_id IS NOT NULL AND NEW.case_id IS NOT OLD.case_id
        ON CONFLICT (case_id) DO UPDATE SET revision = revision + 1;
END;
CREATE TRIGGER case_ratings_page_delete AFTER DELETE ON case_ratings WHEN OLD.case_id IS NOT NULL
BEGIN
    INSERT INTO case_page_revisions (case_id, revision) VALUES (OLD.case_id, 1)
        ON CONFLICT (case_id) DO UPDATE SET revision = revision + 1;
END;

CREATE TRIGGER community_posts_page_insert AFTER INSERT ON community_posts WHEN NEW.case_id IS NOT NULL
BEGIN
    INSERT INTO case_page_revisions (case_id, revision) VALUES (NEW.case_id, 1)
        ON CONFLICT (case_id) DO UPDATE SET revision = revision + 1;
END;
CREATE TRIGGER community_posts_page_update AFTER UPDATE ON community_posts
BEGIN
    INSERT INTO case_page_revisions (case_id, revision) SELECT OLD.case_id, 1 WHERE OLD.case_id IS NOT NULL
        ON CONFLICT (case_id) DO UPDATE SET revision = revision + 1;
    INSERT INTO case_page_revisions (case_id, revision) SELECT NEW.case_id, 1
        WHERE NEW.case_id IS NOT NULL AND NEW.case_id IS NOT OLD.case_id
        ON CONFLICT (case_id) DO UPDATE SET revision = revision + 1;
END;
CREATE TRIGGER community_posts_page_delete AFTER DELETE ON community_posts WHEN OLD.case_id IS NOT NULL
BEGIN
    INSERT INTO case_page_revisions (case_id, revision) VALUES (OLD.case_id, 1)
        ON CONFLICT (case_id) DO UPDATE SET revision = revision + 1;
END;

-- Shared by many pages: the names they show (people, organisations, queues, categories,
-- article titles) and the list of agents to assign to. A new customer or organisation is not
-- shown until a case row refers to it, which moves that case's own counter. The knowledge
-- generation that kept suggestions are judged by is read beside these counters.
CREATE TRIGGER users_page_insert AFTER INSERT ON users WHEN NEW.role IN ('admin', 'agent')
BEGIN
    UPDATE page_revisions SET revision = revision + 1 WHERE scope = 'directory';
END;
CREATE TRIGGER users_page_update AFTER UPDATE OF email, name, role, org_id, tier ON users
BEGIN
    UPDATE page_revisions SET revision = revision + 1 WHERE scope = 'directory';
END;
CREATE TRIGGER users_page_delete AFTER DELETE ON users
BEGIN
    UPDATE page_revisions SET revision = revision + 1 WHERE scope = 'directory';
END;
-- (Any column: the partner flag shows its kinds and technical level too.)
CREATE TRIGGER organizations_page_update AFTER UPDATE ON organizations
BEGIN
    UPDATE page_revisions SET revision = revision + 1 WHERE scope = 'directory';
END;
CREATE TRIGGER organizations_page_delete AFTER DELETE ON organizations
BEGIN
    UPDATE page_revisions SET revision = revision + 1 WHERE scope = 'directory';
END;
CREATE TRIGGER queues_page_insert AFTER INSERT ON queues
BEGIN
    UPDATE page_revisions SET revision = revision + 1 WHERE scope = 'directory';
END;
CREATE TRIGGER queues_page_update AFTER UPDATE ON queues
BEGIN
    UPDATE page_revisions SET revision = revision + 1 WHERE scope = 'directory';
END;
CREATE TRIGGER queues_page_delete AFTER DELETE ON queues
BEGIN
    UPDATE page_revisions SET revision = revision + 1 WHERE scope = 'directory';
END;
CREATE TRIGGER categories_page_insert AFTER INSERT ON categories
BEGIN
    UPDATE page_revisions SET revision = revision + 1 WHERE scope = 'directory';
END;
CREATE TRIGGER categories_page_update AFTER UPDATE ON categories
BEGIN
    UPDATE page_revisions SET revision = revision + 1 WHERE scope = 'directory';
END;
CREATE TRIGGER categories_page_delete AFTER DELETE ON categories
BEGIN
    UPDATE page_revisions SET revision = revision + 1 WHERE scope = 'directory';
END;
CREATE TRIGGER articles_page_update AFTER UPDATE OF title ON articles
BEGIN
    UPDATE page_revisions SET revision = revision + 1 WHERE scope = 'directory';
END;
CREATE TRIGGER articles_page_delete AFTER DELETE ON articles
BEGIN
    UPDATE page_revisions SET revision = revision + 1 WHERE scope = 'directory';
END;

-- Macro lists are ordered by use, so a use moves them too.
CREATE TRIGGER macros_page_insert AFTER INSERT ON macros
BEGIN
    UPDATE page_revisions SET revision = revision + 1 WHERE scope = 'macros';
END;
CREATE TRIGGER macros_page_update AFTER UPDATE ON macros
BEGIN
    UPDATE page_revisions SET revision = revision + 1 WHERE scope = 'macros';
END;
CREATE TRIGGER macros_page_delete AFTER DELETE ON macros
BEGIN
    UPDATE page_revisions SET revision = revision + 1 WHERE scope = 'macros';
END;
