//! Search of the catalogue in everyday Russian: words reduced to their stems (Snowball's Russian
//! stemmer), a maintained list of synonyms (`data/synonyms.toml`: «загран», «права», «прописка»
//! …), one typo forgiven in longer words, and prefix completion for the search box.
//!
//! The index is derived data: every node builds its own from the catalogue at start and again
//! when the catalogue's version changes. It lives in memory — a few thousand services make a
//! few megabytes — and answers without touching the database.

use std::collections::{HashMap, HashSet};

use rust_stemmers::{Algorithm, Stemmer};
use serde::Deserialize;

use super::catalogue::Catalogue;

/// The synonyms shipped with the project.
pub const SYNONYMS: &str = include_str!("../../data/synonyms.toml");

/// Words that say nothing about which service is meant.
const STOPWORDS: &[&str] = &[
    "а",
    "без",
    "в",
    "во",
    "где",
    "для",
    "до",
    "же",
    "за",
    "и",
    "из",
    "или",
    "как",
    "к",
    "ко",
    "ли",
    "мне",
    "мой",
    "моя",
    "на",
    "над",
    "не",
    "нужна",
    "нужно",
    "нужен",
    "о",
    "об",
    "от",
    "по",
    "под",
    "при",
    "про",
    "с",
    "со",
    "у",
    "хочу",
    "что",
    "это",
    "я",
];

#[derive(Debug, Deserialize)]
struct SynonymFile {
    #[serde(rename = "group")]
    groups: Vec<SynonymGroup>,
}

#[derive(Debug, Deserialize)]
struct SynonymGroup {
    words: Vec<String>,
}

/// A field's weight in the score: the title says most.
const TITLE: f32 = 3.0;
const KEYWORDS: f32 = 2.0;
const SUMMARY: f32 = 1.0;
const CATEGORY: f32 = 0.5;

/// One hit.
#[derive(Debug, Clone, PartialEq)]
pub struct Hit {
    /// The service's slug.
    pub slug: String,
    /// Its score (higher first).
    pub score: f32,
}

/// The search index of one catalogue.
pub struct Index {
    stemmer: Stemmer,
    /// Each synonym group's phrases as stem sequences; a match adds the token `#<group>`.
    phrases: Vec<(usize, Vec<String>)>,
    /// term → (service index, weight).
    postings: HashMap<String, Vec<(usize, f32)>>,
    /// Surface words (lowercase) → their stems, for completion.
    words: Vec<(String, String)>,
    slugs: Vec<String>,
    titles: Vec<String>,
}

impl std::fmt::Debug for Index {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Index")
            .field("services", &self.slugs.len())
            .field("terms", &self.postings.len())
            .finish_non_exhaustive()
    }
}

fn words(text: &str) -> impl Iterator<Item = String> + '_ {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(|w| w.to_lowercase().replace('ё', "е"))
}

impl Index {
    /// Builds the index of `catalogue` with the shipped synonyms.
    ///
    /// # Errors
    /// When the synonyms file is malformed (a test keeps the shipped one whole).
    pub fn build(catalogue: &Catalogue) -> Result<Index, String> {
        Index::with_synonyms(catalogue, SYNONYMS)
    }

    /// Builds the index of `catalogue` with synonyms from `synonyms` (TOML).
    ///
    /// # Errors
    /// When the synonyms are malformed.
    pub fn with_synonyms(catalogue: &Catalogue, synonyms: &str) -> Result<Index, String> {
        let file: SynonymFile = toml::from_str(synonyms).map_err(|e| e.message().to_owned())?;
        let mut index = Index {
            stemmer: Stemmer::create(Algorithm::Russian),
            phrases: Vec::new(),
            postings: HashMap::new(),
            words: Vec::new(),
            slugs: Vec::new(),
            titles: Vec::new(),
        };
        for (g, group) in file.groups.iter().enumerate() {
            for phrase in &group.words {
                // The same words left out as from the texts, or «справка о несудимости» would
                // never match a text that has lost its «о».
                let stems: Vec<String> = words(phrase)
                    .filter(|w| !STOPWORDS.contains(&w.as_str()))
                    .map(|w| index.stem(&w))
                    .collect();
                if !stems.is_empty() {
                    index.phrases.push((g, stems));
                }
            }
        }
        let mut surface: HashMap<String, String> = HashMap::new();
        for (i, s) in catalogue.services.iter().enumerate() {
            index.slugs.push(s.slug.clone());
            index.titles.push(s.title.clone());
            let category = catalogue
                .category(&s.category)
                .map(|c| c.title.as_str())
                .unwrap_or_default();
            let agency = catalogue.agency_title(&s.agency);
            let fields: [(&str, f32); 5] = [
                (&s.title, TITLE),
                (&s.keywords.join(" "), KEYWORDS),
                (&s.summary, SUMMARY),
                (category, CATEGORY),
                (agency, CATEGORY),
            ];
            let mut best: HashMap<String, f32> = HashMap::new();
            for (text, weight) in fields {
                for w in words(text) {
                    surface.entry(w.clone()).or_insert_with(|| index.stem(&w));
                }
                for term in index.terms(text) {
                    let e = best.entry(term).or_insert(0.0);
                    *e = e.max(weight);
                }
            }
            for (term, weight) in best {
                index.postings.entry(term).or_default().push((i, weight));
            }
        }
        index.words = surface.into_iter().collect();
        index.words.sort();
        Ok(index)
    }

    fn stem(&self, word: &str) -> String {
        if word.chars().any(|c| matches!(c, 'а'..='я')) {
            self.stemmer.stem(word).into_owned()
        } else {
            word.to_owned()
        }
    }

    /// The terms of a text: stems of its words (stopwords left out) and the synonym groups
    /// whose phrases it contains.
    fn terms(&self, text: &str) -> Vec<String> {
        let stems: Vec<String> = words(text)
            .filter(|w| !STOPWORDS.contains(&w.as_str()))
            .map(|w| self.stem(&w))
            .collect();
        self.with_groups(stems)
    }

    /// `stems` and the synonym groups whose phrases they contain.
    fn with_groups(&self, stems: Vec<String>) -> Vec<String> {
        let mut out: Vec<String> = stems.clone();
        for (g, phrase) in &self.phrases {
            if stems.windows(phrase.len()).any(|w| w == phrase.as_slice()) {
                out.push(format!("#{g}"));
            }
        }
        out.sort();
        out.dedup();
        out
    }

    /// The services matching `query`, best first, at most `limit`. A longer word the catalogue
    /// does not know is read as the catalogue's word one typo away from it, if there is one.
    pub fn search(&self, query: &str, limit: usize) -> Vec<Hit> {
        let mut corrected = Vec::new();
        let mut stems = Vec::new();
        for w in words(query).filter(|w| !STOPWORDS.contains(&w.as_str())) {
            let stem = self.stem(&w);
            let known = self.postings.contains_key(&stem)
                || self.phrases.iter().any(|(_, p)| p.contains(&stem));
            match self.near_word(&w) {
                Some(fixed) if !known && w.chars().count() >= 5 => {
                    corrected.push(fixed.clone());
                    stems.push(fixed.clone());
                }
                _ => stems.push(stem),
            }
        }
        let terms = self.with_groups(stems);
        self.rank(
            terms
                .into_iter()
                .map(|t| {
                    let factor = if corrected.contains(&t) { 0.7 } else { 1.0 };
                    (t, factor)
                })
                .collect(),
            limit,
        )
    }

    fn rank(&self, terms: Vec<(String, f32)>, limit: usize) -> Vec<Hit> {
        let n = self.slugs.len().max(1) as f32;
        let mut scores: HashMap<usize, f32> = HashMap::new();
        for (term, factor) in terms {
            let Some(postings) = self.postings.get(&term) else {
                continue;
            };
            let idf = (1.0 + n / postings.len() as f32).ln();
            for &(i, weight) in postings {
                *scores.entry(i).or_insert(0.0) += weight * idf * factor;
            }
        }
        let mut hits: Vec<Hit> = scores
            .into_iter()
            .map(|(i, score)| Hit {
                slug: self.slugs[i].clone(),
                score,
            })
            .collect();
        hits.sort_by(|a, b| {
            b.score
                .total_cmp(&a.score)
                .then_with(|| a.slug.cmp(&b.slug))
        });
        hits.truncate(limit);
        hits
    }

    /// The stem of the catalogue's word one edit away from the typed `word`, if there is one.
    fn near_word(&self, word: &str) -> Option<&String> {
        let t: Vec<char> = word.chars().collect();
        self.words
            .iter()
            .find(|(w, _)| {
                let v: Vec<char> = w.chars().collect();
                v.len().abs_diff(t.len()) <= 1 && within_one_edit(&t, &v)
            })
            .map(|(_, stem)| stem)
    }

    /// Titles for the search box as the person types: the last word counts as a prefix.
    pub fn suggest(&self, query: &str, limit: usize) -> Vec<(String, String)> {
        let all: Vec<String> = words(query).collect();
        let Some((last, rest)) = all.split_last() else {
            return Vec::new();
        };
        let mut terms: Vec<(String, f32)> = self
            .terms(&rest.join(" "))
            .into_iter()
            .map(|t| (t, 1.0))
            .collect();
        let start = self
            .words
            .partition_point(|(w, _)| w.as_str() < last.as_str());
        let stems: HashSet<&String> = self.words[start..]
            .iter()
            .take_while(|(w, _)| w.starts_with(last.as_str()))
            .map(|(_, s)| s)
            .collect();
        terms.extend(stems.into_iter().map(|s| (s.clone(), 1.0)));
        terms.extend(
            self.terms(last)
                .into_iter()
                .filter(|t| t.starts_with('#'))
                .map(|t| (t, 1.0)),
        );
        self.rank(terms, limit)
            .into_iter()
            .filter_map(|h| {
                let i = self.slugs.iter().position(|s| *s == h.slug)?;
                Some((h.slug, self.titles[i].clone()))
            })
            .collect()
    }
}

/// Whether two words differ by at most one insertion, deletion or substitution.
fn within_one_edit(a: &[char], b: &[char]) -> bool {
    let (short, long) = if a.len() <= b.len() { (a, b) } else { (b, a) };
    let mut i = 0;
    let mut j = 0;
    let mut edits = 0;
    while i < short.len() && j < long.len() {
        if short[i] == long[j] {
            i += 1;
            j += 1;
            continue;
        }
        edits += 1;
        if edits > 1 {
            return false;
        }
        if short.len() == long.len() {
            i += 1;
        }
        j += 1;
    }
    edits + (long.len() - j) + (short.len() - i) <= 1
}

#[cfg(test)]
mod tests {
    use super::*;

    fn index() -> (Catalogue, Index) {
        let c = Catalogue::builtin().unwrap();
        let i = Index::build(&c).unwrap();
        (c, i)
    }

    fn first(i: &Index, c: &Catalogue, q: &str) -> String {
        let hit = i
            .search(q, 5)
            .into_iter()
            .next()
            .unwrap_or_else(|| panic!("nothing for {q:?}"));
        c.service(&hit.slug).unwrap().title.clone()
    }

    #[test]
    fn everyday_words_find_the_service() {
        let (c, i) = index();
        assert!(
            first(&i, &c, "справку о несудимости").contains("судимост"),
            "{}",
            first(&i, &c, "справку о несудимости")
        );
        assert!(
            first(&i, &c, "загран")
                .to_lowercase()
                .contains("заграничный паспорт")
        );
        assert!(
            first(&i, &c, "поменять права")
                .to_lowercase()
                .contains("водительского удостоверения")
        );
        assert!(
            first(&i, &c, "вычет за лечение")
                .to_lowercase()
                .contains("вычет")
        );
        assert!(
            first(&i, &c, "прописка")
                .to_lowercase()
                .contains("месту жительства")
        );
    }

    #[test]
    fn one_typo_is_forgiven_in_longer_words() {
        let (c, i) = index();
        assert!(first(&i, &c, "судимасти").contains("судимост"));
        assert!(i.search("zzzz", 5).is_empty());
    }

    #[test]
    fn edits_are_counted() {
        let w = |s: &str| s.chars().collect::<Vec<_>>();
        assert!(within_one_edit(&w("паспорт"), &w("паспорт")));
        assert!(within_one_edit(&w("паспорт"), &w("пасспорт")));
        assert!(within_one_edit(&w("паспорт"), &w("паспот")));
        assert!(within_one_edit(&w("паспорт"), &w("паспорд")));
        assert!(!within_one_edit(&w("паспорт"), &w("пасорд")));
    }

    #[test]
    fn the_box_completes_the_last_word() {
        let (_, i) = index();
        let s = i.suggest("загранпасп", 5);
        assert!(!s.is_empty());
        assert!(s[0].1.to_lowercase().contains("заграничный"), "{s:?}");
    }
}
