//! The language of the reports (`--lang en|ja`): every label, heading and explanatory sentence of
//! the templates comes from `report_templates/i18n/<lang>.toml` as `tx.<key>`.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use crate::analyze::reason::Reason;
use crate::analyze::roi::AssumptionSource;

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

/// A sentence of the language from its template (`key` in `<lang>.toml`), the `{placeholders}`
/// replaced by `values`. A key the language lacks falls back to English (a test keeps every key in
/// every language).
pub fn sentence(lang: Lang, key: &str, values: &[(&str, String)]) -> String {
    let template = lang
        .messages()
        .get(key)
        .or_else(|| Lang::En.messages().get(key))
        .map(String::as_str)
        .unwrap_or(key);
    fill(template, values)
}

/// `template` with each `{name}` of `values` replaced by its value, in one pass (every outcome's
/// reasons are written this way, twice per report). A value is never searched for placeholders
/// itself: a metric named `{limit}` stays as it is. An unknown `{name}` stays in the text.
fn fill(template: &str, values: &[(&str, String)]) -> String {
    let mut text = String::with_capacity(
        template.len() + values.iter().map(|(_, value)| value.len()).sum::<usize>(),
    );
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        text.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        let value = after.find('}').and_then(|close| {
            let name = &after[..close];
            let (_, value) = values.iter().find(|(known, _)| *known == name)?;
            Some((value, close))
        });
        match value {
            Some((value, close)) => {
                text.push_str(value);
                rest = &after[close + 1..];
            }
            None => {
                text.push('{');
                rest = after;
            }
        }
    }
    text.push_str(rest);
    text
}

/// A reason of a verdict in the language.
pub fn reason_text(lang: Lang, reason: &Reason) -> String {
    sentence(lang, &reason.template_key(), &reason.values())
}

/// The reasons of a verdict in the language, in their order.
pub fn reason_texts(lang: Lang, reasons: &[Reason]) -> Vec<String> {
    reasons
        .iter()
        .map(|reason| reason_text(lang, reason))
        .collect()
}

/// The codes of a verdict's reasons, the same in every language (`report.json`'s `reason_codes`).
pub fn reason_codes(reasons: &[Reason]) -> Vec<String> {
    reasons
        .iter()
        .map(|reason| reason.code().to_string())
        .collect()
}

/// Where an ROI assumption comes from, in the language.
pub fn source_text(lang: Lang, source: &AssumptionSource) -> String {
    sentence(lang, &source.template_key(), &source.values())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_are_filled_once_each_and_never_inside_a_value() {
        let values = [
            ("series", "{limit}".to_string()),
            ("limit", "5".to_string()),
        ];
        assert_eq!(
            fill("{series} went over {limit}; {unknown} {", &values),
            "{limit} went over 5; {unknown} {"
        );
        assert_eq!(fill("{limit}{limit}", &values), "55");
        assert_eq!(fill("", &values), "");
    }

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

#[cfg(test)]
mod sentence_tests {
    use super::*;
    use crate::analyze::reason::tests::every_reason;

    /// The `{names}` of a template.
    fn placeholders(template: &str) -> Vec<&str> {
        template
            .split('{')
            .skip(1)
            .filter_map(|part| part.split_once('}').map(|(name, _)| name))
            .collect()
    }

    #[test]
    fn every_reason_has_a_sentence_in_every_language_using_exactly_its_values() {
        for lang in [Lang::En, Lang::Ja] {
            for reason in every_reason() {
                let key = reason.template_key();
                let template = lang
                    .messages()
                    .get(&key)
                    .unwrap_or_else(|| panic!("{} lacks {key}", lang.code()));
                let mut wanted: Vec<&str> = reason.values().iter().map(|(name, _)| *name).collect();
                let mut used = placeholders(template);
                wanted.sort();
                used.sort();
                assert_eq!(used, wanted, "{}: {key}", lang.code());
            }
            let sources = [
                AssumptionSource::Config,
                AssumptionSource::Default,
                AssumptionSource::MeasuredIncidents { incidents: 3 },
                AssumptionSource::MeasuredExperiments,
                AssumptionSource::Catalog {
                    low: 0.2,
                    high: 1.5,
                    source: "assumption".into(),
                },
            ];
            for source in sources {
                let key = source.template_key();
                let template = &lang.messages()[&key];
                let mut wanted: Vec<&str> = source.values().iter().map(|(name, _)| *name).collect();
                let mut used = placeholders(template);
                wanted.sort();
                used.sort();
                assert_eq!(used, wanted, "{}: {key}", lang.code());
            }
        }
    }

    #[test]
    fn reasons_are_written_in_the_report_language() {
        let recovered = Reason::Recovered {
            series: "healthy_hosts".into(),
            steady: ">= 2".into(),
            impact_s: 60.0,
            back_s: 180.0,
        };
        assert_eq!(
            reason_text(Lang::En, &recovered),
            "healthy_hosts left its steady state (>= 2) 1m after the fault began and was back 3m after it."
        );
        assert_eq!(
            reason_text(Lang::Ja, &recovered),
            "healthy_hosts は障害開始から 1m 後に定常状態（>= 2）を外れ、3m 後に戻りました。"
        );
        let stopped = Reason::Stopped {
            why: Some("Experiment stopped by stop condition.".into()),
        };
        assert_eq!(
            reason_text(Lang::Ja, &stopped),
            "実験は停止されました：Experiment stopped by stop condition。"
        );
        assert_eq!(
            reason_text(Lang::En, &Reason::Stopped { why: None }),
            "The experiment was stopped."
        );
        assert_eq!(source_text(Lang::Ja, &AssumptionSource::Default), "既定値");
        assert_eq!(
            source_text(
                Lang::En,
                &AssumptionSource::MeasuredIncidents { incidents: 3 }
            ),
            "measured: median of 3 incidents"
        );
    }
}
