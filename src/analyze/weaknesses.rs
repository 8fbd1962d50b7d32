//! The weakness lifecycle (SPEC section 6): a red or yellow experiment opens a weakness on its
//! template when none is open there; the first later green experiment of the same template fixes
//! it (the seed: re-run the same experiment after the fix). At most one open weakness per template.

use std::collections::BTreeMap;

use super::JudgedExperiment;
use crate::ledger::Experiment;
use crate::vocab::Verdict;
use crate::vocab::time::Micros;

#[derive(Debug, Clone, PartialEq)]
pub struct Weakness {
    pub template: String,
    /// The experiment that found it, and its verdict (red or yellow).
    pub found_by: String,
    pub found_verdict: Verdict,
    /// The worst verdict seen while the weakness was open (red after a yellow find is red).
    pub severity: Verdict,
    pub found_at: Micros,
    /// The green experiment that showed the fix.
    pub fixed_by: Option<String>,
    pub fixed_at: Option<Micros>,
}

/// The template an experiment belongs to for weakness tracking: its id, else its name.
pub fn template_key(experiment: &Experiment) -> Option<&str> {
    experiment
        .template_id
        .as_deref()
        .or(experiment.template_name.as_deref())
}

/// Every weakness found, in the order found. `outcomes[i]` belongs to `experiments[i]`.
pub fn track_weaknesses(experiments: &[JudgedExperiment]) -> Vec<Weakness> {
    let mut order: Vec<usize> = (0..experiments.len()).collect();
    let start = |index: usize| experiments[index].start();
    // Compared by reference: a key that cloned the id cost 2.3 s on a million experiments.
    let key = |index: &usize| (start(*index), experiments[*index].id());
    order.sort_by(|a, b| key(a).cmp(&key(b)));

    let mut weaknesses: Vec<Weakness> = Vec::new();
    let mut open_by_template: BTreeMap<&str, usize> = BTreeMap::new();
    for index in order {
        let judged = &experiments[index];
        let Some(template) = template_key(&judged.experiment) else {
            continue;
        };
        let verdict = judged.outcome.verdict;
        match verdict {
            Verdict::Red | Verdict::Yellow if !open_by_template.contains_key(template) => {
                open_by_template.insert(template, weaknesses.len());
                weaknesses.push(Weakness {
                    template: template.to_string(),
                    found_by: judged.id().to_string(),
                    found_verdict: verdict,
                    severity: verdict,
                    found_at: start(index),
                    fixed_by: None,
                    fixed_at: None,
                });
            }
            // Seen again while open: it counts at its worst.
            Verdict::Red => weaknesses[open_by_template[template]].severity = Verdict::Red,
            Verdict::Green => {
                if let Some(open) = open_by_template.remove(template) {
                    weaknesses[open].fixed_by = Some(judged.id().to_string());
                    weaknesses[open].fixed_at = Some(start(index));
                }
            }
            _ => {}
        }
    }
    weaknesses
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analyze::ExperimentOutcome;
    use crate::vocab::practice::EnvironmentClass;

    fn run(id: &str, minute: i64, verdict: Verdict) -> JudgedExperiment {
        let start = minute * 60_000_000;
        JudgedExperiment {
            experiment: Experiment {
                template_id: Some("EXT-web".into()),
                ..Experiment::example(id, start)
            },
            outcome: ExperimentOutcome::example(id, verdict, start),
            systems: vec![],
            in_period: true,
            environment: EnvironmentClass::Development,
        }
    }

    #[test]
    fn only_a_later_green_run_fixes_a_weakness() {
        // Red, then a dry run and a run stopped without a breach (both inconclusive): still open.
        let runs = [
            run("E1", 0, Verdict::Red),
            run("E2", 10, Verdict::Inconclusive),
            run("E3", 20, Verdict::Inconclusive),
        ];
        let weaknesses = track_weaknesses(&runs);
        assert_eq!(weaknesses.len(), 1);
        assert_eq!(
            (
                weaknesses[0].found_by.as_str(),
                weaknesses[0].fixed_by.as_deref()
            ),
            ("E1", None)
        );
        // Found yellow, then red while still open: its severity is red.
        let worse = [run("E1", 0, Verdict::Yellow), run("E2", 10, Verdict::Red)];
        let weaknesses = track_weaknesses(&worse);
        assert_eq!(
            (
                weaknesses.len(),
                weaknesses[0].found_verdict,
                weaknesses[0].severity
            ),
            (1, Verdict::Yellow, Verdict::Red)
        );
        let mut fixed = runs.to_vec();
        fixed.push(run("E4", 30, Verdict::Green));
        let weaknesses = track_weaknesses(&fixed);
        assert_eq!(weaknesses[0].fixed_by.as_deref(), Some("E4"));
    }
}
