//! The demo source: a deterministic generator of a realistic chaos-engineering history.
//!
//! The world (teams, templates, series profiles) is data in `data/demo_scenarios.toml`. The
//! generator draws every run from one seeded random stream, so the same seed gives the same
//! ledger. Each template carries a hidden weakness at first (with its `fragility`); runs against a
//! weak template go yellow or red, until a fix lands and the same experiment comes back green, as
//! in the seed's cycle of hypothesis, experiment, refutation, fix and verification. Teams climb in
//! maturity every quarter: from manual runs in dev to automated runs in production.
//! The curves are drawn so that the analysis (not the generator) finds each verdict.

use std::collections::{BTreeMap, HashMap};

use chrono::{Months, NaiveDate};
use serde::Deserialize;

use crate::ledger::{Action, AlarmEvent, Batch, Experiment, Incident, MetricSeries};
use crate::random::Random;
use crate::vocab::catalog::{ActionCatalog, SYSTEM_TAG};
use crate::vocab::time::{
    MICROS_PER_MINUTE, MICROS_PER_SECOND, Micros, from_datetime, micros_from_seconds, month_of,
    parse_duration_s,
};
use crate::vocab::{AlarmState, Condition, Origin, SeriesKind, Source, Status, System};

pub const BUILT_IN_SCENARIOS: &str = include_str!("../../data/demo_scenarios.toml");
pub const DEFAULT_SEED: u64 = 20260701;

/// A month of a large demo is handed over in batches of at most this many experiments (the
/// ledger merges them into the month's partitions): a million experiments have ~120,000 a month,
/// whose points held at once took 9.4 GiB at 40 points a series.
const MOST_EXPERIMENTS_PER_BATCH: usize = 25_000;

#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    #[error("data/demo_scenarios.toml is invalid: {0}")]
    Scenarios(String),
    #[error("--experiments must be at least 1")]
    NoExperiments,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DemoSettings {
    /// `None` uses the scenario file's count.
    pub experiments: Option<usize>,
    pub seed: u64,
    /// How long before each fault and after each run's end its series have points: the
    /// observation window `[window] pre` and `post` judge over (15 and 30 minutes by default).
    pub observed_before: Micros,
    pub observed_after: Micros,
}

impl Default for DemoSettings {
    fn default() -> Self {
        DemoSettings {
            experiments: None,
            seed: DEFAULT_SEED,
            observed_before: minutes(15.0),
            observed_after: minutes(30.0),
        }
    }
}

impl DemoSettings {
    /// The demo's history observed over the configured window (`[window] pre` and `post`).
    pub fn observed_over(self, window: &crate::config::WindowSettings) -> DemoSettings {
        DemoSettings {
            observed_before: micros_from_seconds(window.pre_s),
            observed_after: micros_from_seconds(window.post_s),
            ..self
        }
    }
}

/// The rows of one month of history (or of part of a large month), handed to the caller to store.
#[derive(Debug, Default)]
pub struct MonthBatch {
    pub month: String,
    pub rows: Batch,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Scenarios {
    history: HistorySpec,
    team: Vec<TeamSpec>,
    template: Vec<TemplateSpec>,
    profile: Vec<ProfileSpec>,
    /// Services with incidents that no template exercises: the program's blind spots.
    #[serde(default)]
    unwatched_service: Vec<UnwatchedSpec>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct UnwatchedSpec {
    name: String,
    team: String,
    incidents_per_quarter: f64,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct HistorySpec {
    start: NaiveDate,
    quarters: u32,
    experiments: usize,
    account_id: String,
    region: String,
    incident_hours_start: f64,
    incident_hours_end: f64,
    incidents_per_team_quarter: f64,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TeamSpec {
    name: String,
    service: String,
    start: u32,
    pace: f64,
    templates: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TemplateSpec {
    name: String,
    description: String,
    profile: String,
    system: Option<System>,
    recover_within: String,
    /// An `aws:fis:wait` before the fault actions (a warm-up), when given.
    #[serde(default)]
    warm_up: Option<String>,
    duration: String,
    fragility: f64,
    actions: Vec<ActionSpec>,
    /// The last quarter (0-based) the template is run in; later runs of its team pick another of
    /// its unlocked templates (its evidence goes stale).
    #[serde(default)]
    last_quarter: Option<u32>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ActionSpec {
    name: String,
    action_id: String,
    target: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ProfileSpec {
    name: String,
    series: Vec<SeriesSpec>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SeriesSpec {
    id: String,
    namespace: String,
    metric: String,
    stat: String,
    #[serde(default)]
    steady: Option<String>,
    #[serde(default)]
    limit: Option<String>,
    #[serde(default = "level_kind")]
    kind: SeriesKind,
    #[serde(default)]
    budget: Option<f64>,
    #[serde(default)]
    outage: Option<f64>,
    shape: Shape,
    normal: f64,
    unit: String,
    origin: Origin,
    #[serde(default = "yes")]
    affected: bool,
}

fn level_kind() -> SeriesKind {
    SeriesKind::Level
}

fn yes() -> bool {
    true
}

#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
enum Shape {
    Capacity,
    Latency,
    Connections,
    Traffic,
    Errors,
}

fn stable_hash(text: &str) -> u64 {
    // FNV-1a: stable across runs and versions, unlike std's hasher.
    text.bytes().fold(0xcbf2_9ce4_8422_2325, |hash, byte| {
        (hash ^ byte as u64).wrapping_mul(0x0000_0100_0000_01B3)
    })
}

/// What a run is drawn to show; the analysis later finds the verdict from the curves and status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Scenario {
    /// Every series stays inside its band.
    Unaffected,
    /// Impact, then recovery within the hypothesis's time.
    Recovers,
    SlowRecovery,
    LimitBreach,
    ErrorBudget,
    NoRecovery,
    ErrorOutage,
    StoppedByAlarm,
    Failed,
    Cancelled,
    MissingData,
    Running,
    /// Started with `actionsMode = skip-all`: every action skipped.
    DryRun,
    /// Failed before any fault action started (no target resolved).
    NothingInjected,
    /// Stopped by a person after the fault began, nothing breached.
    ManualStop,
}

impl Scenario {
    fn finds_weakness(self) -> bool {
        matches!(
            self,
            Scenario::SlowRecovery
                | Scenario::LimitBreach
                | Scenario::ErrorBudget
                | Scenario::NoRecovery
                | Scenario::ErrorOutage
                | Scenario::StoppedByAlarm
                | Scenario::Failed
        )
    }
}

/// One planned run before its outcome is drawn.
struct PlannedRun {
    created_at: Micros,
    team: usize,
    template: usize,
    quarter: u32,
    maturity: f64,
    trigger: &'static str,
    environment: &'static str,
}

struct World {
    scenarios: Scenarios,
    catalog: ActionCatalog,
    history_start: Micros,
    history_end: Micros,
    quarter_starts: Vec<Micros>,
}

impl World {
    fn load() -> Result<World, DemoError> {
        let scenarios: Scenarios = toml::from_str(BUILT_IN_SCENARIOS)
            .map_err(|error| DemoError::Scenarios(error.to_string()))?;
        let check = |ok: bool, problem: String| {
            if ok {
                Ok(())
            } else {
                Err(DemoError::Scenarios(problem))
            }
        };
        check(
            scenarios.history.quarters >= 1,
            "history.quarters must be at least 1".into(),
        )?;
        for team in &scenarios.team {
            check(
                !team.templates.is_empty(),
                format!("team {} has no templates", team.name),
            )?;
            for name in &team.templates {
                check(
                    scenarios.template.iter().any(|t| &t.name == name),
                    format!("team {} names unknown template {name}", team.name),
                )?;
            }
        }
        for template in &scenarios.template {
            check(
                scenarios.profile.iter().any(|p| p.name == template.profile),
                format!(
                    "template {} names unknown profile {}",
                    template.name, template.profile
                ),
            )?;
            parse_duration_s(&template.recover_within).map_err(DemoError::Scenarios)?;
            parse_duration_s(&template.duration).map_err(DemoError::Scenarios)?;
            if let Some(warm_up) = &template.warm_up {
                parse_duration_s(warm_up).map_err(DemoError::Scenarios)?;
            }
        }
        let start = scenarios.history.start;
        let quarter_starts: Vec<Micros> = (0..=scenarios.history.quarters)
            .map(|q| {
                let date = start
                    .checked_add_months(Months::new(3 * q))
                    .expect("a date within the calendar");
                from_datetime(
                    date.and_hms_opt(0, 0, 0)
                        .expect("midnight exists")
                        .and_utc(),
                )
            })
            .collect();
        Ok(World {
            history_start: quarter_starts[0],
            history_end: *quarter_starts.last().expect("at least one quarter"),
            quarter_starts,
            catalog: ActionCatalog::built_in(),
            scenarios,
        })
    }

    /// The team's maturity in a quarter: 0 before it starts, then `pace` more each quarter, up to 4.
    fn maturity(&self, team: usize, quarter: u32) -> f64 {
        let spec = &self.scenarios.team[team];
        if quarter < spec.start {
            0.0
        } else {
            ((quarter - spec.start + 1) as f64 * spec.pace).min(4.0)
        }
    }

    fn template_index(&self, name: &str) -> usize {
        self.scenarios
            .template
            .iter()
            .position(|t| t.name == name)
            .expect("checked when loading")
    }

    fn template_id(&self, team: usize, template: usize) -> String {
        let key = format!(
            "{}/{}",
            self.scenarios.team[team].name, self.scenarios.template[template].name
        );
        Random(stable_hash(&key)).id("EXT", 14)
    }
}

/// Generates the demo history, handing each month's rows to `store` in time order, and returns
/// the incidents of the whole history.
pub fn generate<E>(
    settings: &DemoSettings,
    mut store: impl FnMut(MonthBatch) -> Result<(), E>,
) -> Result<Vec<Incident>, E>
where
    E: From<DemoError>,
{
    let world = World::load()?;
    let total = settings
        .experiments
        .unwrap_or(world.scenarios.history.experiments);
    if total == 0 {
        return Err(DemoError::NoExperiments.into());
    }
    let mut random = Random(settings.seed);
    let runs = plan_runs(&world, total, &mut random);

    let mut template_weak: HashMap<(usize, usize), bool> = HashMap::new();
    let mut batch = MonthBatch::default();
    let last_running = runs.len().saturating_sub(2);
    for (index, run) in runs.iter().enumerate() {
        let month = month_of(run.created_at);
        let full = batch.rows.experiments.len() >= MOST_EXPERIMENTS_PER_BATCH;
        if (month != batch.month || full) && !batch.rows.experiments.is_empty() {
            store(std::mem::take(&mut batch))?;
        }
        batch.month = month;

        let key = (run.team, run.template);
        let fragility = world.scenarios.template[run.template].fragility;
        let weak = *template_weak
            .entry(key)
            .or_insert_with(|| random.chance((fragility * (1.0 - 0.12 * run.maturity)).max(0.15)));
        let scenario = if index >= last_running {
            Scenario::Running
        } else {
            draw_scenario(&mut random, weak, run)
        };
        // A weak template stays weak until a fix lands; a strong one may regress.
        let weak_next = if weak {
            !(scenario.finds_weakness() && random.chance(0.35 + 0.1 * run.maturity))
        } else {
            scenario.finds_weakness()
        };
        template_weak.insert(key, weak_next);
        build_run(&world, settings, run, scenario, &mut random, &mut batch);
    }
    if !batch.rows.experiments.is_empty() {
        store(batch)?;
    }
    Ok(generate_incidents(&world, &mut random))
}

fn plan_runs(world: &World, total: usize, random: &mut Random) -> Vec<PlannedRun> {
    let teams = world.scenarios.team.len();
    let quarters = world.scenarios.history.quarters;
    // Volume grows with maturity: a team at stage 3 runs three times what it ran at stage 1.
    let mut cells = Vec::new();
    for quarter in 0..quarters {
        for team in 0..teams {
            let maturity = world.maturity(team, quarter);
            if maturity > 0.0 {
                cells.push((team, quarter, maturity));
            }
        }
    }
    let total_weight: f64 = cells.iter().map(|cell| cell.2).sum();
    let mut runs = Vec::with_capacity(total);
    for _ in 0..total {
        let mut pick = random.unit() * total_weight;
        let &(team, quarter, maturity) = cells
            .iter()
            .find(|cell| {
                pick -= cell.2;
                pick < 0.0
            })
            .unwrap_or(
                cells
                    .last()
                    .expect("at least one team starts within the history"),
            );
        runs.push(plan_run(world, team, quarter, maturity, random));
    }
    runs.sort_by_key(|run| (run.created_at, run.team, run.template));
    runs
}

fn plan_run(
    world: &World,
    team: usize,
    quarter: u32,
    maturity: f64,
    random: &mut Random,
) -> PlannedRun {
    let spec = &world.scenarios.team[team];
    // Harder templates unlock as the team matures: one more per step of maturity.
    let unlocked = ((1.0 + maturity * spec.templates.len() as f64 / 3.0) as usize)
        .clamp(1, spec.templates.len());
    let pick = random.below(unlocked);
    let still_run = |name: &String| {
        world.scenarios.template[world.template_index(name)]
            .last_quarter
            .is_none_or(|last| quarter <= last)
    };
    let name = (0..unlocked)
        .map(|step| &spec.templates[(pick + step) % unlocked])
        .find(|name| still_run(name))
        .unwrap_or(&spec.templates[pick]);
    let template = world.template_index(name);

    let automated_share = ((maturity - 1.8) * 0.45).clamp(0.0, 0.9);
    let gameday_share = if (1.0..3.5).contains(&maturity) {
        0.3
    } else {
        0.05
    };
    let roll = random.unit();
    let trigger = if roll < automated_share {
        if random.chance(0.6) {
            "ci"
        } else {
            "scheduled"
        }
    } else if roll < automated_share + gameday_share {
        "gameday"
    } else {
        "manual"
    };
    let environment = match trigger {
        "ci" | "scheduled" => {
            if random.chance(((maturity - 2.3) * 0.8).clamp(0.0, 0.9)) {
                "prod"
            } else {
                "staging"
            }
        }
        _ if maturity < 1.5 => {
            if random.chance(0.7) {
                "dev"
            } else {
                "staging"
            }
        }
        _ if maturity < 2.5 => ["staging", "staging", "staging", "dev", "prod"][random.below(5)],
        _ => {
            if random.chance(0.5) {
                "prod"
            } else {
                "staging"
            }
        }
    };

    let quarter_start = world.quarter_starts[quarter as usize];
    let quarter_days = ((world.quarter_starts[quarter as usize + 1] - quarter_start)
        / (86_400 * MICROS_PER_SECOND)) as usize;
    // A GameDay gathers the team on one of two fixed days of the quarter.
    let day = if trigger == "gameday" {
        let gameday_seed = stable_hash(&format!("{}/{quarter}", spec.name));
        (gameday_seed as usize + random.below(2) * 37) % quarter_days
    } else {
        random.below(quarter_days)
    };
    let hour = match trigger {
        "scheduled" => 3,
        "ci" => 8 + random.below(12),
        _ => 10 + random.below(6),
    };
    let created_at = quarter_start
        + day as i64 * 86_400 * MICROS_PER_SECOND
        + hour as i64 * 3600 * MICROS_PER_SECOND
        + random.below(3600) as i64 * MICROS_PER_SECOND;
    PlannedRun {
        created_at,
        team,
        template,
        quarter,
        maturity,
        trigger,
        environment,
    }
}

fn draw_scenario(random: &mut Random, weak: bool, run: &PlannedRun) -> Scenario {
    let roll = random.unit();
    if roll < 0.03 {
        return Scenario::Cancelled;
    }
    if roll < 0.06 {
        return Scenario::MissingData;
    }
    if roll < 0.08 {
        return Scenario::DryRun;
    }
    if roll < 0.09 {
        return Scenario::NothingInjected;
    }
    if roll < 0.10 {
        return Scenario::ManualStop;
    }
    if !weak {
        if random.chance(0.04) {
            return Scenario::SlowRecovery; // a regression
        }
        return if random.chance(0.25) {
            Scenario::Unaffected
        } else {
            Scenario::Recovers
        };
    }
    // A weak template: the seed's scenarios B (yellow) and C (red).
    let roll = random.unit();
    let immature = run.maturity < 2.0;
    match roll {
        r if r < 0.22 => Scenario::SlowRecovery,
        r if r < 0.38 => Scenario::LimitBreach,
        r if r < 0.50 => Scenario::ErrorBudget,
        r if r < 0.65 => Scenario::NoRecovery,
        r if r < 0.75 => Scenario::ErrorOutage,
        r if r < 0.95 => Scenario::StoppedByAlarm,
        _ if immature => Scenario::Failed,
        _ => Scenario::NoRecovery,
    }
}

fn minutes(value: f64) -> Micros {
    (value * MICROS_PER_MINUTE as f64) as Micros
}

/// One planned run with what was drawn for it so far: the template, team and profile it runs, its
/// id, scenario and times. Its steps draw from the generator in a fixed order (experiment,
/// series and points, alarm events), so a seed always gives the same ledger.
struct RunDraft<'a> {
    world: &'a World,
    settings: &'a DemoSettings,
    run: &'a PlannedRun,
    team: &'a TeamSpec,
    template: &'a TemplateSpec,
    profile: &'a ProfileSpec,
    experiment_id: String,
    scenario: Scenario,
    has_alarm: bool,
    recover_within_s: f64,
    /// How long the template's actions run.
    duration: Micros,
    /// The `aws:fis:wait` before the fault actions (0: none).
    warm_up: Micros,
    started_at: Micros,
    /// When the fault begins.
    t0: Micros,
    /// When the stop-condition alarm fires, for a run stopped by it.
    alarm_at: Micros,
    status: Status,
    status_reason: Option<String>,
    ended_at: Option<Micros>,
}

fn build_run(
    world: &World,
    settings: &DemoSettings,
    run: &PlannedRun,
    mut scenario: Scenario,
    random: &mut Random,
    batch: &mut MonthBatch,
) {
    let template = &world.scenarios.template[run.template];
    let profile = world
        .scenarios
        .profile
        .iter()
        .find(|p| p.name == template.profile)
        .expect("checked when loading");
    let recover_within_s =
        parse_duration_s(&template.recover_within).expect("checked when loading");
    let duration =
        minutes(parse_duration_s(&template.duration).expect("checked when loading") / 60.0);
    let warm_up = template
        .warm_up
        .as_deref()
        .map(|text| minutes(parse_duration_s(text).expect("checked when loading") / 60.0))
        .unwrap_or(0);
    let experiment_id = random.id("EXP", 17);
    let has_alarm = random.chance((0.35 + 0.25 * run.maturity).min(1.0));
    if scenario == Scenario::StoppedByAlarm && !has_alarm {
        scenario = Scenario::ErrorOutage;
    }

    let started_at = run.created_at + (1 + random.below(4) as i64) * MICROS_PER_SECOND;
    let t0 = started_at + warm_up + (2 + random.below(5) as i64) * MICROS_PER_SECOND;
    let alarm_at = t0 + minutes(random.between(1.5, 4.0));
    let (status, status_reason, ended_at): (Status, Option<String>, Option<Micros>) = match scenario
    {
        Scenario::Running => (Status::Running, None, None),
        Scenario::Cancelled => (
            Status::Cancelled,
            Some("Experiment was cancelled by the user.".into()),
            Some(started_at),
        ),
        Scenario::StoppedByAlarm => (
            Status::Stopped,
            Some("Experiment stopped by stop condition.".into()),
            Some(alarm_at + 10 * MICROS_PER_SECOND),
        ),
        Scenario::Failed => (
            Status::Failed,
            Some(format!(
                "Action {} failed: target instances stopped responding to SSM.",
                template.actions[0].name
            )),
            Some(t0 + minutes(random.between(1.0, 3.0))),
        ),
        Scenario::NothingInjected => (
            Status::Failed,
            Some(format!(
                "Experiment failed. (error TargetResolutionFailed at targets.{})",
                template.actions[0].target
            )),
            Some(t0),
        ),
        Scenario::ManualStop => (
            Status::Stopped,
            Some("Experiment stopped by user.".into()),
            Some(t0 + minutes(random.between(1.0, 3.0))),
        ),
        _ => (
            Status::Completed,
            Some("Experiment completed.".into()),
            Some(t0 + duration + 20 * MICROS_PER_SECOND),
        ),
    };
    let draft = RunDraft {
        world,
        settings,
        run,
        team: &world.scenarios.team[run.team],
        template,
        profile,
        experiment_id,
        scenario,
        has_alarm,
        recover_within_s,
        duration,
        warm_up,
        started_at,
        t0,
        alarm_at,
        status,
        status_reason,
        ended_at,
    };
    let experiment = draft.experiment(random);
    draft.actions(batch);
    draft.series_and_points(random, batch);
    draft.alarm_events(random, batch);
    batch.rows.experiments.push(experiment);
}

/// How many of a demo target's resources (each target is a fleet of 6, two per zone) FIS resolves
/// a selection mode to: `COUNT(n)` n, `PERCENT(p)` p% rounded up, `ALL` every one.
fn resolved_count(selection: &str) -> i64 {
    const FLEET: i64 = 6;
    let number = |prefix: &str| {
        selection
            .strip_prefix(prefix)
            .and_then(|rest| rest.strip_suffix(')'))
            .and_then(|n| n.parse::<i64>().ok())
    };
    match (number("COUNT("), number("PERCENT(")) {
        (Some(count), _) => count.min(FLEET),
        (_, Some(percent)) => (FLEET * percent + 99) / 100,
        _ => FLEET,
    }
}

impl RunDraft<'_> {
    fn alarm_name(&self) -> String {
        format!("{}-5xx-errors", self.team.service)
    }

    /// The experiment record; draws the blast radius's target selection.
    fn experiment(&self, random: &mut Random) -> Experiment {
        let (run, team, template) = (self.run, self.team, self.template);
        let history = &self.world.scenarios.history;
        let selection = if run.environment == "prod" {
            if run.maturity < 2.0 && random.chance(0.3) {
                "PERCENT(50)"
            } else if random.chance(0.7) {
                "COUNT(1)"
            } else {
                "PERCENT(25)"
            }
        } else {
            ["COUNT(1)", "COUNT(1)", "PERCENT(25)", "PERCENT(50)", "ALL"][random.below(5)]
        };
        let mut tags = BTreeMap::from([
            ("Name".to_string(), template.name.clone()),
            ("env".to_string(), run.environment.to_string()),
            ("team".to_string(), team.name.clone()),
            ("service".to_string(), team.service.clone()),
            ("trigger".to_string(), run.trigger.to_string()),
        ]);
        if let Some(system) = &template.system {
            tags.insert(SYSTEM_TAG.to_string(), system.name().to_string());
        }
        Experiment {
            experiment_id: self.experiment_id.clone(),
            source: Source::Demo,
            account_id: Some(history.account_id.clone()),
            region: Some(history.region.clone()),
            template_id: Some(self.world.template_id(run.team, run.template)),
            template_name: Some(template.name.clone()),
            description: Some(template.description.clone()),
            status: self.status,
            status_reason: self.status_reason.clone(),
            created_at: run.created_at,
            started_at: (self.scenario != Scenario::Cancelled).then_some(self.started_at),
            ended_at: self.ended_at,
            environment: Some(run.environment.to_string()),
            team: Some(team.name.clone()),
            service: Some(team.service.clone()),
            trigger: Some(run.trigger.to_string()),
            tags: tags.into(),
            stop_condition_alarms: if self.has_alarm {
                vec![self.alarm_name()]
            } else {
                Vec::new()
            },
            stop_condition_triggered: self.scenario == Scenario::StoppedByAlarm,
            blast_radius: template
                .actions
                .iter()
                .map(|_| selection.to_string())
                .collect(),
            hypothesis: Some(format!("{} keeps its steady state", template.name)),
            recover_within_s: Some(self.recover_within_s),
            ingested_at: self.world.history_end,
            actions_mode: Some(
                if self.scenario == Scenario::DryRun {
                    "skip-all"
                } else {
                    "run-all"
                }
                .to_string(),
            ),
            resolved_targets: Some(
                template
                    .actions
                    .iter()
                    .map(|_| resolved_count(selection))
                    .sum(),
            ),
        }
    }

    /// The template's actions, one a minute from `t0`, after the warm-up wait when there is one.
    fn actions(&self, batch: &mut MonthBatch) {
        let t0 = self.t0;
        if self.warm_up > 0 {
            let ran = !matches!(self.scenario, Scenario::Cancelled | Scenario::DryRun);
            batch.rows.actions.push(Action {
                experiment_id: self.experiment_id.clone(),
                action_name: "warm-up".to_string(),
                action_id: "aws:fis:wait".to_string(),
                system: None,
                status: if ran { "completed" } else { "skipped" }.to_string(),
                started_at: ran.then_some(self.started_at),
                ended_at: ran.then_some(self.started_at + self.warm_up),
                targets: Vec::new(),
            });
        }
        for (position, action) in self.template.actions.iter().enumerate() {
            let action_start = t0 + position as i64 * MICROS_PER_MINUTE;
            let (action_status, start, end) = match self.scenario {
                Scenario::Cancelled => ("cancelled", None, None),
                Scenario::DryRun => ("skipped", None, None),
                Scenario::NothingInjected => ("cancelled", None, None),
                Scenario::Running => ("running", Some(action_start), None),
                Scenario::StoppedByAlarm | Scenario::ManualStop => {
                    ("stopped", Some(action_start), self.ended_at)
                }
                Scenario::Failed => ("failed", Some(action_start), self.ended_at),
                _ => ("completed", Some(action_start), Some(t0 + self.duration)),
            };
            batch.rows.actions.push(Action {
                experiment_id: self.experiment_id.clone(),
                action_name: action.name.clone(),
                action_id: action.action_id.clone(),
                system: self.world.catalog.system_of(&action.action_id),
                status: action_status.to_string(),
                started_at: start,
                ended_at: end,
                targets: vec![action.target.clone()],
            });
        }
    }

    /// The profile's series and their points, from 15 minutes before `t0` to 30 minutes after the
    /// end (5 minutes after `t0` for a run still going).
    fn series_and_points(&self, random: &mut Random, batch: &mut MonthBatch) {
        let scenario = self.scenario;
        let t0 = self.t0;
        // Recovery gets faster as the program matures: the seed's Phase 2 goal of MTTR −30%.
        let quarters = self.world.scenarios.history.quarters;
        let progress = (self.run.quarter as f64 / (quarters.max(2) - 1) as f64).min(1.0);
        let recover_within_min = self.recover_within_s / 60.0;
        let typical = recover_within_min * (1.0 - 0.7 * progress);
        let recovery_min = match scenario {
            Scenario::SlowRecovery => recover_within_min * random.between(1.3, 2.0),
            Scenario::NoRecovery | Scenario::ErrorOutage => f64::INFINITY,
            Scenario::StoppedByAlarm => recover_within_min * random.between(1.0, 1.6),
            _ => (typical * random.between(0.7, 1.2))
                .min(recover_within_min - 0.6)
                .max(1.0),
        };
        let fault = FaultShape {
            impact_at: t0 + minutes(random.between(0.3, 0.9)),
            recovered_at: t0 + minutes(recovery_min.min(1.0e6)),
            window_start: t0 - self.settings.observed_before,
            observed_until: match self.ended_at {
                Some(end) => end + self.settings.observed_after,
                None => t0 + minutes(5.0),
            },
        };
        let missing_series = (scenario == Scenario::MissingData).then(|| random.below(2));
        for (series_index, spec) in self.profile.series.iter().enumerate() {
            batch.rows.series.push(self.series_record(spec));
            if scenario == Scenario::Cancelled || missing_series == Some(series_index) {
                continue;
            }
            self.points(spec, &fault, random, batch);
        }
    }

    fn series_record(&self, spec: &SeriesSpec) -> MetricSeries {
        let service = &self.team.service;
        MetricSeries {
            experiment_id: self.experiment_id.clone(),
            series_id: spec.id.clone(),
            namespace: spec.namespace.clone(),
            metric: spec.metric.clone(),
            stat: spec.stat.clone(),
            dimensions: BTreeMap::from([(
                "LoadBalancer".to_string(),
                format!("app/{service}/{:016x}", stable_hash(service)),
            )]),
            period_s: 60,
            unit: Some(spec.unit.clone()),
            origin: if spec.origin == Origin::StopConditionAlarm && !self.has_alarm {
                Origin::Hypothesis
            } else {
                spec.origin
            },
            steady: spec
                .steady
                .clone()
                .unwrap_or_else(|| "baseline".to_string()),
            limit: spec.limit.clone(),
            kind: spec.kind,
            budget: spec.budget,
            outage: spec.outage,
        }
    }

    /// One series' points, a minute apart, shaped by the fault.
    fn points(
        &self,
        spec: &SeriesSpec,
        fault: &FaultShape,
        random: &mut Random,
        batch: &mut MonthBatch,
    ) {
        let scenario = self.scenario;
        let edge = |condition: Option<&str>| {
            condition
                .and_then(|s| Condition::parse(s).ok())
                .and_then(|c| c.band())
        };
        let affected = spec.affected
            && !matches!(
                scenario,
                Scenario::Unaffected
                    | Scenario::Running
                    | Scenario::DryRun
                    | Scenario::NothingInjected
                    | Scenario::ManualStop
            );
        let latency_peak = match (edge(spec.steady.as_deref()), edge(spec.limit.as_deref())) {
            (Some(_), Some(limit)) if scenario == Scenario::LimitBreach => {
                limit.high * random.between(1.5, 3.0)
            }
            (Some(band), Some(limit)) => {
                band.high + (limit.high - band.high) * random.between(0.2, 0.8)
            }
            (Some(band), None) => band.high * 1.8,
            _ => spec.normal * 3.0,
        };
        let mut errors_left = match scenario {
            Scenario::ErrorBudget => 1 + random.below(4),
            Scenario::ErrorOutage | Scenario::StoppedByAlarm => 8 + random.below(50),
            Scenario::NoRecovery => random.below(3),
            _ => 0,
        };
        let month = month_of(self.run.created_at);
        // CloudWatch reports each period at its start: points on whole minutes.
        let mut ts = fault.window_start - fault.window_start.rem_euclid(MICROS_PER_MINUTE);
        while ts <= fault.observed_until {
            let in_fault = affected && ts >= fault.impact_at && ts < fault.recovered_at;
            let noise = random.between(-1.0, 1.0);
            let value = match spec.shape {
                Shape::Capacity => Some(if in_fault {
                    (spec.normal - 1.0).max(0.0)
                } else {
                    spec.normal
                }),
                Shape::Connections => Some(if in_fault {
                    random.below(4) as f64
                } else {
                    (spec.normal + 3.0 * noise).round()
                }),
                Shape::Latency => Some(if in_fault {
                    latency_peak * random.between(0.85, 1.0)
                } else {
                    spec.normal * (1.0 + 0.15 * noise)
                }),
                Shape::Traffic => Some((spec.normal * (1.0 + 0.01 * noise)).round()),
                Shape::Errors => {
                    // Missing points mean zero: CloudWatch publishes no datapoint for a zero count.
                    if errors_left > 0 && ts >= fault.impact_at && affected {
                        let count = if errors_left <= 2 {
                            errors_left
                        } else {
                            1 + random.below(errors_left)
                        };
                        errors_left -= count;
                        Some(count as f64)
                    } else {
                        None
                    }
                }
            };
            if let Some(value) = value {
                batch
                    .rows
                    .points
                    .push(&self.experiment_id, &month, &spec.id, ts, value);
            }
            ts += MICROS_PER_MINUTE;
        }
    }

    /// The stop-condition alarm's ALARM and its return to OK, for a run it stopped.
    fn alarm_events(&self, random: &mut Random, batch: &mut MonthBatch) {
        if self.scenario != Scenario::StoppedByAlarm {
            return;
        }
        batch.rows.alarm_events.push(AlarmEvent {
            alarm_name: self.alarm_name(),
            ts: self.alarm_at,
            from_state: AlarmState::Ok,
            to_state: AlarmState::Alarm,
            reason: Some(
                "Threshold Crossed: 1 datapoint was greater than the threshold (5.0).".to_string(),
            ),
        });
        batch.rows.alarm_events.push(AlarmEvent {
            alarm_name: self.alarm_name(),
            ts: self.alarm_at + minutes(random.between(4.0, 9.0)),
            from_state: AlarmState::Alarm,
            to_state: AlarmState::Ok,
            reason: Some(
                "Threshold Crossed: 1 datapoint was not greater than the threshold (5.0)."
                    .to_string(),
            ),
        });
    }
}

/// When a run's series leave and regain their steady state, and the span their points cover.
struct FaultShape {
    impact_at: Micros,
    recovered_at: Micros,
    window_start: Micros,
    observed_until: Micros,
}

fn generate_incidents(world: &World, random: &mut Random) -> Vec<Incident> {
    let history = &world.scenarios.history;
    let mut incidents = Vec::new();
    for quarter in 0..history.quarters {
        let progress = quarter as f64 / (history.quarters.max(2) - 1) as f64;
        let typical_hours = history.incident_hours_start
            + (history.incident_hours_end - history.incident_hours_start) * progress;
        let quarter_start = world.quarter_starts[quarter as usize];
        let quarter_length = world.quarter_starts[quarter as usize + 1] - quarter_start;
        for (team_index, team) in world.scenarios.team.iter().enumerate() {
            let maturity = world.maturity(team_index, quarter);
            let expected = history.incidents_per_team_quarter * (1.3 - 0.15 * maturity);
            let count = (expected + random.between(-0.5, 0.5)).round().max(0.0) as usize;
            for _ in 0..count {
                let started_at = quarter_start + (random.unit() * quarter_length as f64) as Micros;
                let hours = typical_hours * random.between(0.5, 1.6);
                let severity = ["sev1", "sev2", "sev2", "sev3", "sev3"][random.below(5)];
                incidents.push(Incident {
                    incident_id: format!("INC-{:05}", 1000 + incidents.len()),
                    service: Some(team.service.clone()),
                    team: Some(team.name.clone()),
                    severity: Some(severity.to_string()),
                    started_at,
                    resolved_at: started_at + (hours * 3600.0 * MICROS_PER_SECOND as f64) as Micros,
                    customer_impact: Some(
                        match severity {
                            "sev1" => "Checkout unavailable for most customers",
                            "sev2" => "Elevated error rate for some customers",
                            _ => "Slow responses, no failed requests",
                        }
                        .to_string(),
                    ),
                });
            }
        }
    }
    // Unwatched services draw from their own stream, so the teams' incidents stay as they were.
    let mut unwatched_random = Random(random.next_u64());
    for quarter in 0..history.quarters {
        let quarter_start = world.quarter_starts[quarter as usize];
        let quarter_length = world.quarter_starts[quarter as usize + 1] - quarter_start;
        for service in &world.scenarios.unwatched_service {
            let count = (service.incidents_per_quarter + unwatched_random.between(-0.5, 0.5))
                .round()
                .max(0.0) as usize;
            for _ in 0..count {
                let started_at =
                    quarter_start + (unwatched_random.unit() * quarter_length as f64) as Micros;
                let hours = history.incident_hours_start * unwatched_random.between(0.6, 1.4);
                incidents.push(Incident {
                    incident_id: format!("INC-{:05}", 1000 + incidents.len()),
                    service: Some(service.name.clone()),
                    team: Some(service.team.clone()),
                    severity: Some("sev2".to_string()),
                    started_at,
                    resolved_at: started_at + (hours * 3600.0 * MICROS_PER_SECOND as f64) as Micros,
                    customer_impact: Some("Notifications delayed for some customers".to_string()),
                });
            }
        }
    }
    incidents.sort_by_key(|incident| incident.started_at);
    debug_assert!(
        incidents
            .iter()
            .all(|i| i.started_at >= world.history_start)
    );
    incidents
}
