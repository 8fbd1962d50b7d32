//! Machine-readable outputs for pipelines: JUnit XML (the gate's rules, or one test case per
//! experiment of the period) and the experiments of the period as CSV. Text from AWS or journals
//! is escaped, never markup.

use crate::analyze::gate::RuleResult;
use crate::report::model::ExperimentRow;

/// How a test case ended.
#[derive(Debug, Clone, PartialEq)]
pub enum CaseOutcome {
    Passed,
    Failed { message: String, details: String },
    Skipped { message: String },
}

#[derive(Debug, Clone, PartialEq)]
pub struct TestCase {
    pub name: String,
    pub classname: String,
    pub time_s: Option<f64>,
    pub outcome: CaseOutcome,
}

fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            // XML 1.0 has no place for most control characters: drop them.
            c if (c as u32) < 0x20 && !matches!(c, '\n' | '\r' | '\t') => {}
            c => out.push(c),
        }
    }
    out
}

/// One `<testsuite>` document.
pub fn junit_xml(suite: &str, cases: &[TestCase]) -> String {
    let failures = cases
        .iter()
        .filter(|c| matches!(c.outcome, CaseOutcome::Failed { .. }))
        .count();
    let skipped = cases
        .iter()
        .filter(|c| matches!(c.outcome, CaseOutcome::Skipped { .. }))
        .count();
    let mut xml = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites>\n  <testsuite name=\"{}\" tests=\"{}\" failures=\"{failures}\" skipped=\"{skipped}\" errors=\"0\">\n",
        escape(suite),
        cases.len()
    );
    for case in cases {
        let time = case
            .time_s
            .map(|t| format!(" time=\"{t:.3}\""))
            .unwrap_or_default();
        xml.push_str(&format!(
            "    <testcase name=\"{}\" classname=\"{}\"{time}",
            escape(&case.name),
            escape(&case.classname)
        ));
        match &case.outcome {
            CaseOutcome::Passed => xml.push_str("/>\n"),
            CaseOutcome::Failed { message, details } => xml.push_str(&format!(
                ">\n      <failure message=\"{}\">{}</failure>\n    </testcase>\n",
                escape(message),
                escape(details)
            )),
            CaseOutcome::Skipped { message } => xml.push_str(&format!(
                ">\n      <skipped message=\"{}\"/>\n    </testcase>\n",
                escape(message)
            )),
        }
    }
    xml.push_str("  </testsuite>\n</testsuites>\n");
    xml
}

/// The gate's result as JUnit XML, one test case per rule.
pub fn gate_junit(results: &[RuleResult]) -> String {
    let cases: Vec<TestCase> = results
        .iter()
        .map(|r| TestCase {
            name: r.rule.to_string(),
            classname: "checkup.gate".to_string(),
            time_s: None,
            outcome: if r.passed {
                CaseOutcome::Passed
            } else {
                CaseOutcome::Failed {
                    message: r.message.clone(),
                    details: r.message.clone(),
                }
            },
        })
        .collect();
    junit_xml("checkup gate", &cases)
}

/// The gate's result as text: a line per rule with what was measured and allowed, then the
/// outcome.
pub fn gate_text(results: &[RuleResult]) -> String {
    let mut text: String = results
        .iter()
        .map(|r| {
            format!(
                "{} {}: {}\n",
                if r.passed { "PASS" } else { "FAIL" },
                r.rule,
                r.message
            )
        })
        .collect();
    text.push_str(if results.iter().all(|r| r.passed) {
        "gate passed\n"
    } else {
        "gate failed\n"
    });
    text
}

/// One test case per experiment: red and yellow fail, inconclusive and in progress are skipped.
pub fn experiment_cases(experiments: &[ExperimentRow]) -> Vec<TestCase> {
    experiments
        .iter()
        .map(|e| {
            let reasons = e.reasons.join("\n");
            let outcome = match e.verdict.as_str() {
                "green" => CaseOutcome::Passed,
                "red" | "yellow" => CaseOutcome::Failed {
                    message: format!(
                        "{}: {}",
                        e.verdict,
                        e.reasons.first().map(String::as_str).unwrap_or_default()
                    ),
                    details: reasons,
                },
                other => CaseOutcome::Skipped {
                    message: format!(
                        "{other}: {}",
                        e.reasons.first().map(String::as_str).unwrap_or_default()
                    ),
                },
            };
            TestCase {
                name: match &e.template_name {
                    Some(name) => format!("{} ({name})", e.experiment_id),
                    None => e.experiment_id.clone(),
                },
                classname: format!("checkup.{}", e.team.as_deref().unwrap_or("unassigned")),
                time_s: e.time_to_recover_s,
                outcome,
            }
        })
        .collect()
}

/// The experiments as CSV (`experiments.csv`): one row each, lists joined by `; `.
pub fn experiments_csv(experiments: &[ExperimentRow]) -> Result<Vec<u8>, csv::Error> {
    let mut writer = csv::Writer::from_writer(Vec::new());
    writer.write_record([
        "experiment_id",
        "template_id",
        "template_name",
        "team",
        "environment",
        "trigger",
        "started_at",
        "ended_at",
        "status",
        "verdict",
        "time_to_impact_s",
        "time_to_recover_s",
        "recover_within_s",
        "recovered",
        "systems",
        "reasons",
    ])?;
    let number = |value: Option<f64>| value.map(|v| v.to_string()).unwrap_or_default();
    for e in experiments {
        writer.write_record([
            e.experiment_id.clone(),
            e.template_id.clone().unwrap_or_default(),
            e.template_name.clone().unwrap_or_default(),
            e.team.clone().unwrap_or_default(),
            e.environment.clone().unwrap_or_default(),
            e.trigger.clone().unwrap_or_default(),
            e.started_at.clone().unwrap_or_default(),
            e.ended_at.clone().unwrap_or_default(),
            e.status.name().to_string(),
            e.verdict.clone(),
            number(e.time_to_impact_s),
            number(e.time_to_recover_s),
            number(e.recover_within_s),
            e.recovered.to_string(),
            e.systems.join("; "),
            e.reasons.join("; "),
        ])?;
    }
    writer
        .into_inner()
        .map_err(|e| csv::Error::from(e.into_error()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_escaped_and_counts_add_up() {
        let cases = vec![
            TestCase {
                name: "EXP1 (<script>alert(1)</script>)".to_string(),
                classname: "checkup.payments".to_string(),
                time_s: Some(180.0),
                outcome: CaseOutcome::Failed {
                    message: "red: \"stopped\" & gone".to_string(),
                    details: "a\u{1}b".to_string(),
                },
            },
            TestCase {
                name: "EXP2".to_string(),
                classname: "checkup.search".to_string(),
                time_s: None,
                outcome: CaseOutcome::Skipped {
                    message: "in_progress".to_string(),
                },
            },
        ];
        let xml = junit_xml("checkup", &cases);
        assert!(
            xml.contains("tests=\"2\" failures=\"1\" skipped=\"1\""),
            "{xml}"
        );
        assert!(xml.contains("name=\"EXP1 (&lt;script&gt;alert(1)&lt;/script&gt;)\""));
        assert!(xml.contains("message=\"red: &quot;stopped&quot; &amp; gone\">ab</failure>"));
        assert!(xml.contains("time=\"180.000\""));
        assert!(!xml.contains("<script>"));
    }
}
