//! The chat digest of one period (`checkup notify`): the headline figures and the gate's result
//! as a few lines, and the payload a Slack or Teams incoming webhook (or any plain-text endpoint)
//! takes. The text comes from the `digest_*` messages of the report's language.

use serde_json::{Value, json};

use super::i18n::{Lang, sentence};
use crate::analyze::gate::RuleResult;
use crate::analyze::headline::Headline;
use crate::vocab::format::{format_duration, group_thousands};

/// How the digest is posted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum DigestStyle {
    /// A Slack incoming webhook: `text` with Block Kit `blocks`.
    #[default]
    Slack,
    /// A Microsoft Teams incoming webhook or Workflows trigger: a message with an Adaptive Card.
    Teams,
    /// The lines as text/plain.
    Plain,
}

/// The digest as lines: a title, then one fact per line (label, value).
#[derive(Debug, Clone, PartialEq)]
pub struct Digest {
    pub title: String,
    pub facts: Vec<(String, String)>,
    /// The report the digest points to.
    pub link: Option<String>,
}

/// The digest of a period's headline, with the gate's results when rules were given.
pub fn digest(
    organization: &str,
    headline: &Headline,
    gate: Option<&[RuleResult]>,
    link: Option<&str>,
    lang: Lang,
) -> Digest {
    let say = |key: &str, values: &[(&str, String)]| sentence(lang, key, values);
    let v = &headline.verdicts;
    let mut facts = vec![(
        say("digest_verdicts", &[]),
        say(
            "digest_verdict_counts",
            &[
                ("green", v.green.to_string()),
                ("yellow", v.yellow.to_string()),
                ("red", v.red.to_string()),
                ("inconclusive", v.inconclusive.to_string()),
                ("in_progress", v.in_progress.to_string()),
                ("experiments", headline.experiments.to_string()),
            ],
        ),
    )];
    let mttr = match &headline.mttr {
        Some(row) => {
            let mean = row.mean_s.map_or("—".to_string(), format_duration);
            match row.change_vs_previous {
                Some(change) => say(
                    "digest_mttr_change",
                    &[
                        ("period", row.period.clone()),
                        ("mean", mean),
                        ("change", format!("{:+.1}%", change * 100.0)),
                    ],
                ),
                None => say(
                    "digest_mttr_alone",
                    &[("period", row.period.clone()), ("mean", mean)],
                ),
            }
        }
        None => say("digest_mttr_none", &[]),
    };
    facts.push((say("digest_mttr", &[]), mttr));
    let percent = |ratio: Option<f64>| {
        ratio.map_or("—".to_string(), |r| {
            format!("{}%", group_thousands(r * 100.0))
        })
    };
    facts.push((
        say("digest_roi", &[]),
        say(
            "digest_roi_value",
            &[
                ("roi", percent(headline.roi)),
                ("p10", percent(headline.roi_p10)),
                ("p90", percent(headline.roi_p90)),
                ("currency", headline.currency.clone()),
                ("avoided", group_thousands(headline.avoided_cost)),
                ("cost", group_thousands(headline.program_cost)),
            ],
        ),
    ));
    facts.push((
        say("digest_stage", &[]),
        say(
            "digest_stage_value",
            &[("stage", headline.stage.to_string())],
        ),
    ));
    facts.push((
        say("digest_weaknesses", &[]),
        say(
            "digest_weaknesses_value",
            &[
                ("open", headline.weaknesses_open.to_string()),
                ("fixed", headline.weaknesses_fixed.to_string()),
            ],
        ),
    ));
    if let Some(results) = gate {
        let failed: Vec<&RuleResult> = results.iter().filter(|r| !r.passed).collect();
        let value = if failed.is_empty() {
            say(
                "digest_gate_passed",
                &[("rules", results.len().to_string())],
            )
        } else {
            let lines: Vec<String> = failed
                .iter()
                .map(|r| format!("{}: {}", r.rule, r.message))
                .collect();
            say(
                "digest_gate_failed",
                &[
                    ("failed", failed.len().to_string()),
                    ("rules", results.len().to_string()),
                    ("details", lines.join("; ")),
                ],
            )
        };
        facts.push((say("digest_gate", &[]), value));
    }
    Digest {
        title: say(
            "digest_title",
            &[
                ("organization", organization.to_string()),
                ("period", headline.label.clone()),
            ],
        ),
        facts,
        link: link.map(str::to_string),
    }
}

impl Digest {
    /// The digest as plain lines (the `plain` style and the fallback text of the others).
    pub fn text(&self) -> String {
        let mut lines = vec![self.title.clone()];
        lines.extend(
            self.facts
                .iter()
                .map(|(label, value)| format!("{label}: {value}")),
        );
        if let Some(link) = &self.link {
            lines.push(link.clone());
        }
        lines.join("\n")
    }

    /// The request body and its content type for a webhook of `style`.
    pub fn payload(&self, style: DigestStyle, open_label: &str) -> (&'static str, Vec<u8>) {
        match style {
            DigestStyle::Plain => ("text/plain; charset=utf-8", self.text().into_bytes()),
            DigestStyle::Slack => (
                "application/json",
                self.slack(open_label).to_string().into_bytes(),
            ),
            DigestStyle::Teams => (
                "application/json",
                self.teams(open_label).to_string().into_bytes(),
            ),
        }
    }

    /// Slack: Block Kit (header, one section of fields, the link), with `text` for notifications.
    /// Slack's mrkdwn treats `&`, `<` and `>` as markup, so they are escaped as Slack documents.
    fn slack(&self, open_label: &str) -> Value {
        let fields: Vec<Value> = self
            .facts
            .iter()
            .map(|(label, value)| {
                json!({"type": "mrkdwn", "text": format!("*{}*\n{}", slack_escape(label), slack_escape(value))})
            })
            .collect();
        let mut blocks = vec![
            json!({"type": "header", "text": {"type": "plain_text", "text": truncate(&self.title, 150)}}),
        ];
        // A section holds at most 10 fields.
        for chunk in fields.chunks(10) {
            blocks.push(json!({"type": "section", "fields": chunk}));
        }
        if let Some(link) = &self.link {
            blocks.push(json!({"type": "section", "text": {"type": "mrkdwn", "text": format!("<{}|{}>", slack_escape(link), slack_escape(open_label))}}));
        }
        json!({"text": self.text(), "blocks": blocks})
    }

    /// Teams: a message with one Adaptive Card (a title, a fact set, a button to the report).
    fn teams(&self, open_label: &str) -> Value {
        let facts: Vec<Value> = self
            .facts
            .iter()
            .map(|(label, value)| json!({"title": label, "value": value}))
            .collect();
        let mut card = json!({
            "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
            "type": "AdaptiveCard",
            "version": "1.4",
            "body": [
                {"type": "TextBlock", "text": self.title, "weight": "Bolder", "size": "Medium", "wrap": true},
                {"type": "FactSet", "facts": facts},
            ],
        });
        if let Some(link) = &self.link {
            card["actions"] = json!([{"type": "Action.OpenUrl", "title": open_label, "url": link}]);
        }
        json!({
            "type": "message",
            "attachments": [{
                "contentType": "application/vnd.microsoft.card.adaptive",
                "contentUrl": null,
                "content": card,
            }],
        })
    }
}

fn slack_escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

fn truncate(text: &str, most: usize) -> String {
    if text.chars().count() <= most {
        text.to_string()
    } else {
        let kept: String = text.chars().take(most - 1).collect();
        format!("{kept}…")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analyze::review::VerdictCounts;

    fn headline() -> Headline {
        Headline {
            label: "2026Q3".into(),
            start: "2026-07-01T00:00:00Z".into(),
            end: "2026-10-01T00:00:00Z".into(),
            experiments: 12,
            verdicts: VerdictCounts {
                green: 8,
                yellow: 2,
                red: 1,
                inconclusive: 1,
                in_progress: 0,
            },
            mttr: None,
            weaknesses_open: 1,
            weaknesses_fixed: 2,
            currency: "USD".into(),
            avoided_cost: 1_234_567.0,
            program_cost: 100_000.0,
            roi: Some(11.34567),
            roi_p10: Some(5.0),
            roi_p90: None,
            stage: 2,
        }
    }

    #[test]
    fn slack_markup_in_the_text_is_escaped_so_it_cannot_mention_a_channel() {
        let digest = digest(
            "<!channel> & co",
            &headline(),
            None,
            Some("https://x.example/a?b=1&c=2"),
            Lang::En,
        );
        let payload = digest.slack("Open");
        let fields = payload["blocks"][1]["fields"].as_array().unwrap();
        assert!(
            payload["blocks"][0]["text"]["text"]
                .as_str()
                .unwrap()
                .contains("<!channel> & co"),
            "a plain_text header shows the name as it is"
        );
        let link = payload["blocks"][2]["text"]["text"].as_str().unwrap();
        assert_eq!(link, "<https://x.example/a?b=1&amp;c=2|Open>");
        assert!(
            fields
                .iter()
                .all(|f| !f["text"].as_str().unwrap().contains('<'))
        );
    }

    #[test]
    fn the_digest_says_what_is_missing_rather_than_inventing_it() {
        let text = digest("Example Corp", &headline(), Some(&[]), None, Lang::En).text();
        assert!(
            text.contains("no run recovered from an impact in the period"),
            "{text}"
        );
        assert!(text.contains("ROI: 1,135% (P10 500% – P90 —)"), "{text}");
        assert!(
            text.contains("USD 1,234,567 avoided against USD 100,000"),
            "{text}"
        );
        assert!(text.contains("Gate: passed (0 rules)"), "{text}");
        let ja = digest("Example Corp", &headline(), None, None, Lang::Ja).text();
        assert!(ja.contains("ステージ 2"), "{ja}");
    }
}
