//! The demo generator: determinism, and the shape of the default history.

use std::collections::{BTreeMap, BTreeSet};

use checkup::analyze::reason::Reason;
use checkup::analyze::systems::systems_of;
use checkup::analyze::weaknesses::track_weaknesses;
use checkup::analyze::{JudgedExperiment, judge_experiments};
use checkup::app::demo::{DemoCommand, demo};
use checkup::app::load::{load_and_judge, load_ledger_data, load_observations};
use checkup::config::{Config, WindowSettings};
use checkup::ingest::demo::{self, DemoSettings, MonthBatch};
use checkup::ledger::{self, Ledger, Table};
use checkup::vocab::catalog::ActionCatalog;
use checkup::vocab::practice::EnvironmentClass;
use checkup::vocab::time::quarter_of;
use checkup::vocab::{System, Verdict};

use crate::support::default_demo;

/// Generates straight into memory, without the ledger.
fn generate(settings: &DemoSettings) -> (Vec<MonthBatch>, Vec<ledger::Incident>) {
    let mut batches = Vec::new();
    let incidents = demo::generate(settings, |batch| -> Result<(), demo::DemoError> {
        batches.push(batch);
        Ok(())
    })
    .unwrap();
    (batches, incidents)
}

#[test]
fn the_same_seed_gives_the_same_ledger() {
    let settings = DemoSettings {
        experiments: Some(120),
        seed: 7,
        ..DemoSettings::default()
    };
    let ledgers: Vec<tempfile::TempDir> = (0..2).map(|_| tempfile::tempdir().unwrap()).collect();
    for dir in &ledgers {
        demo(&DemoCommand {
            out: dir.path().to_path_buf(),
            settings,
            config: Default::default(),
        })
        .unwrap();
    }
    let ledgers: Vec<std::path::PathBuf> = ledgers
        .iter()
        .map(|dir| dir.path().join("ledger"))
        .collect();
    let (first, second) = (
        Ledger::open_for_read(&ledgers[0]).unwrap(),
        Ledger::open_for_read(&ledgers[1]).unwrap(),
    );
    for table in Table::ALL {
        let (a, b) = (first.read(table).unwrap(), second.read(table).unwrap());
        assert!(
            a.height() > 0 || table == Table::AlarmEvents,
            "table {table} is empty"
        );
        assert!(
            a.equals_missing(&b),
            "table {table} differs between two runs with the same seed"
        );
    }

    let (other, _) = generate(&DemoSettings {
        experiments: Some(120),
        seed: 8,
        ..DemoSettings::default()
    });
    let other_ids: Vec<String> = other
        .iter()
        .flat_map(|b| b.rows.experiments.iter().map(|e| e.experiment_id.clone()))
        .collect();
    let first_ids =
        ledger::experiments_from_frame(&first.read(Table::Experiments).unwrap()).unwrap();
    assert_ne!(
        first_ids
            .iter()
            .map(|e| e.experiment_id.clone())
            .collect::<Vec<_>>(),
        other_ids,
        "another seed gives another history"
    );
}

#[test]
fn experiments_override_the_default_count() {
    let (batches, _) = generate(&DemoSettings {
        experiments: Some(37),
        seed: 1,
        ..DemoSettings::default()
    });
    assert_eq!(
        batches
            .iter()
            .map(|b| b.rows.experiments.len())
            .sum::<usize>(),
        37
    );
    let months: Vec<&str> = batches.iter().map(|b| b.month.as_str()).collect();
    let mut sorted = months.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(months, sorted, "months arrive once each, in time order");
}

#[test]
fn the_default_demo_has_the_shape_of_a_real_program() {
    let ledger = Ledger::open_for_read(&default_demo().join("ledger")).unwrap();
    let data = load_ledger_data(&ledger).unwrap();
    let experiments = &data.experiments;
    assert!(
        experiments.len() >= 400,
        "{} experiments",
        experiments.len()
    );

    let start = |e: &ledger::Experiment| e.started_at.unwrap_or(e.created_at);
    let quarters: BTreeSet<String> = experiments.iter().map(|e| quarter_of(start(e))).collect();
    assert!(quarters.len() >= 4, "quarters: {quarters:?}");
    let teams: BTreeSet<&str> = experiments
        .iter()
        .filter_map(|e| e.team.as_deref())
        .collect();
    assert!(teams.len() >= 4, "teams: {teams:?}");
    let environments: BTreeSet<&str> = experiments
        .iter()
        .filter_map(|e| e.environment.as_deref())
        .collect();
    assert_eq!(environments, BTreeSet::from(["dev", "prod", "staging"]));
    let triggers: BTreeSet<&str> = experiments
        .iter()
        .filter_map(|e| e.trigger.as_deref())
        .collect();
    assert_eq!(
        triggers,
        BTreeSet::from(["ci", "gameday", "manual", "scheduled"])
    );

    let catalog = ActionCatalog::built_in();
    let systems: BTreeSet<System> = experiments
        .iter()
        .flat_map(|e| {
            let actions: Vec<&ledger::Action> = data
                .actions
                .iter()
                .filter(|a| a.experiment_id == e.experiment_id)
                .collect();
            systems_of(e, &actions, &catalog)
        })
        .collect();
    assert_eq!(
        systems,
        BTreeSet::from_iter(System::ALL.iter().copied()),
        "all four systems of the seed"
    );

    // The analysis, not the generator, finds every verdict.
    let outcomes = judge_experiments(
        &data.judge_input(&catalog, &BTreeMap::new()),
        &WindowSettings::default(),
    )
    .unwrap();
    let mut verdicts: BTreeMap<Verdict, usize> = BTreeMap::new();
    for outcome in &outcomes {
        *verdicts.entry(outcome.verdict).or_default() += 1;
        assert!(
            !outcome.reasons.is_empty(),
            "{} has no reasons",
            outcome.experiment_id
        );
    }
    for verdict in Verdict::ALL {
        assert!(
            verdicts.get(&verdict).copied().unwrap_or(0) > 0,
            "no {} experiment: {verdicts:?}",
            verdict.name()
        );
    }
    let green_share = verdicts[&Verdict::Green] as f64 / outcomes.len() as f64;
    assert!(
        (0.5..0.95).contains(&green_share),
        "green share {green_share}"
    );

    let judged: Vec<JudgedExperiment> = experiments
        .iter()
        .zip(outcomes)
        .map(|(experiment, outcome)| JudgedExperiment {
            experiment: experiment.clone(),
            outcome,
            systems: vec![],
            in_period: true,
            environment: EnvironmentClass::Development,
        })
        .collect();
    let weaknesses = track_weaknesses(&judged);
    let fixed = weaknesses.iter().filter(|w| w.fixed_by.is_some()).count();
    assert!(
        weaknesses.len() >= 10 && fixed >= 5,
        "{} weaknesses, {fixed} fixed",
        weaknesses.len()
    );

    // Maturity visibly rises: later quarters run more, more in production, more automated.
    let first = quarters.iter().next().unwrap();
    let last = quarters.iter().last().unwrap();
    let share = |quarter: &str, test: &dyn Fn(&ledger::Experiment) -> bool| {
        let in_quarter: Vec<&ledger::Experiment> = experiments
            .iter()
            .filter(|e| quarter_of(start(e)) == quarter)
            .collect();
        (
            in_quarter.len(),
            in_quarter.iter().filter(|e| test(e)).count() as f64 / in_quarter.len() as f64,
        )
    };
    let automated =
        |e: &ledger::Experiment| matches!(e.trigger.as_deref(), Some("ci" | "scheduled"));
    let production = |e: &ledger::Experiment| e.environment.as_deref() == Some("prod");
    let (first_count, first_automated) = share(first, &automated);
    let (last_count, last_automated) = share(last, &automated);
    assert!(
        last_count > 3 * first_count,
        "volume {first_count} → {last_count}"
    );
    assert!(
        last_automated > first_automated + 0.3,
        "automation {first_automated} → {last_automated}"
    );
    assert!(
        share(last, &production).1 > share(first, &production).1 + 0.2,
        "production share does not rise"
    );

    assert!(
        data.incidents.len() >= 20,
        "{} incidents",
        data.incidents.len()
    );
    assert!(data.incidents.iter().all(|i| i.resolved_at > i.started_at));
}

#[test]
fn demo_points_are_minute_aligned_like_cloudwatch() {
    let (batches, _) = generate(&DemoSettings {
        experiments: Some(20),
        seed: 3,
        ..DemoSettings::default()
    });
    let points = &batches[0].rows.points;
    assert!(!points.is_empty());
    assert!(
        points.ts.iter().all(|ts| ts % 60_000_000 == 0),
        "CloudWatch reports each period at its start"
    );
}

/// Reports judge the ledger one month partition at a time (so a million experiments fit in
/// memory); that must give exactly the verdicts of judging it whole.
#[test]
fn judging_month_by_month_gives_the_outcomes_of_the_whole_ledger() {
    let ledger = Ledger::open_for_read(&default_demo().join("ledger")).unwrap();
    let whole = load_ledger_data(&ledger).unwrap();
    let config = Config::default();
    let catalog = ActionCatalog::built_in();
    let no_rto = BTreeMap::new();
    let expected =
        judge_experiments(&whole.judge_input(&catalog, &no_rto), &config.window).unwrap();
    let months = ledger.partitions(Table::Experiments).unwrap().len();
    assert!(months >= 12, "the demo spans {months} months");

    let judged = load_and_judge(&ledger, &config, &catalog).unwrap();
    let (experiments, outcomes): (Vec<_>, Vec<_>) = judged
        .runs
        .iter()
        .map(|run| (run.experiment.clone(), run.outcome.clone()))
        .unzip();
    assert_eq!(experiments, whole.experiments);
    assert!(judged.data.experiments.is_empty());
    assert_eq!(judged.data.actions, whole.actions);
    assert_eq!(outcomes, expected);
    // Stopped by an alarm: the alarm events reach the judging of every month.
    let months_with_alarms: BTreeSet<String> = judged
        .runs
        .iter()
        .filter(|run| {
            run.outcome
                .reasons
                .iter()
                .any(|r| matches!(r, Reason::AlarmFired { .. }))
        })
        .map(|run| run.experiment.month())
        .collect();
    assert!(months_with_alarms.len() >= 2, "{months_with_alarms:?}");
    // What a report charts is read back from the months it lives in.
    let shown: Vec<&ledger::Experiment> = whole.experiments.iter().step_by(7).collect();
    let (series, points) = load_observations(&ledger, &shown).unwrap();
    let shown_ids: BTreeSet<&str> = shown.iter().map(|e| e.experiment_id.as_str()).collect();
    let expected_series: Vec<&ledger::MetricSeries> = whole
        .series
        .iter()
        .filter(|s| shown_ids.contains(s.experiment_id.as_str()))
        .collect();
    assert_eq!(series.iter().collect::<Vec<_>>(), expected_series);
    let point_ids = points.column("experiment_id").unwrap().str().unwrap();
    let expected_points = whole
        .points
        .column("experiment_id")
        .unwrap()
        .str()
        .unwrap()
        .iter()
        .filter(|id| shown_ids.contains(id.unwrap()))
        .count();
    assert_eq!(points.height(), expected_points);
    assert!(point_ids.iter().all(|id| shown_ids.contains(id.unwrap())));
}

/// The demo observes each run over the configured window (`checkup demo --config` with
/// `[window] pre` and `post`): SPEC section 12's benchmark ledger, four series of about 90 points,
/// is the demo history observed 45 minutes before each fault and 70 after each run.
#[test]
fn demo_series_cover_the_configured_observation_window() {
    let points_per_series = |settings: &DemoSettings| -> (f64, i64) {
        let (batches, _) = generate(settings);
        let mut per_series: BTreeMap<(&str, &str), (usize, i64, i64)> = BTreeMap::new();
        for batch in &batches {
            let points = &batch.rows.points;
            for row in 0..points.ts.len() {
                let key = (
                    points.experiment_id[row].as_str(),
                    points.series_id[row].as_str(),
                );
                let entry = per_series.entry(key).or_insert((0, i64::MAX, i64::MIN));
                entry.0 += 1;
                entry.1 = entry.1.min(points.ts[row]);
                entry.2 = entry.2.max(points.ts[row]);
            }
        }
        // Over every series row, those without points too (cancelled runs, missing data).
        let series: usize = batches.iter().map(|batch| batch.rows.series.len()).sum();
        let total: usize = per_series.values().map(|entry| entry.0).sum();
        let longest_span = per_series.values().map(|e| e.2 - e.1).max().unwrap();
        (total as f64 / series as f64, longest_span)
    };
    let settings = DemoSettings {
        experiments: Some(400),
        ..DemoSettings::default()
    };
    let minute = 60_000_000;
    let (default_mean, default_span) = points_per_series(&settings);
    let wide = WindowSettings {
        pre_s: 45.0 * 60.0,
        post_s: 70.0 * 60.0,
        ..WindowSettings::default()
    };
    let (wide_mean, wide_span) = points_per_series(&settings.observed_over(&wide));
    assert!(
        (35.0..45.0).contains(&default_mean),
        "{default_mean} points a series over the default window"
    );
    assert!(
        (85.0..95.0).contains(&wide_mean),
        "{wide_mean} points a series over 45m + run + 70m"
    );
    // The extra 70 minutes of window are 70 more points a series, not a stretched grid.
    assert_eq!(wide_span - default_span, 70 * minute);
}
