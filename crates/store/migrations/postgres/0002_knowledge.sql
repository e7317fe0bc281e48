-- Knowledge: KCS articles with their revisions, links between cases and what answered them,
-- the classification of solved cases, self-service deflection, and learned settings.
ALTER TABLE cases ADD COLUMN classification TEXT;

CREATE TABLE articles (
    id             BIGSERIAL PRIMARY KEY,
    title          TEXT    NOT NULL,
    issue          TEXT    NOT NULL,
    environment    TEXT    NOT NULL,
    resolution     TEXT    NOT NULL,
    cause          TEXT    NOT NULL,
    state          TEXT    NOT NULL,
    audience       TEXT    NOT NULL,
    products       TEXT    NOT NULL DEFAULT '[]',
    versions       TEXT    NOT NULL DEFAULT '[]',
    author_id      BIGINT  NOT NULL REFERENCES users (id),
    source_case_id BIGINT  REFERENCES cases (id),
    revision       BIGINT  NOT NULL,
    reuse_count    BIGINT  NOT NULL DEFAULT 0,
    created_at     BIGINT  NOT NULL,
    updated_at     BIGINT  NOT NULL
);
CREATE INDEX articles_updated ON articles (updated_at);

-- Every revision in full, so any one can be read as it stood; `changed` names the fields.
CREATE TABLE article_revisions (
    id          BIGSERIAL PRIMARY KEY,
    article_id  BIGINT  NOT NULL REFERENCES articles (id),
    revision    BIGINT  NOT NULL,
    editor_id   BIGINT  NOT NULL REFERENCES users (id),
    changed     TEXT    NOT NULL,
    title       TEXT    NOT NULL,
    issue       TEXT    NOT NULL,
    environment TEXT    NOT NULL,
    resolution  TEXT    NOT NULL,
    cause       TEXT    NOT NULL,
    state       TEXT    NOT NULL,
    audience    TEXT    NOT NULL,
    products    TEXT    NOT NULL,
    versions    TEXT    NOT NULL,
    created_at  BIGINT  NOT NULL,
    UNIQUE (article_id, revision)
);

-- What answered a case: an article or an earlier case (exactly one of the two).
CREATE TABLE case_links (
    id             BIGSERIAL PRIMARY KEY,
    case_id        BIGINT  NOT NULL REFERENCES cases (id),
    article_id     BIGINT  REFERENCES articles (id),
    linked_case_id BIGINT  REFERENCES cases (id),
    linked_by      BIGINT  NOT NULL REFERENCES users (id),
    created_at     BIGINT  NOT NULL,
    CHECK ((article_id IS NULL) <> (linked_case_id IS NULL)),
    UNIQUE (case_id, article_id),
    UNIQUE (case_id, linked_case_id)
);
CREATE INDEX case_links_article ON case_links (article_id);

-- One new-case form being typed: suggestions shown, one opened, and whether a case followed.
CREATE TABLE deflection_drafts (
    token             TEXT    PRIMARY KEY,
    user_id           BIGINT  NOT NULL REFERENCES users (id),
    started_at        BIGINT  NOT NULL,
    suggestions_shown BIGINT  NOT NULL DEFAULT 0,
    opened_article_id BIGINT  REFERENCES articles (id),
    opened_at         BIGINT,
    case_id           BIGINT  REFERENCES cases (id),
    updated_at        BIGINT  NOT NULL
);
CREATE INDEX deflection_drafts_started ON deflection_drafts (started_at);

CREATE TABLE settings (
    key        TEXT   PRIMARY KEY,
    value      TEXT   NOT NULL,
    updated_at BIGINT NOT NULL
);
