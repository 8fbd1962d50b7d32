//! The ledger's tables: their columns, types and keys. This is the contract with outside
//! engines (Athena, Spark, Trino, DuckDB, polars) that read the Parquet files directly;
//! `docs/ledger.md` documents the same tables for people.

use polars::prelude::{DataType, Field, PlSmallStr, Schema, TimeUnit, TimeZone};

/// The type of one ledger column, as it is stored in Parquet.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ColumnType {
    Text,
    /// UTC timestamp with microsecond precision (Parquet `TIMESTAMP(MICROS, isAdjustedToUTC=true)`).
    Timestamp,
    Float,
    Integer,
    Boolean,
    /// A list of strings (Parquet `LIST<STRING>`, Athena `array<string>`).
    TextList,
}

impl ColumnType {
    pub fn dtype(self) -> DataType {
        match self {
            ColumnType::Text => DataType::String,
            ColumnType::Timestamp => {
                DataType::Datetime(TimeUnit::Microseconds, Some(TimeZone::UTC))
            }
            ColumnType::Float => DataType::Float64,
            ColumnType::Integer => DataType::Int64,
            ColumnType::Boolean => DataType::Boolean,
            ColumnType::TextList => DataType::List(Box::new(DataType::String)),
        }
    }
}

pub struct Column {
    pub name: &'static str,
    pub column_type: ColumnType,
    /// Whether the column may hold nulls (absent values).
    pub nullable: bool,
    /// The ledger format that added the column: 1 for the first. A file written before a column
    /// was added lacks it and reads as nulls there; every file written since holds it.
    pub since: u8,
}

const fn required(name: &'static str, column_type: ColumnType) -> Column {
    Column {
        name,
        column_type,
        nullable: false,
        since: 1,
    }
}

const fn optional(name: &'static str, column_type: ColumnType) -> Column {
    Column {
        name,
        column_type,
        nullable: true,
        since: 1,
    }
}

/// An optional column added by ledger format `since`.
const fn added(name: &'static str, column_type: ColumnType, since: u8) -> Column {
    Column {
        name,
        column_type,
        nullable: true,
        since,
    }
}

use ColumnType::*;

/// Every table of the ledger, in the order a writer must write them so that a reader never
/// sees an experiment without its actions, series and points: children first, experiments last.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Table {
    Points,
    Series,
    Actions,
    AlarmEvents,
    Incidents,
    Outcomes,
    Experiments,
}

impl Table {
    pub const ALL: [Table; 7] = [
        Table::Points,
        Table::Series,
        Table::Actions,
        Table::AlarmEvents,
        Table::Incidents,
        Table::Outcomes,
        Table::Experiments,
    ];

    /// The folder name under the ledger root, and the name SQL queries use for the table.
    pub fn name(self) -> &'static str {
        match self {
            Table::Experiments => "experiments",
            Table::Actions => "actions",
            Table::Series => "series",
            Table::Points => "points",
            Table::AlarmEvents => "alarm_events",
            Table::Incidents => "incidents",
            Table::Outcomes => "outcomes",
        }
    }

    pub fn from_name(name: &str) -> Option<Table> {
        Table::ALL.into_iter().find(|table| table.name() == name)
    }

    /// The columns that identify one row.
    pub fn unique_key(self) -> &'static [&'static str] {
        match self {
            Table::Experiments | Table::Outcomes => &["experiment_id"],
            Table::Actions => &["experiment_id", "action_name"],
            Table::Series => &["experiment_id", "series_id"],
            Table::Points => &["experiment_id", "series_id", "ts"],
            Table::AlarmEvents => &["alarm_name", "ts"],
            Table::Incidents => &["incident_id"],
        }
    }

    /// The columns an upsert replaces by: every stored row whose values here match a new row
    /// is dropped before the new rows are added. For the tables that belong to an experiment this
    /// is the experiment id, so that re-ingesting an experiment replaces all of its actions, series
    /// and points (a point CloudWatch no longer returns does not linger).
    pub fn replace_key(self) -> &'static [&'static str] {
        match self {
            Table::Experiments
            | Table::Outcomes
            | Table::Actions
            | Table::Series
            | Table::Points => &["experiment_id"],
            Table::AlarmEvents => &["alarm_name", "ts"],
            Table::Incidents => &["incident_id"],
        }
    }

    pub fn columns(self) -> &'static [Column] {
        match self {
            Table::Experiments => EXPERIMENTS,
            Table::Actions => ACTIONS,
            Table::Series => SERIES,
            Table::Points => POINTS,
            Table::AlarmEvents => ALARM_EVENTS,
            Table::Incidents => INCIDENTS,
            Table::Outcomes => OUTCOMES,
        }
    }

    /// The Athena (or Trino, Spark SQL) table over this table's Parquet files under `location`
    /// (`s3://BUCKET/PREFIX`, the ledger's root), with partition projection on `month` so that new
    /// months need no `MSCK REPAIR TABLE`. The README prints these for every table.
    pub fn athena_ddl(self, location: &str) -> String {
        let location = location.trim_end_matches('/');
        let columns: Vec<String> = self
            .columns()
            .iter()
            .map(|column| {
                let sql_type = match column.column_type {
                    Text => "string",
                    Timestamp => "timestamp",
                    Float => "double",
                    Integer => "bigint",
                    Boolean => "boolean",
                    TextList => "array<string>",
                };
                format!("  {} {sql_type}", column.name)
            })
            .collect();
        let name = self.name();
        format!(
            "CREATE EXTERNAL TABLE IF NOT EXISTS checkup.{name} (\n{}\n)\nPARTITIONED BY (month string)\nSTORED AS PARQUET\nLOCATION '{location}/{name}/'\nTBLPROPERTIES (\n  'projection.enabled' = 'true',\n  'projection.month.type' = 'date',\n  'projection.month.format' = 'yyyy-MM',\n  'projection.month.range' = '2015-01,NOW',\n  'projection.month.interval' = '1',\n  'projection.month.interval.unit' = 'MONTHS',\n  'storage.location.template' = '{location}/{name}/month=${{month}}/'\n);",
            columns.join(",\n")
        )
    }

    pub fn schema(self) -> Schema {
        self.columns()
            .iter()
            .map(|column| {
                Field::new(
                    PlSmallStr::from_static(column.name),
                    column.column_type.dtype(),
                )
            })
            .collect()
    }
}

impl std::fmt::Display for Table {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

const EXPERIMENTS: &[Column] = &[
    required("experiment_id", Text),
    required("source", Text),
    optional("account_id", Text),
    optional("region", Text),
    optional("template_id", Text),
    optional("template_name", Text),
    optional("description", Text),
    required("status", Text),
    optional("status_reason", Text),
    required("created_at", Timestamp),
    optional("started_at", Timestamp),
    optional("ended_at", Timestamp),
    optional("environment", Text),
    optional("team", Text),
    optional("service", Text),
    optional("trigger", Text),
    required("tags", Text),
    required("stop_condition_alarms", TextList),
    required("stop_condition_triggered", Boolean),
    required("blast_radius", TextList),
    optional("hypothesis", Text),
    optional("recover_within_s", Float),
    required("ingested_at", Timestamp),
    // FIS's experimentOptions.actionsMode: `skip-all` is a dry run (SPEC section 4, revision 2).
    added("actions_mode", Text, 2),
    // How many resources the targets resolved to (ListExperimentResolvedTargets): the blast
    // radius by count, where selection modes say only `ALL` or a percentage.
    added("resolved_targets", Integer, 3),
];

const ACTIONS: &[Column] = &[
    required("experiment_id", Text),
    required("action_name", Text),
    required("action_id", Text),
    optional("system", Text),
    required("status", Text),
    optional("started_at", Timestamp),
    optional("ended_at", Timestamp),
    required("targets", TextList),
];

const SERIES: &[Column] = &[
    required("experiment_id", Text),
    required("series_id", Text),
    required("namespace", Text),
    required("metric", Text),
    required("stat", Text),
    required("dimensions", Text),
    required("period_s", Integer),
    optional("unit", Text),
    required("origin", Text),
    required("steady", Text),
    optional("limit", Text),
    required("kind", Text),
    optional("budget", Float),
    optional("outage", Float),
];

const POINTS: &[Column] = &[
    required("experiment_id", Text),
    required("series_id", Text),
    required("ts", Timestamp),
    required("value", Float),
];

const ALARM_EVENTS: &[Column] = &[
    required("alarm_name", Text),
    required("ts", Timestamp),
    required("from_state", Text),
    required("to_state", Text),
    optional("reason", Text),
];

const INCIDENTS: &[Column] = &[
    required("incident_id", Text),
    optional("service", Text),
    optional("team", Text),
    optional("severity", Text),
    required("started_at", Timestamp),
    required("resolved_at", Timestamp),
    optional("customer_impact", Text),
];

const OUTCOMES: &[Column] = &[
    required("experiment_id", Text),
    required("verdict", Text),
    optional("time_to_impact_s", Float),
    optional("time_to_recover_s", Float),
    required("recovered", Boolean),
    required("peaks", Text),
    optional("degraded_s", Float),
    optional("error_total", Float),
    required("reasons", TextList),
    required("analyzed_at", Timestamp),
];
