//! Text to a sparse TF-IDF vector.
//!
//! Two groups of features, each scaled to unit length and then weighted, so that neither
//! the many character n-grams nor the few words drown the other:
//!
//! - words: every lower-cased word, adjacent word pairs (with the start and end of the text
//!   as words, since intent often sits in how a request opens), and the analysed content
//!   words the search index uses (stemmed, stop words dropped: `crate::analysis::words`);
//! - characters: 2- to 5-grams inside each word padded with a space on each side, which
//!   catch inflections, compounds and typos that whole words miss.
//!
//! Columns are numbered word features first, so the neighbour search can take the word part
//! of a vector alone.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

/// Keys are already well-mixed 64-bit hashes; hashing them again would only cost time.
#[derive(Default)]
pub(super) struct KeyHasher(u64);

impl Hasher for KeyHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 << 8) | u64::from(b);
        }
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
}

type KeyMap<V> = HashMap<u64, V, BuildHasherDefault<KeyHasher>>;

#[derive(Clone, Copy, PartialEq, Eq)]
enum Group {
    Words,
    Characters,
}

/// Feature kinds, mixed into each key so a word and a character n-gram never collide.
const WORD: u8 = 1;
const WORD_PAIR: u8 = 2;
const CONTENT_WORD: u8 = 3;
const CHARACTERS: u8 = 4;

/// Weight of the word group in a vector; the character group gets the rest, so a text whose
/// features are all known has unit length.
const WORD_GROUP_WEIGHT: f64 = std::f64::consts::FRAC_1_SQRT_2;

/// FNV-1a over the kind and the parts, with a separator between parts.
fn key(kind: u8, parts: &[&str]) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    let mut feed = |b: u8| {
        hash ^= u64::from(b);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    };
    feed(kind);
    for part in parts {
        for &b in part.as_bytes() {
            feed(b);
        }
        feed(0xff);
    }
    // A final mix so the low bits (which the map uses) depend on every byte.
    let mut z = hash;
    z = (z ^ (z >> 33)).wrapping_mul(0xff51_afd7_ed55_8ccd);
    z = (z ^ (z >> 33)).wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    z ^ (z >> 33)
}

/// Lower-cased words: runs of letters and digits; apostrophes inside a word are dropped
/// (`what's` -> `whats`, `don't` -> `dont`) so contractions stay one word.
pub(super) fn tokens(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut current = String::new();
    for c in text.chars() {
        if c.is_alphanumeric() {
            current.extend(c.to_lowercase());
        } else if (c == '\'' || c == '’') && !current.is_empty() {
            continue;
        } else if !current.is_empty() {
            out.push(std::mem::take(&mut current));
        }
    }
    if !current.is_empty() {
        out.push(current);
    }
    out
}

/// Every feature of `text` with its group, repeated as often as it occurs.
fn raw_features(text: &str, out: &mut Vec<(u64, Group)>) -> usize {
    out.clear();
    let words = tokens(text);
    for word in &words {
        out.push((key(WORD, &[word]), Group::Words));
    }
    let padded: Vec<&str> = std::iter::once("^")
        .chain(words.iter().map(String::as_str))
        .chain(std::iter::once("$"))
        .collect();
    for pair in padded.windows(2) {
        out.push((key(WORD_PAIR, pair), Group::Words));
    }
    for word in crate::analysis::words(text) {
        out.push((key(CONTENT_WORD, &[&word]), Group::Words));
    }
    let mut chars = Vec::new();
    let mut buffer = String::new();
    for word in &words {
        chars.clear();
        chars.push(' ');
        chars.extend(word.chars());
        chars.push(' ');
        for n in 2..=5 {
            for window in chars.windows(n) {
                buffer.clear();
                buffer.extend(window);
                out.push((key(CHARACTERS, &[&buffer]), Group::Characters));
            }
        }
    }
    words.len()
}

/// A text as weighted columns, sorted by column.
pub(super) struct Vector {
    pub(super) entries: Vec<(u32, f32)>,
    /// Share of the text's words that training had seen (1 for an empty text).
    pub(super) known_share: f64,
}

pub(super) struct Featurizer {
    columns: KeyMap<u32>,
    idf: Vec<f32>,
    /// Columns below this are word features.
    word_columns: u32,
    /// Inverse document frequency of a feature training never saw: it still weighs in the
    /// vector's length.
    unseen_idf: f64,
}

impl Featurizer {
    pub(super) fn fit(texts: &[&str]) -> Featurizer {
        let mut document_frequency: KeyMap<(u32, Group)> = KeyMap::default();
        let mut raw = Vec::new();
        let mut seen: KeyMap<()> = KeyMap::default();
        for text in texts {
            raw_features(text, &mut raw);
            seen.clear();
            for &(k, group) in &raw {
                if seen.insert(k, ()).is_none() {
                    document_frequency.entry(k).or_insert((0, group)).0 += 1;
                }
            }
        }
        // Word columns first; within a group by key, so numbering does not depend on the
        // map's iteration order.
        let mut keys: Vec<(bool, u64, u32)> = document_frequency
            .iter()
            .map(|(&k, &(df, group))| (group == Group::Characters, k, df))
            .collect();
        keys.sort_unstable();
        let documents = texts.len() as f64;
        let idf_of = |df: f64| ((1.0 + documents) / (1.0 + df)).ln() + 1.0;
        let mut columns = KeyMap::default();
        let mut idf = Vec::with_capacity(keys.len());
        let mut word_columns = 0;
        for (column, &(is_char, k, df)) in keys.iter().enumerate() {
            columns.insert(k, column as u32);
            idf.push(idf_of(f64::from(df)) as f32);
            if !is_char {
                word_columns = column as u32 + 1;
            }
        }
        Featurizer {
            columns,
            idf,
            word_columns,
            unseen_idf: idf_of(0.0),
        }
    }

    pub(super) fn dimensions(&self) -> usize {
        self.idf.len()
    }

    pub(super) fn word_dimensions(&self) -> u32 {
        self.word_columns
    }

    pub(super) fn vector(&self, text: &str) -> Vector {
        let mut raw = Vec::new();
        let word_count = raw_features(text, &mut raw);
        let mut counts: KeyMap<(u32, Group)> = KeyMap::default();
        for &(k, group) in &raw {
            counts.entry(k).or_insert((0, group)).0 += 1;
        }
        let mut known_words = 0usize;
        let mut squared = [0.0f64; 2];
        let mut entries = Vec::with_capacity(counts.len());
        for (k, (count, group)) in counts {
            let tf = 1.0 + f64::from(count).ln();
            let column = self.columns.get(&k).copied();
            let idf = column.map_or(self.unseen_idf, |c| f64::from(self.idf[c as usize]));
            let value = tf * idf;
            squared[group as usize] += value * value;
            if let Some(c) = column {
                entries.push((c, value));
            }
        }
        for word in tokens(text) {
            if self.columns.contains_key(&key(WORD, &[&word])) {
                known_words += 1;
            }
        }
        let scale = [
            WORD_GROUP_WEIGHT / squared[0].sqrt().max(1e-12),
            (1.0 - WORD_GROUP_WEIGHT * WORD_GROUP_WEIGHT).sqrt() / squared[1].sqrt().max(1e-12),
        ];
        let mut entries: Vec<(u32, f32)> = entries
            .into_iter()
            .map(|(c, v)| {
                let group = usize::from(c >= self.word_columns);
                (c, (v * scale[group]) as f32)
            })
            .collect();
        entries.sort_unstable_by_key(|&(c, _)| c);
        Vector {
            entries,
            known_share: if word_count == 0 {
                1.0
            } else {
                known_words as f64 / word_count as f64
            },
        }
    }
}
