//! The language of the reports (`--lang en|ja`): every label, heading and explanatory sentence of
//! the templates comes from `report_templates/i18n/<lang>.toml` as `tx.<key>`.

use std::collections::BTreeMap;
use std::sync::OnceLock;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum Lang {
    #[default]
    En,
    Ja,
}

const EN: &str = include_str!("../../report_templates/i18n/en.toml");
const JA: &str = include_str!("../../report_templates/i18n/ja.toml");

/// The report text of one language, by key.
pub type Messages = BTreeMap<String, String>;

impl Lang {
    pub fn code(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::Ja => "ja",
        }
    }

    pub fn from_code(code: &str) -> Option<Lang> {
        match code {
            "en" => Some(Lang::En),
            "ja" => Some(Lang::Ja),
            _ => None,
        }
    }

    /// The report text of the language, parsed once per process.
    pub fn messages(self) -> &'static Messages {
        static EN_MESSAGES: OnceLock<Messages> = OnceLock::new();
        static JA_MESSAGES: OnceLock<Messages> = OnceLock::new();
        let (cell, text) = match self {
            Lang::En => (&EN_MESSAGES, EN),
            Lang::Ja => (&JA_MESSAGES, JA),
        };
        cell.get_or_init(|| toml::from_str(text).expect("the built-in report messages parse"))
    }
}

/// The word for a verdict name (`green`, `in_progress`, …) in the messages.
pub fn verdict_names(messages: &Messages) -> BTreeMap<String, String> {
    ["green", "yellow", "red", "inconclusive", "in_progress"]
        .iter()
        .map(|verdict| {
            let word = messages
                .get(&format!("{verdict}_lower"))
                .cloned()
                .unwrap_or_else(|| verdict.to_string());
            (verdict.to_string(), word)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn japanese_has_every_english_key_and_the_seeds_terms() {
        let en = Lang::En.messages();
        let ja = Lang::Ja.messages();
        let missing: Vec<&String> = en.keys().filter(|k| !ja.contains_key(*k)).collect();
        assert!(missing.is_empty(), "ja.toml lacks {missing:?}");
        assert_eq!(en.len(), ja.len());
        assert_eq!(ja["steady_state"], "定常状態");
        assert_eq!(ja["hypothesis"], "仮説");
        assert_eq!(ja["blast_radius"], "爆発半径");
        assert!(ja["maturity_title"].contains("成熟度"));
    }
}

const JA_SENTENCES: &str = include_str!("../../report_templates/i18n/ja-sentences.toml");

#[derive(Debug, Clone, serde::Deserialize)]
struct SentenceFile {
    sentence: Vec<SentencePattern>,
}

#[derive(Debug, Clone, serde::Deserialize)]
struct SentencePattern {
    en: String,
    ja: String,
}

/// Rewrites the English sentences analysis writes (reasons, assumption sources) into the
/// report's language, from `report_templates/i18n/<lang>-sentences.toml`.
#[derive(Debug, Clone, Default)]
pub struct Sentences {
    patterns: Vec<SentencePattern>,
}

impl Sentences {
    /// The sentences of the language, parsed once per process.
    pub fn for_lang(lang: Lang) -> &'static Sentences {
        static EN_SENTENCES: OnceLock<Sentences> = OnceLock::new();
        static JA_SENTENCES_PARSED: OnceLock<Sentences> = OnceLock::new();
        match lang {
            Lang::En => EN_SENTENCES.get_or_init(Sentences::default),
            Lang::Ja => JA_SENTENCES_PARSED.get_or_init(|| Sentences {
                patterns: toml::from_str::<SentenceFile>(JA_SENTENCES)
                    .expect("the built-in sentences parse")
                    .sentence,
            }),
        }
    }

    /// The sentence in the language, or as it was when no pattern matches it whole.
    pub fn translate(&self, english: &str) -> String {
        self.patterns
            .iter()
            .find_map(|pattern| {
                let values = match_pattern(&pattern.en, english)?;
                let mut out = pattern.ja.clone();
                for (name, value) in values {
                    out = out.replace(&format!("{{{name}}}"), value);
                }
                Some(out)
            })
            .unwrap_or_else(|| english.to_string())
    }
}

/// Matches `text` against a pattern of literal parts and `{name}` placeholders (each taking the
/// shortest text before the next literal part); the placeholders' values when it matches whole.
fn match_pattern<'t>(pattern: &str, text: &'t str) -> Option<Vec<(String, &'t str)>> {
    // Split into literal, name, literal, name, ..., literal.
    let mut literals = Vec::new();
    let mut names = Vec::new();
    let mut rest = pattern;
    while let Some(open) = rest.find('{') {
        let close = rest[open..].find('}')? + open;
        literals.push(&rest[..open]);
        names.push(rest[open + 1..close].to_string());
        rest = &rest[close + 1..];
    }
    literals.push(rest);
    let mut position = text.strip_prefix(literals[0])?;
    let mut values = Vec::new();
    for (index, name) in names.into_iter().enumerate() {
        let next = literals[index + 1];
        let is_last = index + 2 == literals.len();
        let end = if is_last {
            // The last placeholder takes everything up to the final literal, which must end the text.
            position
                .len()
                .checked_sub(next.len())
                .filter(|end| position[*end..] == *next)?
        } else if next.is_empty() {
            return None;
        } else {
            position.find(next)?
        };
        let value = &position[..end];
        if value.is_empty() {
            return None;
        }
        values.push((name, value));
        position = &position[end + next.len()..];
    }
    position.is_empty().then_some(values)
}

#[cfg(test)]
mod sentence_tests {
    use super::*;

    #[test]
    fn reasons_are_rewritten_in_japanese_and_unknown_ones_stay() {
        let ja = Sentences::for_lang(Lang::Ja);
        assert_eq!(
            ja.translate("healthy_hosts left its steady state (>= 2) 1m after the fault began and was back 3m after it."),
            "healthy_hosts は障害開始から 1m 後に定常状態（>= 2）を外れ、3m 後に戻りました。"
        );
        assert_eq!(
            ja.translate("The experiment was stopped: Experiment stopped by stop condition."),
            "実験は停止されました：Experiment stopped by stop condition。"
        );
        assert_eq!(
            ja.translate("The experiment was stopped."),
            "実験は停止されました。"
        );
        assert_eq!(ja.translate("default"), "既定値");
        assert_eq!(ja.translate("Something new."), "Something new.");
        let en = Sentences::for_lang(Lang::En);
        assert_eq!(en.translate("default"), "default");
    }
}
