//! The index: its schema, how documents are written, and where it lives.

use crate::analysis::{bigrams, codes, words};
use crate::Result;
use backline_domain::query::DocType;
use std::path::Path;
use std::sync::Mutex;
use tantivy::schema::{
    Field, IndexRecordOption, Schema, TextFieldIndexing, TextOptions, FAST, INDEXED, STORED, STRING,
};
use tantivy::tokenizer::{TextAnalyzer, WhitespaceTokenizer};
use tantivy::{Index, IndexReader, IndexWriter, ReloadPolicy, TantivyDocument, Term};

/// Bumped whenever the schema or the analysis changes; an index of another version is rebuilt.
const SCHEMA_VERSION: &str = "backline-search-5";
const TOKENIZER: &str = "backline";
const WRITER_MEMORY: usize = 15_000_000;

/// What the index stores about one case, comment, article or community question.
#[derive(Debug, Clone, Default)]
pub struct IndexDoc {
    pub kind: Option<DocType>,
    pub id: i64,
    /// For comments: the case they belong to.
    pub case_id: Option<i64>,
    pub title: String,
    /// Articles: the issue, the problem in the words of the people who have it. It is matched
    /// like the title (a case's title says the problem in those words too); it is also part
    /// of `body`.
    pub issue: String,
    pub body: String,
    pub created_at_ms: i64,
    /// Visibility of cases and comments: the case's organisation and partner.
    pub org_id: Option<i64>,
    pub partner_id: Option<i64>,
    /// Visibility of questions: the community space they were asked in.
    pub space_id: Option<i64>,
    /// Comments: public reply (true) or internal note (false). Cases and articles: true.
    pub public: bool,
    pub status: Option<String>,
    pub priority: Option<String>,
    pub products: Vec<String>,
    pub org_slug: Option<String>,
    pub partner_slug: Option<String>,
    pub tags: Vec<String>,
    /// Articles: state and audience.
    pub state: Option<String>,
    pub audience: Option<String>,
    pub versions: Vec<String>,
    /// Cases: solved or closed, so usable as a known answer. Questions: at least one published
    /// answer.
    pub solved: bool,
    /// Cases: the articles linked to it as its answer. A case that matches lends its score to
    /// the article that answered it (see `matcher`).
    pub answered_by: Vec<i64>,
}

impl IndexDoc {
    pub fn key(&self) -> String {
        format!("{}:{}", self.kind.map_or("case", |k| k.as_str()), self.id)
    }
}

#[derive(Clone, Copy)]
pub(crate) struct Fields {
    pub key: Field,
    pub kind: Field,
    pub id: Field,
    /// Cases and comments: the case (indexed, so a page of results can fetch the comments of
    /// its cases).
    pub case_id: Field,
    /// What a result row gathers under (fast, read for every match while grouping): see
    /// `group_key`.
    pub group_key: Field,
    /// `DOC_CASE`, `DOC_COMMENT`, `DOC_ARTICLE` or `DOC_QUESTION`, fast, for grouping.
    pub doc_kind: Field,
    /// Cases: the articles that answered them (fast, read while ranking suggestions).
    pub answers: Field,
    pub org_id: Field,
    pub partner_id: Field,
    pub space_id: Field,
    pub public: Field,
    pub status: Field,
    pub priority: Field,
    pub product: Field,
    pub org: Field,
    pub partner: Field,
    pub tag: Field,
    pub state: Field,
    pub audience: Field,
    pub solved: Field,
    pub created_at: Field,
    pub title: Field,
    pub excerpt: Field,
    pub versions: Field,
    /// Hashes of the versions, in a fast column, so ranking compares them without reading
    /// stored documents.
    pub version_hashes: Field,
    pub t_title: Field,
    pub t_all: Field,
    pub t_codes: Field,
    pub t_title_bi: Field,
    pub t_all_bi: Field,
}

fn schema() -> (Schema, Fields) {
    let mut b = Schema::builder();
    let text = |positions: bool| {
        let option = if positions {
            IndexRecordOption::WithFreqsAndPositions
        } else {
            IndexRecordOption::WithFreqs
        };
        TextOptions::default().set_indexing_options(
            TextFieldIndexing::default()
                .set_tokenizer(TOKENIZER)
                .set_index_option(option),
        )
    };
    let fields = Fields {
        key: b.add_text_field("key", STRING | STORED),
        kind: b.add_text_field("kind", STRING | STORED),
        id: b.add_i64_field("id", INDEXED | STORED | FAST),
        case_id: b.add_i64_field("case_id", INDEXED | STORED),
        group_key: b.add_i64_field("group_key", FAST),
        doc_kind: b.add_i64_field("doc_kind", FAST),
        answers: b.add_i64_field("answers", FAST),
        org_id: b.add_i64_field("org_id", INDEXED),
        partner_id: b.add_i64_field("partner_id", INDEXED),
        space_id: b.add_i64_field("space_id", INDEXED),
        public: b.add_i64_field("public", INDEXED),
        status: b.add_text_field("status", STRING),
        priority: b.add_text_field("priority", STRING),
        product: b.add_text_field("product", STRING),
        org: b.add_text_field("org", STRING),
        partner: b.add_text_field("partner", STRING),
        tag: b.add_text_field("tag", STRING),
        state: b.add_text_field("state", STRING),
        audience: b.add_text_field("audience", STRING),
        solved: b.add_i64_field("solved", INDEXED),
        created_at: b.add_i64_field("created_at", INDEXED | STORED | FAST),
        title: b.add_text_field("title", STORED),
        excerpt: b.add_text_field("excerpt", STORED),
        versions: b.add_text_field("versions", STORED),
        version_hashes: b.add_i64_field("version_hashes", FAST),
        t_title: b.add_text_field("t_title", text(true)),
        t_all: b.add_text_field("t_all", text(true)),
        t_codes: b.add_text_field("t_codes", text(false)),
        t_title_bi: b.add_text_field("t_title_bi", text(false)),
        t_all_bi: b.add_text_field("t_all_bi", text(false)),
    };
    (b.build(), fields)
}

/// `doc_kind` values.
pub(crate) const DOC_CASE: i64 = 0;
pub(crate) const DOC_COMMENT: i64 = 1;
pub(crate) const DOC_ARTICLE: i64 = 2;
pub(crate) const DOC_QUESTION: i64 = 3;

/// Questions gather under their id minus this, below every article (minus its id): ids stay
/// far under it.
const QUESTION_GROUPS: i64 = 1 << 48;

/// The row a document gathers under in a result list: a case (and its comments) under the
/// case's id, an article under minus its id, a question under minus `QUESTION_GROUPS` minus
/// its id.
pub(crate) fn group_key(kind: DocType, id: i64, case_id: Option<i64>) -> i64 {
    match kind {
        DocType::Case => id,
        DocType::Comment => case_id.unwrap_or_default(),
        DocType::Article => -id,
        DocType::Question => -QUESTION_GROUPS - id,
    }
}

/// What a row's group key stands for: the case, article or question it gathers under.
pub(crate) fn row_of_group(key: i64) -> (DocType, i64) {
    if key <= -QUESTION_GROUPS {
        (DocType::Question, -key - QUESTION_GROUPS)
    } else if key < 0 {
        (DocType::Article, -key)
    } else {
        (DocType::Case, key)
    }
}

/// An open index with its single writer (tantivy allows one per directory).
pub struct SearchIndex {
    pub(crate) index: Index,
    pub(crate) reader: IndexReader,
    writer: Mutex<IndexWriter<TantivyDocument>>,
    pub(crate) fields: Fields,
}

impl SearchIndex {
    /// Opens the index in `dir`, creating it, or recreating it empty when it was written by
    /// another schema version (the caller then rebuilds it from the database).
    pub fn open(dir: &Path) -> Result<SearchIndex> {
        Self::open_with(dir, 1, WRITER_MEMORY)
    }

    /// Like `open`, with a writer sized for bulk loading (rebuilds and benchmarks).
    pub fn open_for_bulk(dir: &Path) -> Result<SearchIndex> {
        let threads = std::thread::available_parallelism()
            .map_or(1, |n| n.get())
            .min(4);
        Self::open_with(dir, threads, 100_000_000 * threads)
    }

    fn open_with(dir: &Path, threads: usize, memory: usize) -> Result<SearchIndex> {
        std::fs::create_dir_all(dir)?;
        let (schema, fields) = schema();
        let version_file = dir.join("backline-schema-version");
        let current = std::fs::read_to_string(&version_file).unwrap_or_default();
        let index = if current.trim() == SCHEMA_VERSION && dir.join("meta.json").exists() {
            Index::open_in_dir(dir)?
        } else {
            for entry in std::fs::read_dir(dir)? {
                let path = entry?.path();
                if path.is_file() {
                    std::fs::remove_file(&path)?;
                }
            }
            let index = Index::create_in_dir(dir, schema)?;
            std::fs::write(&version_file, SCHEMA_VERSION)?;
            index
        };
        Self::from_index(index, fields, threads, memory)
    }

    /// An index in memory, for benchmarks and tests.
    pub fn in_memory() -> Result<SearchIndex> {
        let (schema, fields) = schema();
        Self::from_index(Index::create_in_ram(schema), fields, 1, WRITER_MEMORY)
    }

    fn from_index(
        mut index: Index,
        fields: Fields,
        threads: usize,
        memory: usize,
    ) -> Result<SearchIndex> {
        // A search reads the index's segments in parallel, one core each: a broad search of
        // a large index (every match is counted into rows) then takes a fraction of the time.
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        if cores > 1 {
            index.set_multithread_executor(cores.min(8))?;
        }
        index.tokenizers().register(
            TOKENIZER,
            TextAnalyzer::from(WhitespaceTokenizer::default()),
        );
        let writer = index.writer_with_num_threads(threads, memory)?;
        let reader = index
            .reader_builder()
            .reload_policy(ReloadPolicy::Manual)
            .try_into()?;
        Ok(SearchIndex {
            index,
            reader,
            writer: Mutex::new(writer),
            fields,
        })
    }

    /// The watermark stored with the last commit (0 for a new index): the indexer keeps the
    /// time up to which every change is in.
    pub fn watermark(&self) -> i64 {
        self.index
            .load_metas()
            .ok()
            .and_then(|m| m.payload)
            .and_then(|p| p.parse().ok())
            .unwrap_or(0)
    }

    /// Replaces (or adds) these documents; visible after `commit`.
    pub fn upsert(&self, docs: &[IndexDoc]) -> Result<()> {
        let writer = self.writer.lock().unwrap_or_else(|p| p.into_inner());
        for doc in docs {
            writer.delete_term(Term::from_field_text(self.fields.key, &doc.key()));
            writer.add_document(self.document(doc))?;
        }
        Ok(())
    }

    pub fn remove(&self, kind: DocType, id: i64) {
        let writer = self.writer.lock().unwrap_or_else(|p| p.into_inner());
        writer.delete_term(Term::from_field_text(
            self.fields.key,
            &format!("{kind}:{id}"),
        ));
    }

    /// Drops every document (before a rebuild).
    pub fn clear(&self) -> Result<()> {
        let writer = self.writer.lock().unwrap_or_else(|p| p.into_inner());
        writer.delete_all_documents()?;
        Ok(())
    }

    /// Makes everything written so far searchable, recording `watermark` with it.
    pub fn commit(&self, watermark: i64) -> Result<()> {
        {
            let mut writer = self.writer.lock().unwrap_or_else(|p| p.into_inner());
            let mut prepared = writer.prepare_commit()?;
            prepared.set_payload(&watermark.to_string());
            prepared.commit()?;
        }
        self.reader.reload()?;
        Ok(())
    }

    /// Number of searchable documents.
    pub fn len(&self) -> u64 {
        self.reader.searcher().num_docs()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn document(&self, doc: &IndexDoc) -> TantivyDocument {
        let f = &self.fields;
        let kind = doc.kind.unwrap_or(DocType::Case);
        let mut d = TantivyDocument::default();
        d.add_text(f.key, doc.key());
        d.add_text(f.kind, kind.as_str());
        d.add_i64(f.id, doc.id);
        let case_id = match kind {
            DocType::Case => Some(doc.case_id.unwrap_or(doc.id)),
            DocType::Comment => doc.case_id,
            DocType::Article | DocType::Question => None,
        };
        if let Some(case_id) = case_id {
            d.add_i64(f.case_id, case_id);
        }
        let code = match kind {
            DocType::Case => DOC_CASE,
            DocType::Comment => DOC_COMMENT,
            DocType::Article => DOC_ARTICLE,
            DocType::Question => DOC_QUESTION,
        };
        d.add_i64(f.group_key, group_key(kind, doc.id, case_id));
        d.add_i64(f.doc_kind, code);
        for article in &doc.answered_by {
            d.add_i64(f.answers, *article);
        }
        d.add_i64(f.org_id, doc.org_id.unwrap_or(-1));
        d.add_i64(f.partner_id, doc.partner_id.unwrap_or(-1));
        d.add_i64(f.space_id, doc.space_id.unwrap_or(-1));
        d.add_i64(f.public, i64::from(doc.public));
        d.add_i64(f.solved, i64::from(doc.solved));
        d.add_i64(f.created_at, doc.created_at_ms);
        let keyword = |d: &mut TantivyDocument, field: Field, value: &Option<String>| {
            if let Some(v) = value {
                d.add_text(field, v.trim().to_lowercase());
            }
        };
        keyword(&mut d, f.status, &doc.status);
        keyword(&mut d, f.priority, &doc.priority);
        keyword(&mut d, f.org, &doc.org_slug);
        keyword(&mut d, f.partner, &doc.partner_slug);
        keyword(&mut d, f.state, &doc.state);
        keyword(&mut d, f.audience, &doc.audience);
        for product in &doc.products {
            d.add_text(f.product, product.trim().to_lowercase());
        }
        for tag in &doc.tags {
            d.add_text(f.tag, tag.to_lowercase());
        }
        d.add_text(f.title, &doc.title);
        d.add_text(f.excerpt, excerpt(&doc.body));
        d.add_text(f.versions, doc.versions.join(","));
        for version in &doc.versions {
            d.add_i64(f.version_hashes, version_hash(version));
        }
        // A comment is found by its own words: its title (the case's subject) is only shown.
        // Otherwise every comment of a case about "backup" matched "backup", and a result list
        // repeated the case once per comment.
        let searchable_title = if kind == DocType::Comment {
            ""
        } else {
            doc.title.as_str()
        };
        let title_words = words(searchable_title);
        let mut all_words = title_words.clone();
        all_words.extend(words(&doc.body));
        let mut matched_as_title = title_words.clone();
        if kind == DocType::Article {
            matched_as_title.extend(words(&doc.issue));
        }
        d.add_text(f.t_title, matched_as_title.join(" "));
        d.add_text(f.t_all, all_words.join(" "));
        let mut all_codes = codes(searchable_title);
        all_codes.extend(codes(&doc.body));
        d.add_text(f.t_codes, all_codes.join(" "));
        d.add_text(f.t_title_bi, bigrams(&matched_as_title).join(" "));
        d.add_text(f.t_all_bi, bigrams(&all_words).join(" "));
        d
    }
}

/// A stable 64-bit hash (FNV-1a) of a normalised version string.
pub(crate) fn version_hash(version: &str) -> i64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in version.trim().to_lowercase().bytes() {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    hash as i64
}

/// The first ~240 characters, cut at a word boundary, for result lists.
pub fn excerpt(body: &str) -> String {
    let flat: String = body.split_whitespace().collect::<Vec<_>>().join(" ");
    if flat.chars().count() <= 240 {
        return flat;
    }
    let cut: String = flat.chars().take(240).collect();
    match cut.rfind(' ') {
        Some(i) => format!("{}…", &cut[..i]),
        None => format!("{cut}…"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_kind_of_row_has_its_own_group_keys() {
        for (kind, id) in [
            (DocType::Case, 1),
            (DocType::Case, 1 << 40),
            (DocType::Article, 1),
            (DocType::Article, 1 << 40),
            (DocType::Question, 1),
            (DocType::Question, 1 << 40),
        ] {
            assert_eq!(row_of_group(group_key(kind, id, None)), (kind, id));
        }
        assert_eq!(
            row_of_group(group_key(DocType::Comment, 9, Some(4))),
            (DocType::Case, 4)
        );
    }
}
