//! Searching: the query language turned into tantivy queries, always inside the caller's
//! visibility, so a result list can never show what its reader may not see.

use crate::analysis::{codes, words};
use crate::index::{row_of_group, Fields, SearchIndex, DOC_CASE, DOC_COMMENT};
use crate::Result;
use backline_domain::query::{statuses_named, Clause, DocType, FilterField, SearchQuery};
use backline_domain::{ArticleState, Audience, CaseScope, Role};
use std::collections::hash_map::Entry;
use std::collections::HashMap;
use tantivy::collector::{Collector, SegmentCollector, TopDocs};
use tantivy::columnar::ColumnValues;
use tantivy::query::{
    AllQuery, BooleanQuery, BoostQuery, ConstScoreQuery, EmptyQuery, FuzzyTermQuery, Occur,
    PhraseQuery, Query, TermQuery,
};
use tantivy::schema::{Field, IndexRecordOption, Value};
use tantivy::{
    DocAddress, DocId, Order, Score, Searcher, SegmentOrdinal, SegmentReader, TantivyDocument, Term,
};

/// What a caller may find, in index terms (mirrors `backline_domain::visibility`,
/// `backline_domain::knowledge::can_read_article` and, for questions, the spaces
/// `backline_domain::community::SpaceAccess` admits the caller to).
#[derive(Debug, Clone)]
pub struct Visibility {
    pub cases: CaseScope,
    pub internal_notes: bool,
    pub article_audiences: Vec<Audience>,
    /// Staff read drafts and unvalidated articles; everyone else only validated ones.
    pub all_article_states: bool,
    /// The community questions the caller may find. The index holds published questions only
    /// (held, hidden, spam and merged ones are taken out), so this names spaces alone.
    pub questions: QuestionScope,
}

/// Which spaces' questions a reader may find.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum QuestionScope {
    /// None: the default, until the server has worked out which spaces the reader reads.
    #[default]
    Nothing,
    /// The questions of these spaces.
    Spaces(Vec<i64>),
    /// Every space's (staff).
    All,
}

impl QuestionScope {
    /// The questions of `spaces`; none when the list is empty.
    pub fn spaces(mut spaces: Vec<i64>) -> QuestionScope {
        if spaces.is_empty() {
            return QuestionScope::Nothing;
        }
        spaces.sort_unstable();
        spaces.dedup();
        QuestionScope::Spaces(spaces)
    }
    /// Whether a question of this space is in scope.
    pub fn admits(&self, space: i64) -> bool {
        match self {
            QuestionScope::Nothing => false,
            QuestionScope::Spaces(spaces) => spaces.contains(&space),
            QuestionScope::All => true,
        }
    }
}

impl Visibility {
    /// What an actor may find among cases, comments and articles. Questions are not the
    /// actor's to decide (the spaces a reader reads depend on their partner): none until the
    /// caller sets `questions`.
    pub fn for_actor(actor: &backline_domain::Actor) -> Visibility {
        Visibility {
            cases: actor.case_scope(),
            internal_notes: actor.is_staff(),
            article_audiences: actor.readable_audiences().to_vec(),
            all_article_states: matches!(actor.role, Role::Admin | Role::Agent),
            questions: QuestionScope::Nothing,
        }
    }

    /// What someone not signed in may find: validated public articles, and the questions of
    /// `questions` (the public spaces).
    pub fn anonymous(questions: QuestionScope) -> Visibility {
        Visibility {
            cases: CaseScope::Nothing,
            internal_notes: false,
            article_audiences: vec![Audience::Public],
            all_article_states: false,
            questions,
        }
    }

    /// The same, with these questions.
    pub fn with_questions(self, questions: QuestionScope) -> Visibility {
        Visibility { questions, ..self }
    }

    /// Names this sight in a few characters, the same for every reader who sees exactly the
    /// same: all staff share one, every customer user of one organisation another. What was
    /// worked out for one reader (stored suggestions) serves all readers with the same key.
    pub fn key(&self) -> String {
        let cases = match self.cases {
            CaseScope::All => "all".to_string(),
            CaseScope::Partner(org) => format!("partner-{}", org.0),
            CaseScope::Organization(org) => format!("org-{}", org.0),
            CaseScope::Nothing => "none".to_string(),
        };
        let mut audiences: Vec<&str> = self.article_audiences.iter().map(|a| a.as_str()).collect();
        audiences.sort_unstable();
        let mut key = format!(
            "{cases};notes={};articles={};states={}",
            u8::from(self.internal_notes),
            audiences.join(","),
            if self.all_article_states {
                "all"
            } else {
                "validated"
            }
        );
        // Only when questions are in sight, so keys of sights without them stay as they were.
        match &self.questions {
            QuestionScope::Nothing => {}
            QuestionScope::All => key.push_str(";questions=all"),
            QuestionScope::Spaces(spaces) => {
                let spaces: Vec<String> = spaces.iter().map(i64::to_string).collect();
                key.push_str(&format!(";questions={}", spaces.join(",")));
            }
        }
        key
    }

    /// Every case, comment and article (not community questions): what staff see, for the
    /// suggester, learning, benchmarks and rebuild checks.
    pub fn everything() -> Visibility {
        Visibility {
            cases: CaseScope::All,
            internal_notes: true,
            article_audiences: vec![Audience::Internal, Audience::Partners, Audience::Public],
            all_article_states: true,
            // As staff see cases, comments and articles (`for_actor`), so the suggester's lists
            // kept under this key serve them: case suggestions hold no questions.
            questions: QuestionScope::Nothing,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sort {
    Relevance,
    Newest,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Hit {
    pub kind: DocType,
    pub id: i64,
    pub case_id: Option<i64>,
    pub title: String,
    pub excerpt: String,
    pub created_at_ms: i64,
    pub score: f32,
}

pub(crate) fn term_query(field: Field, text: &str) -> Box<dyn Query> {
    Box::new(TermQuery::new(
        Term::from_field_text(field, text),
        IndexRecordOption::WithFreqs,
    ))
}

pub(crate) fn int_query(field: Field, value: i64) -> Box<dyn Query> {
    Box::new(TermQuery::new(
        Term::from_field_i64(field, value),
        IndexRecordOption::Basic,
    ))
}

fn any_of(queries: Vec<Box<dyn Query>>) -> Box<dyn Query> {
    match queries.len() {
        0 => Box::new(EmptyQuery),
        1 => queries
            .into_iter()
            .next()
            .unwrap_or_else(|| Box::new(EmptyQuery)),
        _ => Box::new(BooleanQuery::new(
            queries.into_iter().map(|q| (Occur::Should, q)).collect(),
        )),
    }
}

fn all_of(queries: Vec<Box<dyn Query>>) -> Box<dyn Query> {
    match queries.len() {
        0 => Box::new(AllQuery),
        1 => queries
            .into_iter()
            .next()
            .unwrap_or_else(|| Box::new(AllQuery)),
        _ => Box::new(BooleanQuery::new(
            queries.into_iter().map(|q| (Occur::Must, q)).collect(),
        )),
    }
}

/// Which kinds of document a visibility filter admits, and how.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Admit {
    pub cases: bool,
    /// `Some(true)`: only solved or closed cases (known answers); `Some(false)`: only cases
    /// still in work; `None`: any.
    pub cases_solved: Option<bool>,
    pub comments: bool,
    pub articles: bool,
    /// Only articles that can answer a case: not drafts (no resolution yet), not archived.
    pub answering_articles_only: bool,
    pub questions: bool,
    /// Only questions with a published answer.
    pub answered_questions_only: bool,
}

/// What a reader may not see, when that is all there is to say: a reader who sees every
/// case, comment and article in every state (staff) is kept from nothing, or from community
/// questions only. `None`: the rule needs `visibility_filter`. Searching under "everything
/// but" skips intersecting each word with a union of every document in the index, which cost
/// a broad staff search more than its words did.
fn visibility_exclusion(
    f: &Fields,
    v: &Visibility,
    admit: Admit,
) -> Option<Option<Box<dyn Query>>> {
    let every_article = [Audience::Internal, Audience::Partners, Audience::Public]
        .iter()
        .all(|a| v.article_audiences.contains(a));
    let sees_all_but_questions = v.cases == CaseScope::All
        && admit.cases
        && admit.cases_solved.is_none()
        && admit.comments
        && v.internal_notes
        && admit.articles
        && every_article
        && v.all_article_states
        && !admit.answering_articles_only;
    if !sees_all_but_questions {
        return None;
    }
    if !admit.questions || v.questions == QuestionScope::Nothing {
        Some(Some(term_query(f.kind, "question")))
    } else if v.questions == QuestionScope::All && !admit.answered_questions_only {
        Some(None)
    } else {
        None
    }
}

/// The visibility rule as a query that scores nothing and admits only what may be seen.
pub(crate) fn visibility_filter(f: &Fields, v: &Visibility, admit: Admit) -> Box<dyn Query> {
    let scope = match v.cases {
        CaseScope::All => Some(None),
        CaseScope::Partner(org) => Some(Some(int_query(f.partner_id, org.0))),
        CaseScope::Organization(org) => Some(Some(int_query(f.org_id, org.0))),
        CaseScope::Nothing => None,
    };
    let mut kinds: Vec<Box<dyn Query>> = Vec::new();
    if let Some(scope) = &scope {
        if admit.cases {
            let mut parts = vec![term_query(f.kind, "case")];
            if let Some(scope) = scope {
                parts.push(scope.box_clone());
            }
            if let Some(solved) = admit.cases_solved {
                parts.push(int_query(f.solved, i64::from(solved)));
            }
            kinds.push(all_of(parts));
        }
        if admit.comments {
            let mut parts = vec![term_query(f.kind, "comment")];
            if let Some(scope) = scope {
                parts.push(scope.box_clone());
            }
            if !v.internal_notes {
                parts.push(int_query(f.public, 1));
            }
            kinds.push(all_of(parts));
        }
    }
    if admit.articles && !v.article_audiences.is_empty() {
        let mut parts = vec![
            term_query(f.kind, "article"),
            any_of(
                v.article_audiences
                    .iter()
                    .map(|a| term_query(f.audience, a.as_str()))
                    .collect(),
            ),
        ];
        if !v.all_article_states {
            parts.push(term_query(f.state, ArticleState::Validated.as_str()));
        } else if admit.answering_articles_only {
            parts.push(any_of(
                [ArticleState::NotValidated, ArticleState::Validated]
                    .iter()
                    .map(|s| term_query(f.state, s.as_str()))
                    .collect(),
            ));
        }
        kinds.push(all_of(parts));
    }
    if admit.questions {
        let spaces = match &v.questions {
            QuestionScope::Nothing => None,
            QuestionScope::All => Some(None),
            QuestionScope::Spaces(spaces) => Some(Some(any_of(
                spaces.iter().map(|s| int_query(f.space_id, *s)).collect(),
            ))),
        };
        if let Some(spaces) = spaces {
            let mut parts = vec![term_query(f.kind, "question")];
            parts.extend(spaces);
            if admit.answered_questions_only {
                parts.push(int_query(f.solved, 1));
            }
            kinds.push(all_of(parts));
        }
    }
    Box::new(ConstScoreQuery::new(any_of(kinds), 0.0))
}

/// The indexed field a filter reads; `None` for filters only case lists apply (callers refuse
/// them before searching, see `FilterField::in_search`).
fn filter_field(f: &Fields, field: FilterField) -> Option<Field> {
    Some(match field {
        FilterField::Status => f.status,
        FilterField::Priority => f.priority,
        FilterField::Partner => f.partner,
        FilterField::Org => f.org,
        FilterField::Product => f.product,
        FilterField::Type => f.kind,
        FilterField::State => f.state,
        FilterField::Audience => f.audience,
        FilterField::Tag => f.tag,
        FilterField::Assignee
        | FilterField::Queue
        | FilterField::Tier
        | FilterField::Channel
        | FilterField::Sla => return None,
    })
}

/// The indexed terms one filter value stands for: `status:unsolved` is every open status.
fn filter_terms(field: FilterField, value: &str) -> Vec<String> {
    let value = value.trim().to_lowercase();
    match field {
        FilterField::Status => statuses_named(&value)
            .map(|all| all.iter().map(|s| s.as_str().to_string()).collect())
            .unwrap_or_else(|_| vec![value]),
        _ => vec![value],
    }
}

/// Score of a document that holds a word only misspelt (tantivy scores fuzzy matches with a
/// constant): well under any exact match of the same word, so typos rank below the real thing.
const FUZZY_SCORE: f32 = 0.05;

/// How many edits a typed word may be away from an indexed one and still match it: none for
/// short words (too many neighbours: "cat" is one edit from "car", "cut", "at"...), one for 4 to
/// 7 letters ("backpu" -> backup), two for longer ones. Identifiers (anything holding a digit
/// or read as a code, like BK-1042 or 7.2) are copied, not typed from memory: never fuzzy.
pub fn typo_distance(word: &str) -> u8 {
    if word.chars().any(|c| c.is_ascii_digit()) || !codes(word).is_empty() {
        return 0;
    }
    match word.chars().filter(|c| c.is_alphabetic()).count() {
        0..=3 => 0,
        4..=7 => 1,
        _ => 2,
    }
}

/// A word in this share of all documents (or at least `COMMON_WORD_MIN` of them) is a word
/// people really use, not a typo: its neighbours one edit away are other words, so it is
/// matched exactly. Looking them up cost most of a broad search's time on a large index.
const COMMON_WORD_SHARE: u64 = 1_000;
const COMMON_WORD_MIN: u64 = 20;

/// Whether `token` is common enough in the index to be taken as typed (see
/// `COMMON_WORD_SHARE`).
fn is_common(searcher: &Searcher, f: &Fields, token: &str) -> bool {
    let docs: u64 = searcher
        .segment_readers()
        .iter()
        .map(|r| u64::from(r.max_doc()))
        .sum();
    let df = searcher
        .doc_freq(&Term::from_field_text(f.t_all, token))
        .unwrap_or(0);
    df >= (docs / COMMON_WORD_SHARE).max(COMMON_WORD_MIN)
}

/// A word must appear (in the title or the text, or verbatim as an identifier), or, when
/// `searcher` is given and the word is not a common one, a word a typo or two away from it
/// (ranked below the exact matches).
fn word_query(f: &Fields, searcher: Option<&Searcher>, word: &str) -> Option<Box<dyn Query>> {
    let tokens = words(word);
    let code_tokens = codes(word);
    let mut options: Vec<Box<dyn Query>> = Vec::new();
    if !tokens.is_empty() {
        // Every document holds its title words in `t_all` too, so "in the text, and better in
        // the title" scores exactly as "in the title or the text" (the sum of what matched),
        // with the title's list only consulted at the text's matches instead of merged.
        options.push(all_of(
            tokens
                .iter()
                .map(|t| -> Box<dyn Query> {
                    Box::new(BooleanQuery::new(vec![
                        (Occur::Must, term_query(f.t_all, t)),
                        (
                            Occur::Should,
                            Box::new(BoostQuery::new(term_query(f.t_title, t), 2.0)),
                        ),
                    ]))
                })
                .collect(),
        ));
    }
    // One typed word is one analysed token; a word that splits into several (identifiers
    // such as `jackson-databind` or `ZStandardCodec`) is matched exactly.
    let distance = typo_distance(word);
    if let ([token], true, Some(searcher)) = (tokens.as_slice(), distance > 0, searcher) {
        if !is_common(searcher, f, token) {
            options.push(Box::new(BoostQuery::new(
                Box::new(FuzzyTermQuery::new(
                    Term::from_field_text(f.t_all, token),
                    distance,
                    true,
                )),
                FUZZY_SCORE,
            )));
        }
    }
    for code in code_tokens {
        options.push(Box::new(BoostQuery::new(term_query(f.t_codes, &code), 3.0)));
    }
    (!options.is_empty()).then(|| any_of(options))
}

fn phrase_query(f: &Fields, phrase: &str) -> Option<Box<dyn Query>> {
    let tokens = words(phrase);
    match tokens.len() {
        0 => None,
        // A quoted word is meant as typed.
        1 => word_query(f, None, phrase),
        _ => {
            let phrase_in = |field: Field| -> Box<dyn Query> {
                Box::new(PhraseQuery::new(
                    tokens
                        .iter()
                        .map(|t| Term::from_field_text(field, t))
                        .collect(),
                ))
            };
            // As for words: a phrase in the title is in `t_all` too.
            Some(Box::new(BooleanQuery::new(vec![
                (Occur::Must, phrase_in(f.t_all)),
                (
                    Occur::Should,
                    Box::new(BoostQuery::new(phrase_in(f.t_title), 2.0)),
                ),
            ])))
        }
    }
}

pub(crate) fn read_hit(
    searcher: &Searcher,
    f: &Fields,
    address: DocAddress,
    score: f32,
) -> Result<Hit> {
    let doc: TantivyDocument = searcher.doc(address)?;
    let text = |field: Field| {
        doc.get_first(field)
            .and_then(|v| v.as_str())
            .unwrap_or_default()
            .to_string()
    };
    let int = |field: Field| doc.get_first(field).and_then(|v| v.as_i64());
    Ok(Hit {
        kind: DocType::parse(&text(f.kind)).unwrap_or(DocType::Case),
        id: int(f.id).unwrap_or_default(),
        case_id: int(f.case_id),
        title: text(f.title),
        excerpt: text(f.excerpt),
        created_at_ms: int(f.created_at).unwrap_or_default(),
        score,
    })
}

/// Which documents a search admits: everything the reader may see.
const SEARCH_ALL: Admit = Admit {
    cases: true,
    cases_solved: None,
    comments: true,
    articles: true,
    answering_articles_only: false,
    questions: true,
    answered_questions_only: false,
};

/// Comments shown under each case of a result page, at most.
pub const FOLDED_COMMENTS: usize = 3;
/// Comments read to fold under one page of cases, at most (a case with thousands of matching
/// comments shows three of them and a count either way).
const FOLD_READ_LIMIT: usize = 2_000;

/// One row of a result page: a case (with the matching comments folded under it), an article
/// or a community question.
#[derive(Debug, Clone, PartialEq)]
pub struct ResultRow {
    /// `Case`, `Article` or `Question`.
    pub kind: DocType,
    pub id: i64,
    pub title: String,
    pub excerpt: String,
    pub created_at_ms: i64,
    /// The best score among what matched in the row.
    pub score: f32,
    /// Whether the case's (or article's) own text matched, not only comments.
    pub matched_itself: bool,
    /// The best matching comments the reader may see, best first, `FOLDED_COMMENTS` at most.
    pub comments: Vec<Hit>,
    /// Matching comments beyond those shown.
    pub more_comments: usize,
}

/// A page of results and how many rows the whole search holds.
#[derive(Debug, Clone, PartialEq)]
pub struct ResultPage {
    pub rows: Vec<ResultRow>,
    pub total: usize,
}

/// What matched in one row, gathered while searching.
#[derive(Debug, Clone, Copy)]
struct RowMatch {
    score: f32,
    newest_ms: i64,
    comments: u32,
    /// The case or article document itself, when it matched.
    itself: Option<DocAddress>,
}

impl RowMatch {
    fn merge(&mut self, other: RowMatch) {
        self.score = self.score.max(other.score);
        self.newest_ms = self.newest_ms.max(other.newest_ms);
        self.comments += other.comments;
        self.itself = self.itself.or(other.itself);
    }
}

/// Gathers matches into rows (a case with its comments, an article, a question), with all
/// that matched in each: run over the rows of one page, once the page is chosen.
struct RowCollector;

struct RowSegmentCollector {
    segment: u32,
    group: std::sync::Arc<dyn ColumnValues<i64>>,
    doc_kind: std::sync::Arc<dyn ColumnValues<i64>>,
    created: std::sync::Arc<dyn ColumnValues<i64>>,
    rows: RowMap,
    /// The row of the last match, merged into `rows` when a match of another row comes: a
    /// case's comments are often stored beside it, so runs of one row cost one hash lookup.
    current: Option<(i64, RowMatch)>,
}

/// Rows by their group key.
type RowMap = HashMap<i64, RowMatch, std::hash::BuildHasherDefault<KeyHasher>>;

/// Hashes the integer group keys of rows by one multiplication, not SipHash: the keys come
/// from the index, not from whoever types a query, and hashing was a tenth of a broad search.
#[derive(Default)]
struct KeyHasher(u64);

impl std::hash::Hasher for KeyHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for byte in bytes {
            self.0 = (self.0.rotate_left(8) ^ u64::from(*byte)).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        }
    }

    fn write_i64(&mut self, n: i64) {
        let mixed = (n as u64 ^ self.0).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        self.0 = mixed ^ (mixed >> 29);
    }
}

fn add_row(rows: &mut RowMap, key: i64, row: RowMatch) {
    match rows.entry(key) {
        Entry::Occupied(mut e) => e.get_mut().merge(row),
        Entry::Vacant(e) => {
            e.insert(row);
        }
    }
}

impl Collector for RowCollector {
    type Fruit = RowMap;
    type Child = RowSegmentCollector;

    fn for_segment(
        &self,
        segment: SegmentOrdinal,
        reader: &SegmentReader,
    ) -> tantivy::Result<RowSegmentCollector> {
        let fast = reader.fast_fields();
        Ok(RowSegmentCollector {
            segment,
            group: fast.i64("group_key")?.first_or_default_col(0),
            doc_kind: fast.i64("doc_kind")?.first_or_default_col(DOC_CASE),
            created: fast.i64("created_at")?.first_or_default_col(0),
            rows: RowMap::default(),
            current: None,
        })
    }

    fn requires_scoring(&self) -> bool {
        true
    }

    fn merge_fruits(&self, fruits: Vec<RowMap>) -> tantivy::Result<RowMap> {
        // Into the largest, so the fewest rows are hashed again.
        let mut fruits = fruits;
        fruits.sort_by_key(|f| std::cmp::Reverse(f.len()));
        let mut fruits = fruits.into_iter();
        let mut all = fruits.next().unwrap_or_default();
        for fruit in fruits {
            for (key, row) in fruit {
                add_row(&mut all, key, row);
            }
        }
        Ok(all)
    }
}

impl SegmentCollector for RowSegmentCollector {
    type Fruit = RowMap;

    fn collect(&mut self, doc: DocId, score: Score) {
        let comment = self.doc_kind.get_val(doc) == DOC_COMMENT;
        let found = RowMatch {
            score,
            newest_ms: self.created.get_val(doc),
            comments: u32::from(comment),
            itself: (!comment).then_some(DocAddress::new(self.segment, doc)),
        };
        let key = self.group.get_val(doc);
        match &mut self.current {
            Some((current, row)) if *current == key => row.merge(found),
            _ => {
                if let Some((previous, row)) = self.current.replace((key, found)) {
                    add_row(&mut self.rows, previous, row);
                }
            }
        }
    }

    fn harvest(mut self) -> RowMap {
        if let Some((key, row)) = self.current.take() {
            add_row(&mut self.rows, key, row);
        }
        self.rows
    }
}

/// The rows a page of results is cut from: every row a search matches is counted (a bit per
/// case, a set for the few articles and questions), but only rows that may still reach the
/// page are kept with their order. In a broad search of a large index most matches then cost
/// one fast-field read and one bit, where gathering every row cost three reads and a hash.
///
/// A row is kept while its order value (its best score, or with `newest` its newest match)
/// is at least the `keep`-th best value kept so far. The threshold only rises, so a match
/// below it belongs to a row that already has `keep` rows at or above it: that row cannot
/// reach the page, however its other matches score, and a row that does reach it has its
/// best match kept. Rows of a relevance search that tie on score are ordered by the time of
/// their best match (ties again: the newest), which such a best match carries with it.
struct PageCollector {
    keep: usize,
    newest: bool,
}

/// The order of a kept row: its value (best score, or newest match), then `tie` (the time
/// of its best match; unused when ordering by newest), then its key.
#[derive(Debug, Clone, Copy)]
struct Ranked {
    value: f64,
    tie: i64,
}

impl Ranked {
    fn beats(&self, other: &Ranked) -> bool {
        self.value
            .total_cmp(&other.value)
            .then(self.tie.cmp(&other.tie))
            .is_gt()
    }
}

/// Every row key a search matched: a bit per case (case ids are dense and small), a set for
/// articles, questions and any key too large for the bits.
#[derive(Default)]
struct RowKeys {
    cases: Vec<u64>,
    others: std::collections::HashSet<i64, std::hash::BuildHasherDefault<KeyHasher>>,
}

/// Cases above this id are counted in the set rather than the bits (8 MB of bits at most).
const ROW_BITS: i64 = 1 << 26;

impl RowKeys {
    fn insert(&mut self, key: i64) {
        if (0..ROW_BITS).contains(&key) {
            let (word, bit) = ((key >> 6) as usize, key & 63);
            if word >= self.cases.len() {
                self.cases.resize((word + 1).next_power_of_two(), 0);
            }
            self.cases[word] |= 1 << bit;
        } else {
            self.others.insert(key);
        }
    }

    fn union(&mut self, other: RowKeys) {
        if other.cases.len() > self.cases.len() {
            self.cases.resize(other.cases.len(), 0);
        }
        for (word, bits) in self.cases.iter_mut().zip(other.cases) {
            *word |= bits;
        }
        self.others.extend(other.others);
    }

    fn len(&self) -> usize {
        self.cases
            .iter()
            .map(|w| w.count_ones() as usize)
            .sum::<usize>()
            + self.others.len()
    }
}

type RankedRows = HashMap<i64, Ranked, std::hash::BuildHasherDefault<KeyHasher>>;

/// Keeps the better of a row's two standings; true when the row is new.
fn keep_best(rows: &mut RankedRows, key: i64, ranked: Ranked) -> bool {
    match rows.entry(key) {
        Entry::Occupied(mut e) => {
            if ranked.beats(e.get()) {
                e.insert(ranked);
            }
            false
        }
        Entry::Vacant(e) => {
            e.insert(ranked);
            true
        }
    }
}

struct PageSegmentCollector {
    group: std::sync::Arc<dyn ColumnValues<i64>>,
    created: std::sync::Arc<dyn ColumnValues<i64>>,
    newest: bool,
    keep: usize,
    keys: RowKeys,
    rows: RankedRows,
    threshold: f64,
    prune_at: usize,
}

impl PageSegmentCollector {
    /// Drops the rows below the `keep`-th best value and raises the threshold to it.
    fn prune(&mut self) {
        let mut values: Vec<f64> = self.rows.values().map(|r| r.value).collect();
        if values.len() > self.keep {
            let (_, kth, _) = values.select_nth_unstable_by(self.keep - 1, |a, b| b.total_cmp(a));
            self.threshold = *kth;
            let threshold = self.threshold;
            self.rows.retain(|_, r| r.value >= threshold);
        }
        // Many rows tied at the threshold stay; prune again only once they have doubled.
        self.prune_at = self
            .rows
            .len()
            .saturating_mul(2)
            .max(self.keep.saturating_mul(2))
            .max(64);
    }
}

impl Collector for PageCollector {
    type Fruit = (RowKeys, RankedRows);
    type Child = PageSegmentCollector;

    fn for_segment(
        &self,
        _segment: SegmentOrdinal,
        reader: &SegmentReader,
    ) -> tantivy::Result<PageSegmentCollector> {
        let fast = reader.fast_fields();
        let keep = self.keep.max(1);
        Ok(PageSegmentCollector {
            group: fast.i64("group_key")?.first_or_default_col(0),
            created: fast.i64("created_at")?.first_or_default_col(0),
            newest: self.newest,
            keep,
            keys: RowKeys::default(),
            rows: RankedRows::default(),
            threshold: f64::NEG_INFINITY,
            prune_at: keep.saturating_mul(2).max(64),
        })
    }

    fn requires_scoring(&self) -> bool {
        !self.newest
    }

    fn merge_fruits(&self, fruits: Vec<(RowKeys, RankedRows)>) -> tantivy::Result<Self::Fruit> {
        let mut fruits = fruits;
        fruits.sort_by_key(|(_, rows)| std::cmp::Reverse(rows.len()));
        let mut fruits = fruits.into_iter();
        let (mut keys, mut rows) = fruits.next().unwrap_or_default();
        for (more_keys, more_rows) in fruits {
            keys.union(more_keys);
            for (key, ranked) in more_rows {
                keep_best(&mut rows, key, ranked);
            }
        }
        Ok((keys, rows))
    }
}

impl SegmentCollector for PageSegmentCollector {
    type Fruit = (RowKeys, RankedRows);

    fn collect(&mut self, doc: DocId, score: Score) {
        let key = self.group.get_val(doc);
        self.keys.insert(key);
        let ranked = if self.newest {
            let value = self.created.get_val(doc) as f64;
            if value < self.threshold {
                return;
            }
            Ranked { value, tie: 0 }
        } else {
            let value = f64::from(score);
            if value < self.threshold {
                return;
            }
            Ranked {
                value,
                tie: self.created.get_val(doc),
            }
        };
        if keep_best(&mut self.rows, key, ranked) && self.rows.len() >= self.prune_at {
            self.prune();
        }
    }

    fn harvest(self) -> (RowKeys, RankedRows) {
        (self.keys, self.rows)
    }
}

impl SearchIndex {
    /// The whole query for a reader: what they may see, the filters, and every word and
    /// phrase.
    fn full_query(
        &self,
        searcher: &Searcher,
        query: &SearchQuery,
        visibility: &Visibility,
        admit: Admit,
    ) -> Box<dyn Query> {
        let f = &self.fields;
        let mut must: Vec<Box<dyn Query>> = Vec::new();
        let mut excluded = None;
        match visibility_exclusion(f, visibility, admit) {
            Some(exclusion) => excluded = exclusion,
            None => must.push(visibility_filter(f, visibility, admit)),
        }
        for field in FilterField::ALL {
            let values: Vec<&str> = query.filters(*field).collect();
            if let (false, Some(target)) = (values.is_empty(), filter_field(f, *field)) {
                must.push(Box::new(ConstScoreQuery::new(
                    any_of(
                        values
                            .iter()
                            .flat_map(|v| filter_terms(*field, v))
                            .map(|v| term_query(target, &v))
                            .collect(),
                    ),
                    0.0,
                )));
            }
        }
        for clause in &query.clauses {
            let text_query = match clause {
                Clause::Word(w) => word_query(f, Some(searcher), w),
                Clause::Phrase(p) => phrase_query(f, p),
                Clause::Filter { .. } => None,
            };
            if let Some(q) = text_query {
                must.push(q);
            }
        }
        if must.is_empty() {
            // Nothing asked but what may be seen: everything, scored as the filter scores (0).
            must.push(Box::new(ConstScoreQuery::new(Box::new(AllQuery), 0.0)));
        }
        match excluded {
            None => all_of(must),
            Some(excluded) => {
                let mut clauses: Vec<(Occur, Box<dyn Query>)> =
                    must.into_iter().map(|q| (Occur::Must, q)).collect();
                clauses.push((Occur::MustNot, excluded));
                Box::new(BooleanQuery::new(clauses))
            }
        }
    }

    /// Runs a parsed query for a caller; at most `limit` documents (cases, comments and
    /// articles each on their own), best (or newest) first.
    pub fn search(
        &self,
        query: &SearchQuery,
        visibility: &Visibility,
        sort: Sort,
        limit: usize,
    ) -> Result<Vec<Hit>> {
        let f = &self.fields;
        let searcher = self.reader.searcher();
        let query = self.full_query(&searcher, query, visibility, SEARCH_ALL);
        let limit = limit.max(1);
        let mut hits = Vec::new();
        match sort {
            Sort::Relevance => {
                for (score, address) in searcher.search(&query, &TopDocs::with_limit(limit))? {
                    hits.push(read_hit(&searcher, f, address, score)?);
                }
            }
            Sort::Newest => {
                let collector = TopDocs::with_limit(limit)
                    .order_by_fast_field::<i64>("created_at", Order::Desc);
                for (_, address) in searcher.search(&query, &collector)? {
                    hits.push(read_hit(&searcher, f, address, 0.0)?);
                }
            }
        }
        Ok(hits)
    }

    /// One page of results for a caller, as rows: each case once, with the comments that
    /// matched folded under it, each article and each question; `page` counts from 0. `total`
    /// counts rows. By relevance, rows are ordered by their best score, rows of equal score
    /// by the time of their best match, newest first; newest first orders rows by their
    /// latest matching document. Ties last: the higher id first.
    pub fn search_rows(
        &self,
        query: &SearchQuery,
        visibility: &Visibility,
        sort: Sort,
        page: usize,
        per_page: usize,
    ) -> Result<ResultPage> {
        let f = &self.fields;
        let searcher = self.reader.searcher();
        let full = self.full_query(&searcher, query, visibility, SEARCH_ALL);
        let per_page = per_page.max(1);
        let skip = page.saturating_mul(per_page);
        let wanted = skip.saturating_add(per_page);
        let (keys, ranked) = searcher.search(
            full.as_ref(),
            &PageCollector {
                keep: wanted,
                newest: sort == Sort::Newest,
            },
        )?;
        let total = keys.len();
        let mut ranked: Vec<(i64, Ranked)> = ranked.into_iter().collect();
        let order = |a: &(i64, Ranked), b: &(i64, Ranked)| {
            b.1.value
                .total_cmp(&a.1.value)
                .then(b.1.tie.cmp(&a.1.tie))
                .then(b.0.cmp(&a.0))
        };
        if ranked.len() > wanted {
            // Only the rows up to this page need ordering.
            ranked.select_nth_unstable_by(wanted, order);
            ranked.truncate(wanted);
        }
        ranked.sort_unstable_by(order);
        let page_keys: Vec<i64> = ranked.into_iter().skip(skip).map(|(key, _)| key).collect();
        // What matched in each row of the page (its comments, whether its own document did,
        // its newest match): the same query over those rows alone.
        let mut details = self.row_details(&searcher, full.as_ref(), &page_keys)?;
        let page_rows: Vec<(i64, RowMatch)> = page_keys
            .into_iter()
            .filter_map(|key| details.remove(&key).map(|row| (key, row)))
            .collect();

        let case_ids: Vec<i64> = page_rows
            .iter()
            .filter(|(key, row)| *key > 0 && row.comments > 0)
            .map(|(key, _)| *key)
            .collect();
        let mut folded =
            self.folded_comments(&searcher, query, visibility, &page_rows, &case_ids)?;
        let mut out = Vec::with_capacity(page_rows.len());
        for (key, row) in page_rows {
            let (kind, id) = row_of_group(key);
            let mut comments = folded.remove(&key).unwrap_or_default();
            let itself = match row.itself {
                Some(address) => Some(read_hit(&searcher, f, address, row.score)?),
                None => self.document_by_key(&searcher, &format!("case:{id}"))?,
            };
            // A case missing from the index (it cannot be, as its comments carry it) is shown
            // under its comments' title rather than dropped.
            let (title, excerpt, created_at_ms) = match itself {
                Some(hit) => (hit.title, hit.excerpt, hit.created_at_ms),
                None => (
                    comments
                        .first()
                        .map(|c| c.title.clone())
                        .unwrap_or_default(),
                    String::new(),
                    row.newest_ms,
                ),
            };
            let shown = comments.len().min(FOLDED_COMMENTS);
            comments.truncate(shown);
            out.push(ResultRow {
                kind,
                id,
                title,
                excerpt,
                created_at_ms,
                score: if sort == Sort::Relevance {
                    row.score
                } else {
                    0.0
                },
                matched_itself: row.itself.is_some(),
                more_comments: (row.comments as usize).saturating_sub(shown),
                comments,
            });
        }
        Ok(ResultPage { rows: out, total })
    }

    /// Everything `full` matches in these rows, gathered per row: for a case its own
    /// document and its comments, for an article or a question its document.
    fn row_details(&self, searcher: &Searcher, full: &dyn Query, keys: &[i64]) -> Result<RowMap> {
        if keys.is_empty() {
            return Ok(RowMap::default());
        }
        let f = &self.fields;
        let mut parts: Vec<Box<dyn Query>> = Vec::new();
        for key in keys {
            let (kind, id) = row_of_group(*key);
            parts.push(term_query(f.key, &format!("{}:{id}", kind.as_str())));
            if kind == DocType::Case {
                parts.push(int_query(f.case_id, id));
            }
        }
        let restricted = all_of(vec![
            full.box_clone(),
            Box::new(ConstScoreQuery::new(any_of(parts), 0.0)),
        ]);
        Ok(searcher.search(restricted.as_ref(), &RowCollector)?)
    }

    /// The matching comments of these cases that the reader may see, best first per case.
    fn folded_comments(
        &self,
        searcher: &Searcher,
        query: &SearchQuery,
        visibility: &Visibility,
        rows: &[(i64, RowMatch)],
        case_ids: &[i64],
    ) -> Result<HashMap<i64, Vec<Hit>>> {
        let f = &self.fields;
        let mut out: HashMap<i64, Vec<Hit>> = HashMap::new();
        if case_ids.is_empty() {
            return Ok(out);
        }
        let admit = Admit {
            cases: false,
            cases_solved: None,
            comments: true,
            articles: false,
            answering_articles_only: false,
            questions: false,
            answered_questions_only: false,
        };
        let comments = all_of(vec![
            self.full_query(searcher, query, visibility, admit),
            Box::new(ConstScoreQuery::new(
                any_of(
                    case_ids
                        .iter()
                        .map(|id| int_query(f.case_id, *id))
                        .collect(),
                ),
                0.0,
            )),
        ]);
        let expected: usize = rows.iter().map(|(_, r)| r.comments as usize).sum();
        let limit = expected.clamp(1, FOLD_READ_LIMIT);
        for (score, address) in searcher.search(comments.as_ref(), &TopDocs::with_limit(limit))? {
            let hit = read_hit(searcher, f, address, score)?;
            let Some(case_id) = hit.case_id else { continue };
            let list = out.entry(case_id).or_default();
            if list.len() < FOLDED_COMMENTS {
                list.push(hit);
            }
        }
        Ok(out)
    }

    /// The stored document with this key (`case:12`), whoever may see it: callers check.
    fn document_by_key(&self, searcher: &Searcher, key: &str) -> Result<Option<Hit>> {
        let found = searcher.search(
            term_query(self.fields.key, key).as_ref(),
            &TopDocs::with_limit(1),
        )?;
        match found.first() {
            Some((_, address)) => Ok(Some(read_hit(searcher, &self.fields, *address, 0.0)?)),
            None => Ok(None),
        }
    }
}

impl SearchIndex {
    /// Which of these cases the index holds as solved: read before a batch replaces them, it
    /// tells which cases the batch solves or reopens.
    pub fn solved_cases(&self, ids: &[i64]) -> Result<std::collections::HashSet<i64>> {
        let f = &self.fields;
        let mut out = std::collections::HashSet::new();
        if ids.is_empty() {
            return Ok(out);
        }
        let searcher = self.reader.searcher();
        for chunk in ids.chunks(1_000) {
            let query = all_of(vec![
                term_query(f.kind, "case"),
                int_query(f.solved, 1),
                any_of(chunk.iter().map(|id| int_query(f.id, *id)).collect()),
            ]);
            for (_, address) in
                searcher.search(query.as_ref(), &TopDocs::with_limit(chunk.len()))?
            {
                let id = searcher
                    .segment_reader(address.segment_ord)
                    .fast_fields()
                    .i64("id")?
                    .first(address.doc_id);
                out.extend(id);
            }
        }
        Ok(out)
    }
}

impl SearchIndex {
    /// Whether the index holds this document (as of its last commit). Counted by a search,
    /// which skips removed documents (term frequencies count them until segments merge).
    pub fn holds(&self, kind: DocType, id: i64) -> bool {
        let query = term_query(self.fields.key, &format!("{}:{id}", kind.as_str()));
        self.reader
            .searcher()
            .search(query.as_ref(), &tantivy::collector::Count)
            .is_ok_and(|n| n > 0)
    }
}
