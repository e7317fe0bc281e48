//! Nearest training texts by cosine similarity of word features, through an inverted index
//! (only rows sharing a word with the query are touched). Character n-grams are left out:
//! almost every text shares some with every other, which would make the search slow and
//! the similarity less telling.

pub(super) struct Neighbours {
    /// For each word column, the rows having it and their weights (`starts` indexes `postings`).
    starts: Vec<u32>,
    postings: Vec<(u32, f32)>,
    /// Category of each row, `None` for an out-of-scope row.
    targets: Vec<Option<usize>>,
    word_columns: u32,
}

pub(super) struct Nearest {
    /// Best similarity to a training text of each category.
    pub(super) by_class: Vec<f64>,
    /// Best similarity to an out-of-scope training text (0 when there are none).
    pub(super) out_of_scope: f64,
}

/// The word part of a vector, scaled to unit length.
fn word_part(entries: &[(u32, f32)], word_columns: u32) -> Vec<(u32, f32)> {
    let words: Vec<(u32, f32)> = entries
        .iter()
        .copied()
        .filter(|&(c, _)| c < word_columns)
        .collect();
    let norm = words
        .iter()
        .map(|&(_, v)| f64::from(v) * f64::from(v))
        .sum::<f64>()
        .sqrt();
    if norm == 0.0 {
        return Vec::new();
    }
    words
        .into_iter()
        .map(|(c, v)| (c, (f64::from(v) / norm) as f32))
        .collect()
}

impl Neighbours {
    pub(super) fn build(
        vectors: &[super::features::Vector],
        targets: &[Option<usize>],
        word_columns: u32,
    ) -> Neighbours {
        let parts: Vec<Vec<(u32, f32)>> = vectors
            .iter()
            .map(|v| word_part(&v.entries, word_columns))
            .collect();
        let mut counts = vec![0u32; word_columns as usize + 1];
        for part in &parts {
            for &(c, _) in part {
                counts[c as usize + 1] += 1;
            }
        }
        for i in 1..counts.len() {
            counts[i] += counts[i - 1];
        }
        let starts = counts.clone();
        let mut fill = counts;
        let mut postings = vec![(0u32, 0.0f32); *starts.last().unwrap_or(&0) as usize];
        for (row, part) in parts.iter().enumerate() {
            for &(c, v) in part {
                let at = &mut fill[c as usize];
                postings[*at as usize] = (row as u32, v);
                *at += 1;
            }
        }
        Neighbours {
            starts,
            postings,
            targets: targets.to_vec(),
            word_columns,
        }
    }

    pub(super) fn nearest(&self, entries: &[(u32, f32)], classes: usize) -> Nearest {
        let query = word_part(entries, self.word_columns);
        let mut similarity = vec![0.0f32; self.targets.len()];
        for (c, v) in query {
            let (from, to) = (
                self.starts[c as usize] as usize,
                self.starts[c as usize + 1] as usize,
            );
            for &(row, weight) in &self.postings[from..to] {
                similarity[row as usize] += v * weight;
            }
        }
        let mut nearest = Nearest {
            by_class: vec![0.0; classes],
            out_of_scope: 0.0,
        };
        for (row, &s) in similarity.iter().enumerate() {
            let s = f64::from(s);
            let best = match self.targets[row] {
                Some(c) => &mut nearest.by_class[c],
                None => &mut nearest.out_of_scope,
            };
            *best = best.max(s);
        }
        nearest
    }
}
