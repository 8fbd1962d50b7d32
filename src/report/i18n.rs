//! The language of the reports (`--lang en|ja`): every label, heading and explanatory sentence of
//! the templates comes from `report_templates/i18n/<lang>.toml` as `tx.<key>`.

use std::collections::BTreeMap;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
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

    pub fn messages(self) -> Messages {
        let text = match self {
            Lang::En => EN,
            Lang::Ja => JA,
        };
        toml::from_str(text).expect("the built-in report messages parse")
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
