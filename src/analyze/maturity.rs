//! Maturity stages and the seed's phase scorecards (SPEC section 9).
//!
//! The rubric is data (`data/maturity_rubric.toml`): each criterion is a polars SQL query over the
//! practice tables of one scope (the organisation or one team) and one period, compared with a
//! threshold. A scope is at the highest stage whose criteria, and those of every lower stage, all
//! hold. This module builds the tables the queries read (their columns are listed at the top of
//! the rubric file), runs the queries and applies the thresholds.

use std::collections::{BTreeSet, HashMap, HashSet};

use chrono::Datelike;
use polars::prelude::*;
use rayon::prelude::*;
use serde::Deserialize;

use super::JudgedExperiment;
use super::mttr::{MttrRow, PeriodUnit, first_compared, span_mttr};
use super::summary::{QueryError, run_queries};
use super::weaknesses::Weakness;
use crate::ledger::{Experiment, Incident};
use crate::vocab::Scope;
use crate::vocab::practice::{EnvironmentClass, TriggerClass};
use crate::vocab::time::{
    MICROS_PER_DAY as DAY, Micros, PerDay, Period, micros_from_seconds, month_of, parse_period,
    quarter_of, seconds_from_micros,
};

pub const BUILT_IN_RUBRIC: &str = include_str!("../../data/maturity_rubric.toml");

/// How many evidence items the one-line evidence names before "and N more".
const EVIDENCE_NAMED: usize = 5;
/// How many evidence items the report model keeps for tracing.
const EVIDENCE_KEPT: usize = 200;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rubric {
    #[serde(rename = "stage")]
    pub stages: Vec<Level>,
    #[serde(rename = "criterion")]
    pub criteria: Vec<Criterion>,
    #[serde(rename = "phase", default)]
    pub phases: Vec<Level>,
    #[serde(rename = "scorecard", default)]
    pub scorecards: Vec<Criterion>,
}

/// A stage (1–4) or a seed phase (1–3).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Level {
    pub number: u8,
    pub name: String,
    pub summary: String,
    /// Japanese text for `--lang ja` (the English is used when absent).
    pub name_ja: Option<String>,
    pub summary_ja: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Criterion {
    pub id: String,
    /// The stage of a stage criterion.
    pub stage: Option<u8>,
    /// The phase of a scorecard item.
    pub phase: Option<u8>,
    pub description: String,
    pub description_ja: Option<String>,
    /// How reports print value and threshold: `count`, `percent` (of a share) or `number`.
    pub format: String,
    pub comparison: Comparison,
    pub threshold: f64,
    pub query: String,
    /// Data the criterion cannot be judged without (`incidents`): while the ledger holds none, it
    /// reads "unknown", which is not met (SPEC section 9).
    #[serde(default)]
    pub needs: Vec<Needed>,
}

/// Data a ledger may lack entirely.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Needed {
    Incidents,
}

impl Needed {
    /// Why a criterion needing this reads "unknown", when the ledger lacks it.
    fn missing(self, input: &MaturityInput) -> Option<&'static str> {
        match self {
            Needed::Incidents if input.incidents.is_empty() => Some(
                "unknown: no incidents ingested before the period's end (checkup ingest incidents)",
            ),
            Needed::Incidents => None,
        }
    }
}

/// Where a criterion stands. `Unknown` (its data is missing, or its query gave a null value: not
/// enough runs to compare) is not met, and says so, rather than passing or failing silently.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Standing {
    Met,
    NotMet,
    Unknown,
}

impl Standing {
    /// The word of `report.json` and the templates' translation key.
    pub fn name(self) -> &'static str {
        match self {
            Standing::Met => "met",
            Standing::NotMet => "not_met",
            Standing::Unknown => "unknown",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub enum Comparison {
    #[serde(rename = ">=")]
    AtLeast,
    #[serde(rename = "<=")]
    AtMost,
}

impl Comparison {
    pub fn symbol(self) -> &'static str {
        match self {
            Comparison::AtLeast => ">=",
            Comparison::AtMost => "<=",
        }
    }

    fn holds(self, value: f64, threshold: f64) -> bool {
        match self {
            Comparison::AtLeast => value >= threshold,
            Comparison::AtMost => value <= threshold,
        }
    }
}

impl Rubric {
    pub fn built_in() -> Rubric {
        Rubric::parse(BUILT_IN_RUBRIC).expect("the built-in maturity rubric parses")
    }

    pub fn parse(text: &str) -> Result<Rubric, String> {
        let rubric: Rubric = toml::from_str(text).map_err(|error| error.to_string())?;
        for criterion in &rubric.criteria {
            let stage = criterion
                .stage
                .ok_or_else(|| format!("criterion {} needs a stage", criterion.id))?;
            if !rubric.stages.iter().any(|s| s.number == stage) {
                return Err(format!(
                    "criterion {} names stage {stage}, which the rubric does not define",
                    criterion.id
                ));
            }
        }
        for item in &rubric.scorecards {
            let phase = item
                .phase
                .ok_or_else(|| format!("scorecard item {} needs a phase", item.id))?;
            if !rubric.phases.iter().any(|p| p.number == phase) {
                return Err(format!(
                    "scorecard item {} names phase {phase}, which the rubric does not define",
                    item.id
                ));
            }
        }
        Ok(rubric)
    }
}

/// One criterion judged for one scope and period.
#[derive(Debug, Clone, PartialEq)]
pub struct CriterionResult {
    pub id: String,
    /// The stage (or, for a scorecard item, the phase) it belongs to.
    pub level: u8,
    pub description: String,
    pub description_ja: Option<String>,
    pub format: String,
    pub comparison: Comparison,
    pub threshold: f64,
    /// `None` when the query selected nothing (it then counts as 0) or when unknown.
    pub value: Option<f64>,
    pub standing: Standing,
    /// The experiments, templates, days or sentence behind the value.
    pub evidence: Vec<String>,
    /// How many evidence items there were before keeping the first [`EVIDENCE_KEPT`].
    pub evidence_total: usize,
}

impl CriterionResult {
    pub fn met(&self) -> bool {
        self.standing == Standing::Met
    }

    /// The evidence in one line: the first few items and how many more.
    pub fn evidence_line(&self) -> String {
        if self.evidence_total == 0 {
            return "none".to_string();
        }
        let named: Vec<&str> = self
            .evidence
            .iter()
            .take(EVIDENCE_NAMED)
            .map(String::as_str)
            .collect();
        let more = self.evidence_total - named.len();
        if more == 0 {
            named.join(", ")
        } else {
            format!("{} and {more} more", named.join(", "))
        }
    }
}

/// The stage of one scope in one period, with every criterion.
#[derive(Debug, Clone, PartialEq)]
pub struct ScopeStage {
    pub scope: Scope,
    /// 0 when not even stage 1 holds (no experiment in the period).
    pub stage: u8,
    pub criteria: Vec<CriterionResult>,
}

/// The stage of one scope in one quarter, for the trend.
#[derive(Debug, Clone, PartialEq)]
pub struct StagePoint {
    pub scope: Scope,
    pub quarter: String,
    pub stage: u8,
}

#[derive(Debug, Clone, PartialEq)]
pub struct PhaseScore {
    pub phase: u8,
    pub name: String,
    pub summary: String,
    pub name_ja: Option<String>,
    pub summary_ja: Option<String>,
    pub met: bool,
    pub items: Vec<CriterionResult>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Maturity {
    /// The organisation first, then every team, for the report period.
    pub scopes: Vec<ScopeStage>,
    /// Stage per scope and quarter, from the first quarter of the ledger to the period's.
    pub trend: Vec<StagePoint>,
    /// The seed's phase scorecards for the organisation in the report period.
    pub phases: Vec<PhaseScore>,
}

/// Everything maturity is judged from.
pub struct MaturityInput<'a> {
    pub experiments: &'a [JudgedExperiment],
    /// The `experiment_outcomes` table of `experiments` (`summary::experiment_outcomes_frame`),
    /// which the program has built already.
    pub experiment_outcomes: &'a DataFrame,
    pub weaknesses: &'a [Weakness],
    pub incidents: &'a [Incident],
    /// How long after an experiment's end its observation window runs (`window.post`).
    pub post_window_s: f64,
    /// The experimental MTTR trend by quarter and by month (`mttr::experiment_mttr`): the MTTR
    /// criteria compare with its first compared period, as the trend and the gate do.
    pub mttr_by_quarter: &'a [MttrRow],
    pub mttr_by_month: &'a [MttrRow],
    /// `[window] min_runs`: impacted runs a period needs to be compared (SPEC section 7).
    pub min_runs: u64,
}

/// One scope (the organisation or a team) in one period: the unit every criterion is judged for.
#[derive(Debug, Clone, PartialEq)]
struct Cell {
    scope: Scope,
    /// `2026Q3` for a trend quarter, `report` for the report period.
    period: String,
    bounds: Period,
}

/// The label of the report period's cells (the trend's cells carry their quarter).
const REPORT_PERIOD: &str = "report";

/// Judges every scope for `period`, the stage trend by quarter up to the period, and the seed's
/// phase scorecards for the organisation. Each criterion's query runs once, over every scope and
/// period at once (`GROUP BY scope, period`).
pub fn assess_maturity(
    rubric: &Rubric,
    input: &MaturityInput,
    period: Period,
) -> Result<Maturity, QueryError> {
    let practice = Practice {
        frame: practice_frame(input).map_err(|source| QueryError {
            name: "maturity practice table".to_string(),
            source,
        })?,
        weaknesses: weaknesses_with_finder_team(input),
    };
    let before_end = |ts: Micros| ts < period.end;
    let teams: BTreeSet<&str> = input
        .experiments
        .iter()
        .filter(|e| before_end(e.start()))
        .filter_map(|e| e.experiment.team.as_deref())
        .collect();
    let scopes: Vec<Scope> = std::iter::once(Scope::Organization)
        .chain(teams.iter().map(|team| Scope::Team(team.to_string())))
        .collect();

    // The trend runs from the quarter of the first experiment to the quarter of the last data
    // (experiment or incident) before the period's end: a period ending far ahead (`..2100-01-01`)
    // adds no empty quarters.
    let mut quarters: Vec<Period> = Vec::new();
    let starts = || {
        input
            .experiments
            .iter()
            .map(JudgedExperiment::start)
            .filter(|ts| before_end(*ts))
    };
    let last_data = starts().chain(
        input
            .incidents
            .iter()
            .map(|incident| incident.started_at)
            .filter(|ts| before_end(*ts)),
    );
    if let (Some(first), Some(last)) = (starts().min(), last_data.max()) {
        let last_quarter = parse_period(&quarter_of(last), 0).expect("a quarter parses");
        let mut quarter = parse_period(&quarter_of(first), 0).expect("a quarter parses");
        while quarter.start <= last_quarter.start {
            quarters.push(quarter);
            quarter = parse_period(&quarter_of(quarter.end), 0).expect("a quarter parses");
        }
    }
    let mut cells: Vec<Cell> = Vec::new();
    for scope in &scopes {
        cells.push(Cell {
            scope: scope.clone(),
            period: REPORT_PERIOD.to_string(),
            bounds: period,
        });
        for quarter in &quarters {
            cells.push(Cell {
                scope: scope.clone(),
                period: quarter_of(quarter.start),
                bounds: *quarter,
            });
        }
    }

    // The stages of every cell and the organisation's scorecards (tables of that one cell, the
    // first: on 10,000 experiments, 35 ms less than of every cell) read the same practice table
    // and nothing of each other: side by side.
    let organization = &cells[..1];
    debug_assert!(
        organization[0].scope.is_organization() && organization[0].period == REPORT_PERIOD
    );
    let (stage_results, items) = rayon::join(
        || {
            let tables = CellTables::build(&practice, input, &cells, &rubric.criteria)?;
            judge(&rubric.criteria, input, &tables, &cells, |c| {
                c.stage.unwrap_or(0)
            })
        },
        || {
            let tables = CellTables::build(&practice, input, organization, &rubric.scorecards)?;
            let mut items = judge(&rubric.scorecards, input, &tables, organization, |c| {
                c.phase.unwrap_or(0)
            })?;
            Ok::<_, QueryError>(items.swap_remove(0))
        },
    );
    let (stage_results, items) = (stage_results?, items?);
    let mut current = Vec::new();
    let mut trend = Vec::new();
    for (cell, criteria) in cells.iter().zip(stage_results) {
        let stage = stage_of(rubric, &criteria);
        if cell.period == REPORT_PERIOD {
            current.push(ScopeStage {
                scope: cell.scope.clone(),
                stage,
                criteria,
            });
        } else {
            trend.push(StagePoint {
                scope: cell.scope.clone(),
                quarter: cell.period.clone(),
                stage,
            });
        }
    }
    // The trend reads quarter by quarter, each with every scope.
    trend.sort_by(|a, b| {
        let rank = |scope: &Scope| scopes.iter().position(|s| s == scope);
        (a.quarter.as_str(), rank(&a.scope)).cmp(&(b.quarter.as_str(), rank(&b.scope)))
    });

    let phases = rubric
        .phases
        .iter()
        .map(|phase| {
            let items: Vec<CriterionResult> = items
                .iter()
                .filter(|item| item.level == phase.number)
                .cloned()
                .collect();
            PhaseScore {
                phase: phase.number,
                name: phase.name.clone(),
                summary: phase.summary.clone(),
                name_ja: phase.name_ja.clone(),
                summary_ja: phase.summary_ja.clone(),
                met: !items.is_empty() && items.iter().all(CriterionResult::met),
                items,
            }
        })
        .collect();

    Ok(Maturity {
        scopes: current,
        trend,
        phases,
    })
}

/// The highest stage whose criteria, and those of every lower stage, all hold.
fn stage_of(rubric: &Rubric, criteria: &[CriterionResult]) -> u8 {
    let mut numbers: Vec<u8> = rubric.stages.iter().map(|s| s.number).collect();
    numbers.sort_unstable();
    let mut reached = 0;
    for number in numbers {
        let all_met = criteria
            .iter()
            .filter(|c| c.level == number)
            .all(CriterionResult::met);
        if !all_met {
            break;
        }
        reached = number;
    }
    reached
}

/// Small (SPEC section 9): at most 2 resolved targets, or every selection mode `COUNT(2)`,
/// `PERCENT(25)` or below. `ALL`, larger counts and anything unknown are not; an experiment without
/// targets or a resolved count is not known to be small.
pub fn small_blast_radius(selection_modes: &[String], resolved_targets: Option<i64>) -> bool {
    resolved_targets.is_some_and(|count| count <= 2)
        || !selection_modes.is_empty()
            && selection_modes.iter().all(|mode| {
                let mode = mode.trim().to_ascii_uppercase();
                let number = |prefix: &str| {
                    mode.strip_prefix(prefix)
                        .and_then(|rest| rest.strip_suffix(')'))
                        .and_then(|n| n.trim().parse::<f64>().ok())
                };
                match (number("COUNT("), number("PERCENT(")) {
                    (Some(count), _) => count <= 2.0,
                    (_, Some(percent)) => percent <= 25.0,
                    _ => false,
                }
            })
}

/// One row per experiment with the practice columns every criterion reads: the
/// `experiment_outcomes` columns (identity, team, verdict, recovery) and how it was run.
fn practice_frame(input: &MaturityInput) -> PolarsResult<DataFrame> {
    let experiments = input.experiments;
    let flags = |f: &dyn Fn(&Experiment) -> bool| -> Vec<bool> {
        experiments.iter().map(|e| f(&e.experiment)).collect()
    };
    let post = micros_from_seconds(input.post_window_s);
    let starts: Vec<Micros> = experiments.iter().map(JudgedExperiment::start).collect();
    let window_ends: Vec<Micros> = experiments
        .iter()
        .map(|e| e.experiment.ended_at.unwrap_or(e.start()) + post)
        .collect();
    // On 100,000 experiments writing every row's day with chrono was felt.
    let day_texts = PerDay::new(starts.iter().copied(), |ts| {
        let day = crate::vocab::time::to_datetime(ts);
        format!("{:04}-{:02}-{:02}", day.year(), day.month(), day.day())
    });
    let datetime = |name: &str, values: Vec<Micros>| -> PolarsResult<Column> {
        Column::new(name.into(), values).cast(&DataType::Datetime(
            TimeUnit::Microseconds,
            Some(TimeZone::UTC),
        ))
    };
    let mut frame = input.experiment_outcomes.clone();
    frame.hstack_mut(&[
        Column::new(
            "day".into(),
            starts
                .iter()
                .map(|ts| day_texts.of(*ts).as_str())
                .collect::<Vec<_>>(),
        ),
        datetime("started_at", starts.clone())?,
        datetime("window_end", window_ends)?,
        Column::new(
            "production".into(),
            experiments
                .iter()
                .map(|e| e.environment == EnvironmentClass::Production)
                .collect::<Vec<_>>(),
        ),
        Column::new(
            "outside_dev".into(),
            experiments
                .iter()
                .map(|e| e.environment.is_outside_dev())
                .collect::<Vec<_>>(),
        ),
        Column::new(
            "automated".into(),
            flags(&|e| e.trigger_class() == TriggerClass::Automated),
        ),
        Column::new(
            "gameday".into(),
            flags(&|e| e.trigger_class() == TriggerClass::GameDay),
        ),
        Column::new(
            "alarm_stop_condition".into(),
            flags(&|e| !e.stop_condition_alarms.is_empty()),
        ),
        Column::new(
            "small_blast_radius".into(),
            flags(&|e| small_blast_radius(&e.blast_radius, e.resolved_targets)),
        ),
        Column::new(
            "resolved_targets".into(),
            experiments
                .iter()
                .map(|e| e.experiment.resolved_targets)
                .collect::<Vec<_>>(),
        ),
        Column::new(
            "has_hypothesis".into(),
            flags(&|e| e.recover_within_s.is_some()),
        ),
        Column::new(
            "systems".into(),
            experiments
                .iter()
                .map(|e| e.systems.len() as i64)
                .collect::<Vec<_>>(),
        ),
    ])?;
    Ok(frame)
}

/// The practice table of every experiment, and every weakness with its finder's team.
struct Practice<'a> {
    frame: DataFrame,
    /// Each finder's team looked up once: looked up per cell, they took 70 ms of the program
    /// on 100,000 experiments (36 cells, 6,500 weaknesses).
    weaknesses: Vec<(&'a Weakness, Option<&'a str>)>,
}

/// Every weakness with the team of the experiment that found it, in the weaknesses' order.
fn weaknesses_with_finder_team<'a>(
    input: &MaturityInput<'a>,
) -> Vec<(&'a Weakness, Option<&'a str>)> {
    let team_by_experiment: HashMap<&str, &str> = input
        .experiments
        .iter()
        .filter_map(|e| Some((e.id(), e.experiment.team.as_deref()?)))
        .collect();
    input
        .weaknesses
        .iter()
        .map(|w| (w, team_by_experiment.get(w.found_by.as_str()).copied()))
        .collect()
}

/// The tables the criteria read, with the rows of every cell, each row keyed by `scope` and
/// `period`.
struct CellTables {
    experiments: DataFrame,
    experiments_to_date: DataFrame,
    weaknesses: DataFrame,
    incidents: DataFrame,
    periods: DataFrame,
    mttr: DataFrame,
}

impl CellTables {
    /// The tables `criteria`'s queries read, for `cells`.
    fn build(
        practice: &Practice,
        input: &MaturityInput,
        cells: &[Cell],
        criteria: &[Criterion],
    ) -> Result<CellTables, QueryError> {
        let error = |source| QueryError {
            name: "maturity tables".to_string(),
            source,
        };
        let mut weaknesses = Vec::new();
        let mut incidents = Vec::new();
        let mut periods = Vec::new();
        let mut mttr = Vec::new();
        let mut first_quarters: HashMap<&Scope, Option<String>> = HashMap::new();
        for cell in cells {
            let scope = &cell.scope;
            first_quarters
                .entry(scope)
                .or_insert_with(|| practice.first_quarter(scope));
        }
        let first_quarter_of = |cell: &Cell| first_quarters[&cell.scope].as_deref();
        for cell in cells {
            let tables = practice
                .cell_tables(input, cell, first_quarter_of(cell))
                .map_err(error)?;
            weaknesses.push(tables.weaknesses);
            incidents.push(tables.incidents);
            periods.push(tables.periods);
            mttr.push(tables.mttr);
        }
        // One plan for all cells: polars filters them in parallel.
        let stack = |frames: Vec<LazyFrame>| -> Result<DataFrame, QueryError> {
            concat(frames, UnionArgs::default())
                .and_then(LazyFrame::collect)
                .map_err(error)
        };
        let rows = practice
            .cell_rows(input, cells, first_quarter_of)
            .map_err(error)?;
        // Each table gathers only the columns of the queries that read it: the history to date
        // repeats every experiment in every later quarter's cell (640,000 rows on 100,000
        // experiments), and the stages' one query over it names two columns.
        let words = QueryWords::of(criteria);
        let experiments = practice
            .experiments_table(&rows, &words.of_readers("experiments"), |row| row.in_period)
            .map_err(error)?;
        let experiments_to_date = practice
            .experiments_table(&rows, &words.of_readers("experiments_to_date"), |_| true)
            .map_err(error)?;
        Ok(CellTables {
            experiments,
            experiments_to_date,
            weaknesses: stack(weaknesses)?,
            incidents: stack(incidents)?,
            periods: stack(periods)?,
            mttr: stack(mttr)?,
        })
    }
}

/// The words of each query of a rubric, to tell which columns a table's readers may name: a column
/// none of them names can only reach a query through a `*`, whose rows it does not change (see
/// `experiments_table`). Case is ignored: keeping a column too many costs little.
struct QueryWords(Vec<HashSet<String>>);

impl QueryWords {
    fn of(criteria: &[Criterion]) -> QueryWords {
        QueryWords(
            criteria
                .iter()
                .map(|criterion| {
                    criterion
                        .query
                        .split(|c: char| !(c.is_alphanumeric() || c == '_'))
                        .filter(|word| !word.is_empty())
                        .map(str::to_lowercase)
                        .collect()
                })
                .collect(),
        )
    }

    /// The words of the queries that name `table`.
    fn of_readers(&self, table: &str) -> NamedInQueries {
        let mut words = HashSet::new();
        for query in self.0.iter().filter(|words| words.contains(table)) {
            words.extend(query.iter().cloned());
        }
        NamedInQueries(words)
    }
}

/// The words of the queries that read one table.
struct NamedInQueries(HashSet<String>);

impl NamedInQueries {
    /// Whether any query reads the table at all.
    fn any(&self) -> bool {
        !self.0.is_empty()
    }

    fn names(&self, column: &str) -> bool {
        self.0.contains(&column.to_lowercase())
    }
}

/// One experiment in one cell: its row in the practice table and what it is in the cell.
struct CellRow {
    row: IdxSize,
    in_period: bool,
    /// Whether it started in the scope's first quarter with an experiment (null without one).
    first_quarter: Option<bool>,
    /// The 0-based week of the cell's period it started in (clamped to the period's weeks).
    week: i64,
}

/// Every cell's experiments to date, cell by cell in order.
struct CellRows<'c> {
    cells: &'c [Cell],
    rows: Vec<Vec<CellRow>>,
}

/// The rows of one cell, as plans.
struct CellPlans {
    weaknesses: LazyFrame,
    incidents: LazyFrame,
    periods: LazyFrame,
    mttr: LazyFrame,
}

impl Practice<'_> {
    /// The scope's first quarter with an experiment.
    fn first_quarter(&self, scope: &Scope) -> Option<String> {
        let quarters = self.frame.column("quarter").ok()?.str().ok()?.clone();
        let teams = self.frame.column("team").ok()?.str().ok()?.clone();
        quarters
            .iter()
            .zip(teams.iter())
            .filter(|(_, team)| scope.holds(*team))
            .filter_map(|(quarter, _)| quarter)
            .min()
            .map(str::to_string)
    }

    /// The rows of one cell.
    fn cell_tables(
        &self,
        input: &MaturityInput,
        cell: &Cell,
        first_quarter: Option<&str>,
    ) -> PolarsResult<CellPlans> {
        let at = CellContext {
            scope: &cell.scope,
            label: cell.period.as_str(),
            period: cell.bounds,
            first_quarter_period: first_quarter.and_then(|q| parse_period(q, 0).ok()),
        };
        Ok(CellPlans {
            weaknesses: self.weaknesses(&at)?,
            incidents: incidents_plan(&at, input.incidents)?,
            periods: periods_plan(&at)?,
            mttr: mttr_plan(&at, input)?,
        })
    }

    /// Every cell's experiments to date: the experiments of the cell's scope started before its
    /// end, with whether each is `in_period`, in the scope's `first_quarter` with an experiment,
    /// and the `week` of the period it started in.
    fn cell_rows<'c>(
        &self,
        input: &MaturityInput,
        cells: &'c [Cell],
        first_quarter_of: impl Fn(&'c Cell) -> Option<&'c str> + Sync,
    ) -> PolarsResult<CellRows<'c>> {
        let quarters = self.frame.column("quarter")?.str()?;
        let experiments = input.experiments;
        debug_assert_eq!(experiments.len(), self.frame.height());
        let starts: Vec<Micros> = experiments.iter().map(JudgedExperiment::start).collect();
        // Teams by number, so that testing a row's scope compares no text.
        let mut team_numbers: HashMap<&str, u32> = HashMap::new();
        let teams: Vec<Option<u32>> = experiments
            .iter()
            .map(|e| {
                let team = e.experiment.team.as_deref()?;
                let next = team_numbers.len() as u32;
                Some(*team_numbers.entry(team).or_insert(next))
            })
            .collect();
        let rows = cells
            .par_iter()
            .map(|cell| {
                let (period, first_quarter) = (cell.bounds, first_quarter_of(cell));
                let last_week = weeks_in(period) - 1.0;
                // A team without experiments has no rows: no number matches it.
                let team = match &cell.scope {
                    Scope::Organization => None,
                    Scope::Team(team) => Some(team_numbers.get(team.as_str()).copied()),
                };
                let mut rows = Vec::new();
                for (row, (&start, &row_team)) in starts.iter().zip(&teams).enumerate() {
                    let in_scope = match team {
                        None => true,
                        Some(team) => row_team.is_some() && row_team == team,
                    };
                    if start >= period.end || !in_scope {
                        continue;
                    }
                    let week = ((start - period.start) as f64 / (7 * DAY) as f64).floor();
                    rows.push(CellRow {
                        row: row as IdxSize,
                        in_period: start >= period.start,
                        first_quarter: first_quarter.map_or(Some(false), |first| {
                            quarters.get(row).map(|quarter| quarter == first)
                        }),
                        week: week.clamp(0.0, last_week) as i64,
                    });
                }
                rows
            })
            .collect();
        Ok(CellRows { cells, rows })
    }

    /// One experiments table of every cell: the `rows` that `keep` keeps, with the cell's `scope`
    /// and `period`, `in_period`, `first_quarter` and `week`. The rows are gathered by index in
    /// one take: on 10,000 experiments that is 0.009 s (a fifth of maturity) faster than a
    /// filtered plan per cell, stacked. Of the practice columns, only those its readers name are
    /// gathered, and `experiment_id`: with `scope` and `period` it keeps every row distinct, so a
    /// `SELECT DISTINCT *` or a `UNION` counts the same rows as over every column. A table no
    /// query reads is left without rows.
    fn experiments_table(
        &self,
        cell_rows: &CellRows,
        named: &NamedInQueries,
        keep: impl Fn(&CellRow) -> bool,
    ) -> PolarsResult<DataFrame> {
        let keep = |row: &&CellRow| named.any() && keep(row);
        let total = cell_rows
            .rows
            .iter()
            .map(|rows| rows.iter().filter(keep).count())
            .sum();
        let mut indices = Vec::with_capacity(total);
        let mut scopes = StringChunked::full_null("scope".into(), 0);
        let mut periods = StringChunked::full_null("period".into(), 0);
        let (mut in_period, mut first_quarter, mut weeks) = (
            Vec::with_capacity(total),
            Vec::with_capacity(total),
            Vec::with_capacity(total),
        );
        for (cell, rows) in cell_rows.cells.iter().zip(&cell_rows.rows) {
            let before = indices.len();
            for row in rows.iter().filter(keep) {
                indices.push(row.row);
                in_period.push(row.in_period);
                first_quarter.push(row.first_quarter);
                weeks.push(row.week);
            }
            let count = indices.len() - before;
            // A cell's scope and period, repeated: one value a cell, not a string a row.
            scopes.append(&StringChunked::full(
                "scope".into(),
                cell.scope.key(),
                count,
            ))?;
            periods.append(&StringChunked::full("period".into(), &cell.period, count))?;
        }
        let practice_columns: Vec<PlSmallStr> = self
            .frame
            .get_column_names()
            .into_iter()
            .filter(|name| name.as_str() == "experiment_id" || named.names(name))
            .cloned()
            .collect();
        let mut table = self
            .frame
            .select(practice_columns)?
            .take(&IdxCa::from_vec("row".into(), indices))?;
        table.hstack_mut(&[
            scopes.into_column(),
            periods.into_column(),
            Column::new("in_period".into(), in_period),
            Column::new("first_quarter".into(), first_quarter),
            Column::new("week".into(), weeks),
        ])?;
        Ok(table)
    }

    /// The weaknesses found by the scope's experiments before the cell's end.
    fn weaknesses(&self, at: &CellContext) -> PolarsResult<LazyFrame> {
        let period = at.period;
        let found: Vec<&Weakness> = self
            .weaknesses
            .iter()
            .filter(|(w, team)| w.found_at < period.end && at.in_scope(*team))
            .map(|(w, _)| *w)
            .collect();
        let fixed_by_end = |w: &Weakness| w.fixed_at.filter(|ts| *ts < period.end);
        Ok(DataFrame::new_infer_height(vec![
            Column::new(
                "template".into(),
                found
                    .iter()
                    .map(|w| w.template.as_str())
                    .collect::<Vec<_>>(),
            ),
            Column::new(
                "found_by".into(),
                found
                    .iter()
                    .map(|w| w.found_by.as_str())
                    .collect::<Vec<_>>(),
            ),
            Column::new(
                "fixed_by".into(),
                found
                    .iter()
                    .map(|w| fixed_by_end(w).and(w.fixed_by.as_deref()))
                    .collect::<Vec<_>>(),
            ),
            Column::new(
                "found_in_period".into(),
                found
                    .iter()
                    .map(|w| period.contains(w.found_at))
                    .collect::<Vec<_>>(),
            ),
            Column::new(
                "fixed".into(),
                found
                    .iter()
                    .map(|w| fixed_by_end(w).is_some())
                    .collect::<Vec<_>>(),
            ),
            Column::new(
                "fixed_in_period".into(),
                found
                    .iter()
                    .map(|w| fixed_by_end(w).is_some_and(|ts| period.contains(ts)))
                    .collect::<Vec<_>>(),
            ),
        ])?
        .lazy()
        .with_columns(at.keys()))
    }
}

/// One cell's scope and period, and the scope's first quarter with an experiment.
struct CellContext<'a> {
    scope: &'a Scope,
    /// `2026Q3` for a trend quarter, `report` for the report period.
    label: &'a str,
    period: Period,
    first_quarter_period: Option<Period>,
}

impl CellContext<'_> {
    fn in_scope(&self, team: Option<&str>) -> bool {
        self.scope.holds(team)
    }

    /// The `scope` and `period` columns every row of the cell carries.
    fn keys(&self) -> [Expr; 2] {
        [
            lit(self.scope.key()).alias("scope"),
            lit(self.label).alias("period"),
        ]
    }

    fn days(&self) -> f64 {
        days_in(self.period)
    }

    fn weeks(&self) -> f64 {
        weeks_in(self.period)
    }
}

fn days_in(period: Period) -> f64 {
    (period.end - period.start) as f64 / DAY as f64
}

/// The weeks of a period, at least one: the `week` column counts from 0 to this less one.
fn weeks_in(period: Period) -> f64 {
    (days_in(period) / 7.0).round().max(1.0)
}

/// The incidents of the scope started before the cell's end.
fn incidents_plan(at: &CellContext, incidents: &[Incident]) -> PolarsResult<LazyFrame> {
    let (period, first_quarter_period) = (at.period, at.first_quarter_period);
    let started: Vec<&Incident> = incidents
        .iter()
        .filter(|i| i.started_at < period.end && at.in_scope(i.team.as_deref()))
        .collect();
    Ok(DataFrame::new_infer_height(vec![
        Column::new(
            "incident_id".into(),
            started
                .iter()
                .map(|i| i.incident_id.as_str())
                .collect::<Vec<_>>(),
        ),
        Column::new(
            "service".into(),
            started
                .iter()
                .map(|i| i.service.as_deref())
                .collect::<Vec<_>>(),
        ),
        Column::new(
            "team".into(),
            started
                .iter()
                .map(|i| i.team.as_deref())
                .collect::<Vec<_>>(),
        ),
        Column::new(
            "started_at".into(),
            started.iter().map(|i| i.started_at).collect::<Vec<_>>(),
        )
        .cast(&DataType::Datetime(
            TimeUnit::Microseconds,
            Some(TimeZone::UTC),
        ))?,
        Column::new(
            "duration_s".into(),
            started
                .iter()
                .map(|i| seconds_from_micros(i.resolved_at - i.started_at))
                .collect::<Vec<_>>(),
        ),
        Column::new(
            "in_period".into(),
            started
                .iter()
                .map(|i| period.contains(i.started_at))
                .collect::<Vec<_>>(),
        ),
        Column::new(
            "first_quarter".into(),
            started
                .iter()
                .map(|i| first_quarter_period.is_some_and(|q| q.contains(i.started_at)))
                .collect::<Vec<_>>(),
        ),
    ])?
    .lazy()
    .with_columns(at.keys()))
}

/// The cell's one row of lengths: days, weeks, months and seconds of the period and of the
/// scope's first quarter.
fn periods_plan(at: &CellContext) -> PolarsResult<LazyFrame> {
    let period = at.period;
    Ok(DataFrame::new_infer_height(vec![
        Column::new("scope".into(), [at.scope.key()]),
        Column::new("period".into(), [at.label]),
        Column::new("days".into(), [at.days()]),
        Column::new("weeks".into(), [at.weeks()]),
        Column::new("months".into(), [calendar_months(period) as f64]),
        Column::new(
            "seconds".into(),
            [seconds_from_micros(period.end - period.start)],
        ),
        Column::new(
            "first_quarter_seconds".into(),
            [at.first_quarter_period
                .map(|q| seconds_from_micros(q.end - q.start))],
        ),
    ])?
    .lazy())
}

/// The cell's one row of experimental MTTR by SPEC section 7: its impacted runs (`runs`) and mean
/// recovery (`mean_s`), the scope's first compared period of the same unit (quarters for the
/// trend, the report period's unit for the report) ending before the cell begins, and the change
/// against it; `change_vs_first` is null, and `not_compared` says why, when either side lacks
/// `min_runs` impacted runs.
fn mttr_plan(at: &CellContext, input: &MaturityInput) -> PolarsResult<LazyFrame> {
    let unit = if at.label == REPORT_PERIOD {
        PeriodUnit::of(at.period)
    } else {
        PeriodUnit::Quarter
    };
    let rows = match unit {
        PeriodUnit::Quarter => input.mttr_by_quarter,
        PeriodUnit::Month => input.mttr_by_month,
    };
    let (group_by, group) = match at.scope {
        Scope::Organization => ("all", "all"),
        Scope::Team(team) => ("team", team.as_str()),
    };
    let (runs, mean_s) =
        span_mttr(input.experiments.iter().filter(|e| {
            at.period.contains(e.start()) && at.in_scope(e.experiment.team.as_deref())
        }));
    let first = first_compared(rows, group_by, group)
        .filter(|row| parse_period(&row.period, 0).is_ok_and(|first| first.end <= at.period.start));
    let min_runs = input.min_runs;
    let unit_name = unit.name();
    let (change_vs_first, not_compared) = match (first, mean_s) {
        _ if runs < min_runs => (
            None,
            Some(format!(
                "unknown: {runs} impacted runs in the period, fewer than [window] min_runs = {min_runs}"
            )),
        ),
        (None, _) => (
            None,
            Some(format!(
                "unknown: no earlier {unit_name} with at least {min_runs} impacted runs to compare with"
            )),
        ),
        (_, None) => (
            None,
            Some(format!(
                "unknown: none of the period's {runs} impacted runs recovered"
            )),
        ),
        (Some(first), Some(mean)) => (
            first
                .mean_s
                .filter(|first_mean| *first_mean > 0.0)
                .map(|first_mean| mean / first_mean - 1.0),
            None,
        ),
    };
    Ok(DataFrame::new_infer_height(vec![
        Column::new("scope".into(), [at.scope.key()]),
        Column::new("period".into(), [at.label]),
        Column::new("runs".into(), [runs as i64]),
        Column::new("mean_s".into(), [mean_s]),
        Column::new(
            "first_period".into(),
            [first.map(|row| row.period.as_str())],
        ),
        Column::new("first_mean_s".into(), [first.and_then(|row| row.mean_s)]),
        Column::new("change_vs_first".into(), [change_vs_first]),
        Column::new("not_compared".into(), [not_compared]),
    ])?
    .lazy())
}

/// The calendar months a period touches (a quarter: 3; 2026-07-15..2026-08-14: 2).
fn calendar_months(period: Period) -> usize {
    let first = month_of(period.start);
    let last = month_of((period.end - 1).max(period.start));
    let index = |month: &str| {
        let (year, month) = month.split_once('-').expect("YYYY-MM");
        year.parse::<i64>().unwrap_or(0) * 12 + month.parse::<i64>().unwrap_or(0)
    };
    (index(&last) - index(&first) + 1).max(1) as usize
}

/// Runs each criterion's query once over every cell and compares each cell's value with the
/// threshold. Returns, for each cell in order, its results in the rubric's order.
fn judge(
    criteria: &[Criterion],
    input: &MaturityInput,
    tables: &CellTables,
    cells: &[Cell],
    level_of: impl Fn(&Criterion) -> u8,
) -> Result<Vec<Vec<CriterionResult>>, QueryError> {
    let registered = [
        ("experiments", &tables.experiments),
        ("experiments_to_date", &tables.experiments_to_date),
        ("weaknesses", &tables.weaknesses),
        ("incidents", &tables.incidents),
        ("periods", &tables.periods),
        ("mttr", &tables.mttr),
    ];
    let index: HashMap<(&str, &str), usize> = cells
        .iter()
        .enumerate()
        .map(|(i, cell)| ((cell.scope.key(), cell.period.as_str()), i))
        .collect();
    let mut results: Vec<Vec<CriterionResult>> = vec![Vec::new(); cells.len()];
    let queries: Vec<(String, &str)> = criteria
        .iter()
        .map(|c| (format!("maturity criterion {}", c.id), c.query.as_str()))
        .collect();
    let frames = run_queries(&queries, &registered)?;
    for ((criterion, frame), (name, _)) in criteria.iter().zip(frames).zip(&queries) {
        let rows = read_results(&frame).map_err(|source| QueryError {
            name: name.clone(),
            source,
        })?;
        let mut by_cell: Vec<Option<(Option<f64>, Vec<String>, usize)>> = vec![None; cells.len()];
        for (scope, period, value, evidence, total) in rows {
            if let Some(i) = index.get(&(scope.as_str(), period.as_str())) {
                by_cell[*i] = Some((value, evidence, total));
            }
        }
        let missing = criterion
            .needs
            .iter()
            .find_map(|needed| needed.missing(input));
        let standing_of = |value: f64| {
            if criterion.comparison.holds(value, criterion.threshold) {
                Standing::Met
            } else {
                Standing::NotMet
            }
        };
        for (cell_results, row) in results.iter_mut().zip(by_cell) {
            let (value, evidence, evidence_total, standing) = match (missing, row) {
                (Some(why), _) => (None, vec![why.to_string()], 1, Standing::Unknown),
                // No row: nothing selected, which counts as 0.
                (None, None) => (None, Vec::new(), 0, standing_of(0.0)),
                // A null value: the query cannot say (not enough runs to compare).
                (None, Some((None, evidence, total))) => (None, evidence, total, Standing::Unknown),
                (None, Some((Some(value), evidence, total))) => {
                    (Some(value), evidence, total, standing_of(value))
                }
            };
            cell_results.push(CriterionResult {
                id: criterion.id.clone(),
                level: level_of(criterion),
                description: criterion.description.clone(),
                description_ja: criterion.description_ja.clone(),
                format: criterion.format.clone(),
                comparison: criterion.comparison,
                threshold: criterion.threshold,
                value,
                standing,
                evidence,
                evidence_total,
            });
        }
    }
    Ok(results)
}

/// One result row: scope, period, value, the first evidence items and how many there were.
type ResultRow = (String, String, Option<f64>, Vec<String>, usize);

/// The first [`EVIDENCE_KEPT`] distinct items in sorted order, and how many distinct items there
/// are. The same as sorting, deduplicating and taking the first ones, without sorting the whole
/// list (a criterion over every experiment to date lists thousands per scope and quarter).
fn first_distinct<'a>(items: impl Iterator<Item = &'a str>) -> (Vec<&'a str>, usize) {
    let mut seen = PlHashSet::new();
    let mut distinct: Vec<&str> = items.filter(|item| seen.insert(*item)).collect();
    let total = distinct.len();
    if total > EVIDENCE_KEPT {
        distinct.select_nth_unstable(EVIDENCE_KEPT);
        distinct.truncate(EVIDENCE_KEPT);
    }
    distinct.sort_unstable();
    (distinct, total)
}

/// Each row's `scope`, `period`, `value` and, in the report period's rows, `evidence` items (a
/// list or one text; nulls and duplicates dropped, sorted, the first [`EVIDENCE_KEPT`] kept).
/// The trend keeps only each quarter's stage, so its rows' evidence (on 100,000 experiments,
/// thousands of ids a scope and quarter) is not read.
fn read_results(frame: &DataFrame) -> PolarsResult<Vec<ResultRow>> {
    let scopes = frame.column("scope")?.cast(&DataType::String)?;
    let periods = frame.column("period")?.cast(&DataType::String)?;
    let values = frame.column("value")?.cast(&DataType::Float64)?;
    let (scopes, periods, values) = (scopes.str()?, periods.str()?, values.f64()?);
    let evidence = frame.column("evidence").ok();
    let lists = evidence.filter(|column| matches!(column.dtype(), DataType::List(_)));
    let texts = match evidence {
        Some(column) if lists.is_none() => Some(column.cast(&DataType::String)?),
        _ => None,
    };
    let mut rows = Vec::with_capacity(frame.height());
    for row in 0..frame.height() {
        let period = periods.get(row).unwrap_or_default();
        let mut items: Vec<String> = Vec::new();
        let mut total = 0;
        if period == REPORT_PERIOD {
            if let Some(list) = lists.map(|column| column.list()).transpose()? {
                if let Some(list) = list.get_as_series(row) {
                    let list = list.cast(&DataType::String)?;
                    // ARRAY_AGG's order depends on polars' parallel grouping: sort, so that the
                    // same ledger always gives the same evidence.
                    let (kept, distinct) = first_distinct(list.str()?.iter().flatten());
                    total = distinct;
                    items.extend(kept.into_iter().map(str::to_string));
                }
            } else if let Some(text) = texts.as_ref().map(|texts| texts.str()).transpose()?
                && let Some(text) = text.get(row)
            {
                items.push(text.to_string());
                total = 1;
            }
        }
        rows.push((
            scopes.get(row).unwrap_or_default().to_string(),
            period.to_string(),
            values.get(row).filter(|v| v.is_finite()),
            items,
            total,
        ));
    }
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn evidence_keeps_the_first_distinct_items_in_order() {
        let items: Vec<String> = (0..1000)
            .rev()
            .map(|i| format!("E{:04}", i % 700))
            .collect();
        let (kept, total) = first_distinct(items.iter().map(String::as_str));
        let mut expected: Vec<&str> = items.iter().map(String::as_str).collect();
        expected.sort_unstable();
        expected.dedup();
        assert_eq!(total, 700);
        assert_eq!(kept, expected[..EVIDENCE_KEPT]);
        let (few, total) = first_distinct(["b", "a", "b"].into_iter());
        assert_eq!((few, total), (vec!["a", "b"], 2));
    }

    #[test]
    fn blast_radius_is_small_up_to_two_targets_or_a_quarter() {
        let check = |modes: &[&str], expected: bool| {
            let modes: Vec<String> = modes.iter().map(|m| m.to_string()).collect();
            assert_eq!(small_blast_radius(&modes, None), expected, "{modes:?}");
        };
        check(&["COUNT(1)"], true);
        check(&["COUNT(2)"], true);
        check(&["COUNT(3)"], false);
        check(&["PERCENT(25)"], true);
        check(&["PERCENT(26)"], false);
        check(&["ALL"], false);
        check(&["COUNT(1)", "ALL"], false);
        check(&[], false);
        check(&["count(2)"], true);
        // FIS's resolved count decides where the modes cannot: ALL over two hosts is small,
        // COUNT(1) of each of three targets is not known to be small by the modes alone either.
        let all = vec!["ALL".to_string()];
        assert!(small_blast_radius(&all, Some(2)));
        assert!(!small_blast_radius(&all, Some(3)));
        assert!(small_blast_radius(&[], Some(0)));
        assert!(small_blast_radius(&["COUNT(1)".to_string()], Some(5)));
    }

    #[test]
    fn calendar_months_of_periods() {
        let check = |text: &str, expected: usize| {
            let period = parse_period(text, 0).unwrap();
            assert_eq!(calendar_months(period), expected, "{text}");
        };
        check("2026Q3", 3);
        check("2026-07", 1);
        check("2026-07-15..2026-08-14", 2);
        check("2026-07-01..2026-07-01", 1);
    }

    #[test]
    fn the_built_in_rubric_has_four_stages_and_three_phases() {
        let rubric = Rubric::built_in();
        let stages: BTreeSet<u8> = rubric.criteria.iter().filter_map(|c| c.stage).collect();
        assert_eq!(stages, BTreeSet::from([1, 2, 3, 4]));
        let phases: BTreeSet<u8> = rubric.scorecards.iter().filter_map(|c| c.phase).collect();
        assert_eq!(phases, BTreeSet::from([1, 2, 3]));
        assert!(Rubric::parse("[[stage]]\nnumber = 1\nname = \"x\"\nsummary = \"y\"\n[[criterion]]\nid = \"a\"\nstage = 2\ndescription = \"d\"\nformat = \"count\"\ncomparison = \">=\"\nthreshold = 1\nquery = \"SELECT 1 AS value\"\n").unwrap_err().contains("stage 2"));
    }
}
