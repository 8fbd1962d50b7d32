//! Maturity stages (SPEC section 9) from small hand-built histories. Every expected value is worked
//! out in the comments from the runs each case lists, not taken from the program's output.

use checkup::analyze::maturity::{MaturityInput, Rubric, ScopeStage, Standing, assess_maturity};
use checkup::analyze::mttr::{PeriodUnit, experiment_mttr};
use checkup::analyze::reason::Reason;
use checkup::analyze::summary::experiment_outcomes_frame;
use checkup::analyze::weaknesses::track_weaknesses;
use checkup::analyze::{ExperimentOutcome, JudgedExperiment};
use checkup::config::Environments;
use checkup::ledger::{Experiment, Incident};
use checkup::vocab::time::{Micros, from_datetime, parse_period};
use checkup::vocab::{Scope, System, Verdict};
use chrono::{TimeZone, Utc};

/// One experiment run as the rubric sees it.
#[derive(Clone)]
struct Run {
    team: &'static str,
    /// `(month, day)` in 2026, at 10:00 UTC plus `minute`.
    day: (u32, u32),
    minute: i64,
    environment: &'static str,
    trigger: &'static str,
    template: &'static str,
    alarm: bool,
    blast_radius: &'static str,
    /// How many resources FIS resolved the targets to, when known.
    resolved_targets: Option<i64>,
    systems: usize,
    verdict: Verdict,
    /// Time to recover of an impacted run that recovered.
    recovered_after_s: Option<f64>,
}

fn run(team: &'static str, day: (u32, u32)) -> Run {
    Run {
        team,
        day,
        minute: 0,
        environment: "staging",
        trigger: "manual",
        template: "tpl-a",
        alarm: true,
        blast_radius: "COUNT(1)",
        resolved_targets: None,
        systems: 1,
        verdict: Verdict::Green,
        recovered_after_s: None,
    }
}

fn at(day: (u32, u32), minute: i64) -> Micros {
    from_datetime(Utc.with_ymd_and_hms(2026, day.0, day.1, 10, 0, 0).unwrap()) + minute * 60_000_000
}

fn experiment(index: usize, run: &Run) -> Experiment {
    let start = at(run.day, run.minute);
    Experiment {
        experiment_id: format!("EXP{index:03}"),
        source: checkup::vocab::Source::from_name("demo").unwrap(),
        account_id: None,
        region: None,
        template_id: Some(run.template.into()),
        template_name: Some(run.template.into()),
        description: None,
        status: checkup::vocab::Status::from_name("completed").unwrap(),
        status_reason: None,
        created_at: start,
        started_at: Some(start),
        ended_at: Some(start + 600_000_000),
        environment: Some(run.environment.into()),
        team: Some(run.team.into()),
        service: Some(format!("{}-api", run.team)),
        trigger: Some(run.trigger.into()),
        tags: Default::default(),
        stop_condition_alarms: if run.alarm {
            vec!["errors".into()]
        } else {
            vec![]
        },
        stop_condition_triggered: false,
        blast_radius: vec![run.blast_radius.into()],
        hypothesis: Some("h".into()),
        recover_within_s: Some(300.0),
        ingested_at: start,
        actions_mode: None,
        resolved_targets: run.resolved_targets,
    }
}

fn outcome(index: usize, run: &Run) -> ExperimentOutcome {
    ExperimentOutcome {
        experiment_id: format!("EXP{index:03}"),
        verdict: run.verdict,
        t0: None,
        t1: None,
        window: None,
        time_to_impact_s: run.recovered_after_s.map(|_| 30.0),
        time_to_recover_s: Some(run.recovered_after_s.unwrap_or(0.0)),
        censored_at_s: None,
        recover_within_s: None,
        impacted: run.recovered_after_s.is_some(),
        recovered: true,
        degraded_s: None,
        error_total: None,
        period_used_s: None,
        series: vec![],
        reasons: vec![Reason::NoSeries],
    }
}

/// Judges the runs for 2026Q3 and returns the scopes (organisation first, then teams).
fn assess(
    runs: &[Run],
    incidents: &[Incident],
) -> (Vec<ScopeStage>, checkup::analyze::maturity::Maturity) {
    assess_with(&Rubric::built_in(), runs, incidents)
}

/// [`assess`] with a rubric of one's own.
fn assess_with(
    rubric: &Rubric,
    runs: &[Run],
    incidents: &[Incident],
) -> (Vec<ScopeStage>, checkup::analyze::maturity::Maturity) {
    let experiments: Vec<JudgedExperiment> = runs
        .iter()
        .enumerate()
        .map(|(i, r)| JudgedExperiment {
            experiment: experiment(i, r),
            outcome: outcome(i, r),
            systems: System::ALL[..r.systems].to_vec(),
            in_period: true,
            environment: Environments::default().class_of(Some(r.environment)),
        })
        .collect();
    let weaknesses = track_weaknesses(&experiments);
    let experiment_outcomes = experiment_outcomes_frame(&experiments).unwrap();
    let min_runs = 3;
    let mttr_by_quarter = experiment_mttr(&experiments, PeriodUnit::Quarter, min_runs).unwrap();
    let mttr_by_month = experiment_mttr(&experiments, PeriodUnit::Month, min_runs).unwrap();
    let maturity = assess_maturity(
        rubric,
        &MaturityInput {
            experiments: &experiments,
            experiment_outcomes: &experiment_outcomes,
            weaknesses: &weaknesses,
            incidents,
            post_window_s: 1800.0,
            mttr_by_quarter: &mttr_by_quarter,
            mttr_by_month: &mttr_by_month,
            min_runs,
        },
        parse_period("2026Q3", 0).unwrap(),
    )
    .unwrap();
    (maturity.scopes.clone(), maturity)
}

/// Asserts a scope's stage and, for each named criterion, its value and whether it is met.
fn check(case: &str, scope: &ScopeStage, stage: u8, criteria: &[(&str, f64, bool)]) {
    assert_eq!(scope.stage, stage, "{case}: stage of {}", scope.scope);
    for (id, value, met) in criteria {
        let result = scope
            .criteria
            .iter()
            .find(|c| c.id == *id)
            .unwrap_or_else(|| panic!("{case}: criterion {id}"));
        let actual = result.value.unwrap_or(0.0);
        assert!(
            (actual - value).abs() < 1e-9,
            "{case}: {id} value {actual}, expected {value} ({})",
            result.evidence_line()
        );
        assert_eq!(result.met(), *met, "{case}: {id} met");
    }
}

#[test]
fn a_first_experiment_in_dev_is_stage_one() {
    let runs = [Run {
        environment: "dev",
        alarm: false,
        ..run("web", (7, 6))
    }];
    let (scopes, _) = assess(&runs, &[]);
    check(
        "one dev run",
        &scopes[0],
        1,
        &[
            ("first-experiment", 1.0, true),
            ("beyond-dev", 0.0, false),
            ("alarm-stop-conditions", 0.0, false),
            ("weakness-found", 0.0, false),
            // One run on one day: no GameDay.
            ("gameday", 0.0, false),
        ],
    );
    assert_eq!(scopes[1].scope, Scope::Team("web".into()));
    // A run before the period does not make the period's stage.
    let earlier = [Run {
        day: (6, 30),
        ..runs[0].clone()
    }];
    let (scopes, _) = assess(&earlier, &[]);
    check(
        "a run in June only",
        &scopes[0],
        0,
        &[("first-experiment", 0.0, false)],
    );
}

/// Two CI runs of one team on one day are a pipeline, not a GameDay; two manual ones are (SPEC
/// section 9 revision 2).
#[test]
fn a_gameday_is_people_not_a_pipeline() {
    let gameday = |trigger: &'static str| {
        let runs = [
            Run {
                trigger,
                ..run("web", (7, 10))
            },
            Run {
                trigger,
                minute: 90,
                ..run("web", (7, 10))
            },
        ];
        let (scopes, _) = assess(&runs, &[]);
        let criterion = scopes[0]
            .criteria
            .iter()
            .find(|c| c.id == "gameday")
            .unwrap();
        criterion.value
    };
    assert_eq!(gameday("ci"), None);
    assert_eq!(gameday("scheduled"), None);
    assert_eq!(gameday("manual"), Some(1.0));
}

/// A team may be called `organization`: it is a scope of its own, holding its own runs only.
#[test]
fn a_team_called_organization_is_judged_apart_from_the_organisation() {
    let runs = [
        run("organization", (7, 10)),
        Run {
            environment: "prod",
            ..run("web", (7, 11))
        },
    ];
    let (scopes, _) = assess(&runs, &[]);
    let names: Vec<&Scope> = scopes.iter().map(|s| &s.scope).collect();
    assert_eq!(
        names,
        [
            &Scope::Organization,
            &Scope::Team("organization".into()),
            &Scope::Team("web".into())
        ]
    );
    let experiments = |scope: &ScopeStage| {
        let first = scope
            .criteria
            .iter()
            .find(|c| c.id == "first-experiment")
            .unwrap();
        first.value
    };
    // The organisation holds both runs, the team called organization only its own.
    assert_eq!(
        (experiments(&scopes[0]), experiments(&scopes[1])),
        (Some(2.0), Some(1.0))
    );
}

#[test]
fn first_drills_need_staging_alarms_a_weakness_and_a_gameday() {
    // Three staging runs of team web on 2026-07-06 (a GameDay: two or more in one day), all with
    // an alarm stop condition; the first is red (a weakness found), the next two green (fixed).
    let mut runs = vec![
        Run {
            verdict: Verdict::Red,
            ..run("web", (7, 6))
        },
        Run {
            minute: 30,
            ..run("web", (7, 6))
        },
        Run {
            minute: 60,
            ..run("web", (7, 6))
        },
    ];
    let (scopes, _) = assess(&runs, &[]);
    check(
        "three staging runs in one day",
        &scopes[0],
        2,
        &[
            ("beyond-dev", 3.0, true),
            ("alarm-stop-conditions", 1.0, true),
            ("weakness-found", 1.0, true),
            ("gameday", 1.0, true),
            // One template (run 3 times) is not five.
            ("repeated-templates", 1.0, false),
        ],
    );
    // 4 of 5 with an alarm is exactly 80%: still met. 3 of 4 (75%) is not.
    runs.push(Run {
        alarm: false,
        ..run("web", (7, 20))
    });
    runs.push(run("web", (7, 21)));
    let (scopes, _) = assess(&runs, &[]);
    check(
        "4 of 5 alarms",
        &scopes[0],
        2,
        &[("alarm-stop-conditions", 0.8, true)],
    );
    runs.pop();
    let (scopes, _) = assess(&runs, &[]);
    check(
        "3 of 4 alarms",
        &scopes[0],
        1,
        &[("alarm-stop-conditions", 0.75, false)],
    );
    // Without the same-day runs and without a gameday tag there is no GameDay; with the tag there is.
    let spread: Vec<Run> = (0..3)
        .map(|i| Run {
            verdict: if i == 0 { Verdict::Red } else { Verdict::Green },
            ..run("web", (7, 6 + i))
        })
        .collect();
    let (scopes, _) = assess(&spread, &[]);
    check("three days", &scopes[0], 1, &[("gameday", 0.0, false)]);
    let mut tagged = spread.clone();
    tagged[1].trigger = "gameday";
    let (scopes, _) = assess(&tagged, &[]);
    check("a gameday tag", &scopes[0], 2, &[("gameday", 1.0, true)]);
}

/// Team web runs 5 templates 6 times each over July to September (30 runs, 10 a month), in
/// production with COUNT(1), with one CI run; each template's first run is red and its second
/// green, so 5 weaknesses are found and fixed.
fn systematic_quarter() -> Vec<Run> {
    let templates = ["tpl-a", "tpl-b", "tpl-c", "tpl-d", "tpl-e"];
    let mut runs = Vec::new();
    for (t, template) in templates.iter().enumerate() {
        for repeat in 0..6u32 {
            runs.push(Run {
                template,
                environment: "prod",
                verdict: if repeat == 0 {
                    Verdict::Red
                } else {
                    Verdict::Green
                },
                trigger: if t == 0 && repeat == 5 {
                    "ci"
                } else {
                    "manual"
                },
                ..run("web", (7 + repeat / 2, 1 + 4 * (repeat % 2) + t as u32))
            });
        }
    }
    runs
}

#[test]
fn systematic_needs_repeated_templates_small_production_runs_ci_cadence_and_fixes() {
    let runs = systematic_quarter();
    let (scopes, _) = assess(&runs, &[]);
    check(
        "the systematic quarter",
        &scopes[1],
        3,
        &[
            ("repeated-templates", 5.0, true),
            ("production", 30.0, true),
            ("small-blast-radius", 1.0, true),
            ("ci-triggered", 1.0, true),
            // 30 runs in 3 calendar months.
            ("monthly-cadence", 10.0, true),
            ("weaknesses-fixed", 5.0, true),
            // No two systems in one run, and no automated production weeks beyond the one CI run.
            ("multi-system", 0.0, false),
            ("automated-production-weeks", 1.0 / 13.0, false),
        ],
    );
    // One production run targeting ALL breaks "every production run has a small blast radius":
    // 29 of 30 = 96.7% < 100%.
    let mut wide = runs.clone();
    wide[7].blast_radius = "ALL";
    let (scopes, _) = assess(&wide, &[]);
    check(
        "one ALL run",
        &scopes[1],
        2,
        &[("small-blast-radius", 29.0 / 30.0, false)],
    );
    // PERCENT(25) is still small; PERCENT(26) is not.
    wide[7].blast_radius = "PERCENT(25)";
    let (scopes, _) = assess(&wide, &[]);
    check(
        "PERCENT(25)",
        &scopes[1],
        3,
        &[("small-blast-radius", 1.0, true)],
    );
    // `ALL` is not small by its mode, but FIS resolved it to 2 hosts: small (SPEC section 9
    // revision 2); resolved to 3, it is not.
    for (resolved, small) in [(Some(2), true), (Some(3), false), (None, false)] {
        let mut wide = runs.clone();
        wide[0].blast_radius = "ALL";
        wide[0].resolved_targets = resolved;
        let (scopes, _) = assess(&wide, &[]);
        let share = if small { 1.0 } else { 29.0 / 30.0 };
        check(
            &format!("ALL resolved to {resolved:?}"),
            &scopes[1],
            if small { 3 } else { 2 },
            &[("small-blast-radius", share, small)],
        );
    }
    // 29 runs are 9.67 a month: below the cadence.
    let (scopes, _) = assess(&runs[1..], &[]);
    check(
        "29 runs",
        &scopes[1],
        2,
        &[("monthly-cadence", 29.0 / 3.0, false)],
    );
}

#[test]
fn mature_needs_weekly_automation_two_systems_faster_recovery_and_fifty_automated_runs() {
    // 2026Q2 (the first quarter): 50 scheduled staging runs, impacted, recovering in 300 s.
    let mut runs: Vec<Run> = (0..50)
        .map(|i| Run {
            trigger: "scheduled",
            recovered_after_s: Some(300.0),
            ..run("web", (4 + i / 20, 1 + i % 20))
        })
        .collect();
    // 2026Q3: the systematic quarter, plus a scheduled production run on Mondays of 11 of the 13
    // weeks of the quarter (weeks start on 2026-07-01 + 7k), recovering in 200 s, one of them
    // across two systems.
    runs.extend(systematic_quarter());
    for week in 0..11u32 {
        let day_of_year = 182 + 7 * week; // 2026-07-01 is day 182.
        let date = chrono::NaiveDate::from_yo_opt(2026, day_of_year).unwrap();
        runs.push(Run {
            trigger: "scheduled",
            environment: "prod",
            template: "tpl-a",
            systems: if week == 0 { 2 } else { 1 },
            recovered_after_s: Some(200.0),
            minute: 120,
            ..run(
                "web",
                (chrono::Datelike::month(&date), chrono::Datelike::day(&date)),
            )
        });
    }
    let (scopes, _) = assess(&runs, &[]);
    check(
        "the mature quarter",
        &scopes[1],
        4,
        &[
            // 11 of 13 weeks = 84.6%.
            ("automated-production-weeks", 11.0 / 13.0, true),
            ("multi-system", 1.0, true),
            // Mean 300 s in 2026Q2, 200 s in 2026Q3: 1 − 200/300 = 33.3%.
            ("mttr-reduction", 1.0 - 200.0 / 300.0, true),
            // 50 scheduled + 1 ci + 11 scheduled.
            ("automated-experiments", 62.0, true),
        ],
    );
    // Only 10 of 13 weeks (76.9%) is short of 80%.
    let fewer: Vec<Run> = runs[..runs.len() - 1].to_vec();
    let (scopes, maturity) = assess(&fewer, &[]);
    check(
        "10 weeks",
        &scopes[1],
        3,
        &[("automated-production-weeks", 10.0 / 13.0, false)],
    );
    // The trend: 2026Q2 has 50 scheduled staging runs on 50 distinct days (April 1–20, May 1–20,
    // June 1–10), no weakness yet and no GameDay: stage 1.
    let trend: Vec<(String, u8)> = maturity
        .trend
        .iter()
        .filter(|p| p.scope == Scope::Team("web".into()))
        .map(|p| (p.quarter.clone(), p.stage))
        .collect();
    assert_eq!(
        trend,
        [("2026Q2".to_string(), 1), ("2026Q3".to_string(), 3)]
    );
}

#[test]
fn the_seed_phase_scorecards() {
    let runs = systematic_quarter();
    // An incident on web-api that starts 5 minutes into EXP000's run (10:00–10:10, window to
    // 10:40) is a safety incident; one at 22:00 the same day, when nothing runs, is not.
    let start = at(runs[0].day, 0);
    let incident = |id: &str, started_at: Micros| Incident {
        incident_id: id.into(),
        service: Some("web-api".into()),
        team: Some("web".into()),
        severity: None,
        started_at,
        resolved_at: started_at + 3_600_000_000,
        customer_impact: None,
    };
    let incidents = [
        incident("INC-1", start + 300_000_000),
        incident("INC-2", start + 43_200_000_000),
    ];
    let (_, maturity) = assess(&runs, &incidents);
    let item = |phase: u8, id: &str| {
        maturity
            .phases
            .iter()
            .find(|p| p.phase == phase)
            .unwrap()
            .items
            .iter()
            .find(|i| i.id == id)
            .unwrap()
            .clone()
    };
    let safety = item(1, "zero-safety-incidents");
    assert_eq!((safety.value, safety.met()), (Some(1.0), false));
    assert_eq!(safety.evidence, ["INC-1 during EXP000"]);
    let fixed = item(2, "weaknesses-found-and-fixed");
    assert_eq!((fixed.value, fixed.met()), (Some(5.0), true));
    // Only 30 manual/ci runs and one ci: 1 automated experiment of 50.
    let automated = item(3, "automated-experiments");
    assert_eq!((automated.value, automated.met()), (Some(1.0), false));
    assert!(!maturity.phases[0].met && !maturity.phases[2].met);
}

/// The MTTR criterion compares with the scope's first quarter that had `min_runs` impacted runs,
/// as the MTTR trend does (SPEC sections 7 and 9), and a quarter too thin to compare is unknown.
#[test]
fn the_mttr_criterion_uses_the_first_quarter_with_enough_runs() {
    let impacted = |day: (u32, u32), after_s: f64| Run {
        recovered_after_s: Some(after_s),
        ..run("web", day)
    };
    // 2026Q1: 2 impacted runs (1000 s): too few to be the first period. 2026Q2: 3 runs, mean 300 s.
    // 2026Q3: 3 runs, mean 200 s: 1 - 200/300 = 33.3%, met; against 2026Q1 it would be 80%.
    let mut runs = vec![impacted((2, 2), 1000.0), impacted((2, 3), 1000.0)];
    runs.extend((0..3).map(|i| impacted((5, 4 + i), [200.0, 300.0, 400.0][i as usize])));
    runs.extend((0..3).map(|i| impacted((8, 4 + i), [100.0, 200.0, 300.0][i as usize])));
    let (scopes, _) = assess(&runs, &[]);
    let mttr = |scopes: &[ScopeStage]| {
        scopes[0]
            .criteria
            .iter()
            .find(|c| c.id == "mttr-reduction")
            .unwrap()
            .clone()
    };
    let compared = mttr(&scopes);
    assert_eq!(
        compared.standing,
        Standing::Met,
        "{}",
        compared.evidence_line()
    );
    assert!((compared.value.unwrap() - (1.0 - 200.0 / 300.0)).abs() < 1e-9);
    assert!(
        compared.evidence_line().contains("300 s in 2026Q2"),
        "{}",
        compared.evidence_line()
    );
    // Two runs in 2026Q3: unknown, not met, and the evidence says why.
    let (scopes, _) = assess(&runs[..runs.len() - 1], &[]);
    let thin = mttr(&scopes);
    assert_eq!((thin.standing, thin.value), (Standing::Unknown, None));
    assert!(!thin.met());
    assert_eq!(
        thin.evidence_line(),
        "unknown: 2 impacted runs in the period, fewer than [window] min_runs = 3"
    );
    // Without 2026Q2, nothing earlier has 3 runs: unknown.
    let without_q2: Vec<Run> = runs.iter().filter(|r| r.day.0 != 5).cloned().collect();
    let (scopes, _) = assess(&without_q2, &[]);
    let nothing_earlier = mttr(&scopes);
    assert_eq!(nothing_earlier.standing, Standing::Unknown);
    assert!(
        nothing_earlier
            .evidence_line()
            .contains("no earlier quarter with at least 3 impacted runs"),
        "{}",
        nothing_earlier.evidence_line()
    );
}

/// A criterion that needs incidents reads "unknown" while none were ingested: never a silent
/// pass of "zero safety incidents" (SPEC section 9 revision 2).
#[test]
fn criteria_without_their_data_are_unknown_not_passed() {
    let (_, maturity) = assess(&systematic_quarter(), &[]);
    let items: Vec<_> = maturity.phases.iter().flat_map(|p| &p.items).collect();
    for id in ["zero-safety-incidents", "availability-up"] {
        let item = items.iter().find(|i| i.id == id).unwrap();
        assert_eq!(item.standing, Standing::Unknown, "{id}");
        assert!(
            item.evidence_line().contains("no incidents ingested"),
            "{id}"
        );
    }
    assert!(
        !maturity.phases[0].met,
        "phase 1 is not met on unknown safety"
    );
}

#[test]
fn a_period_ending_far_ahead_adds_no_empty_quarters_to_the_stage_trend() {
    let dir = tempfile::tempdir().unwrap();
    let ledger = crate::support::small_demo(dir.path(), 60).join("ledger");
    let args = ["--ledger", ledger.to_str().unwrap()];
    let trend = |period: &str| -> Vec<serde_json::Value> {
        let report = crate::support::report_json(
            &args,
            &["--period", period],
            &dir.path().join(period.replace('.', "_")),
        );
        report["maturity_trend"].as_array().unwrap().clone()
    };
    let to_the_data = trend("2025-07-01..2026-09-30");
    let far_ahead = trend("2025-07-01..2100-01-01");
    assert_eq!(far_ahead, to_the_data);
    let last = to_the_data
        .iter()
        .map(|point| point["quarter"].as_str().unwrap())
        .max()
        .unwrap();
    assert_eq!(last, "2026Q3", "the demo's history ends in 2026Q3");
}

/// The rubric is data: a criterion may read any practice column, also one the built-in rubric
/// never names (`environment`, `template_name`), and a `SELECT DISTINCT *` counts one row per
/// experiment as the tables carry only the columns some query names.
#[test]
fn a_rubric_of_ones_own_reads_any_practice_column() {
    let rubric = Rubric::parse(
        r#"
[[stage]]
number = 1
name = "One"
summary = "Reads columns the built-in rubric does not."

[[criterion]]
id = "production-by-tag"
stage = 1
description = "Experiments tagged production to date"
format = "count"
comparison = ">="
threshold = 2
query = """
SELECT scope, period, COUNT(*) AS value, ARRAY_AGG(template_name) AS evidence
FROM experiments_to_date WHERE environment = 'production' GROUP BY scope, period
"""

[[criterion]]
id = "distinct-rows"
stage = 1
description = "Distinct rows of the period"
format = "count"
comparison = ">="
threshold = 1
query = """
SELECT scope, period, COUNT(*) AS value
FROM (SELECT DISTINCT * FROM experiments) AS rows GROUP BY scope, period
"""
"#,
    )
    .unwrap();
    let runs = [
        Run {
            environment: "production",
            ..run("payments", (7, 1))
        },
        Run {
            environment: "production",
            ..run("payments", (7, 1))
        },
        run("payments", (7, 2)),
        run("search", (8, 3)),
    ];
    let (scopes, _) = assess_with(&rubric, &runs, &[]);
    check(
        "organisation",
        &scopes[0],
        1,
        &[
            ("production-by-tag", 2.0, true),
            ("distinct-rows", 4.0, true),
        ],
    );
    let tagged = scopes[0]
        .criteria
        .iter()
        .find(|c| c.id == "production-by-tag")
        .unwrap();
    assert!(
        tagged.evidence_line().contains("tpl-a"),
        "{}",
        tagged.evidence_line()
    );
    check(
        "search",
        &scopes[2],
        0,
        &[
            ("production-by-tag", 0.0, false),
            ("distinct-rows", 1.0, true),
        ],
    );
}
