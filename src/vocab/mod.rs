//! The shared vocabulary of checkup: the words every stage uses for the same things (an
//! experiment's status and verdict, where it came from, what a series measures), typed once here.
//! It depends on nothing else in the crate; `config`, `ledger`, `ingest`, `analyze` and `report`
//! all speak it. Only the ledger's Parquet conversion and the report's text turn these values into
//! words, through `name()` (the ledger's and `report.json`'s spelling) and `from_name()`.

pub mod catalog;
pub mod condition;
pub mod format;
pub mod metric_math;
pub mod practice;
pub mod scope;
pub mod stats;
pub mod time;

pub use condition::{Band, Condition};

/// Whether a statistic counts (`Sum`, `SampleCount`): CloudWatch publishes no datapoint for a
/// zero count, so a missing point means zero, not a gap (SPEC section 6).
pub fn is_count_statistic(stat: &str) -> bool {
    matches!(stat, "Sum" | "SampleCount")
}
pub use scope::Scope;

/// An enum whose values are written as fixed words in the ledger, `report.json` and messages.
macro_rules! named_enum {
    (
        $(#[$meta:meta])*
        pub enum $name:ident { $( $(#[$variant_meta:meta])* $variant:ident => $text:literal ),+ $(,)? }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum $name { $( $(#[$variant_meta])* $variant ),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The value's word in the ledger, `report.json` and messages.
            pub fn name(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }

            pub fn from_name(text: &str) -> Option<$name> {
                match text { $($text => Some($name::$variant),)+ _ => None }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.name())
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let text = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
                $name::from_name(&text).ok_or_else(|| {
                    let names: Vec<&str> = $name::ALL.iter().map(|value| value.name()).collect();
                    serde::de::Error::custom(format!("`{text}` is not one of {}", names.join(", ")))
                })
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(self.name())
            }
        }
    };
}

named_enum! {
    /// The verdict of one experiment (SPEC section 6), after the seed's scenarios A, B and C.
    pub enum Verdict {
        Green => "green",
        Yellow => "yellow",
        Red => "red",
        Inconclusive => "inconclusive",
        InProgress => "in_progress",
    }
}

impl Verdict {
    /// Whether the verdict counts in MTTR and weakness statistics.
    pub fn is_conclusive(self) -> bool {
        matches!(self, Verdict::Green | Verdict::Yellow | Verdict::Red)
    }
}

named_enum! {
    /// The state of an experiment run: FIS's states, and the two Chaos Toolkit adds for runs cut
    /// short.
    pub enum Status {
        Pending => "pending",
        Initiating => "initiating",
        Running => "running",
        Completed => "completed",
        Stopping => "stopping",
        Stopped => "stopped",
        Failed => "failed",
        Cancelled => "cancelled",
        /// Chaos Toolkit: the run was interrupted (a signal, a control) before it finished.
        Interrupted => "interrupted",
        /// Chaos Toolkit: the run was aborted before it finished.
        Aborted => "aborted",
    }
}

impl Status {
    /// Whether the run is still under way: judged once it has ended, and read again by the next
    /// ingest.
    pub fn is_in_progress(self) -> bool {
        matches!(
            self,
            Status::Pending | Status::Initiating | Status::Running | Status::Stopping
        )
    }

    /// Whether the run ended after its actions could start (completed, stopped or failed): such a
    /// run is observed in CloudWatch; one still running is read again by the next ingest.
    pub fn is_finished(self) -> bool {
        matches!(self, Status::Completed | Status::Stopped | Status::Failed)
    }
}

named_enum! {
    /// Where an experiment was read from.
    pub enum Source {
        Fis => "fis",
        ChaosToolkit => "chaostoolkit",
        Demo => "demo",
    }
}

named_enum! {
    /// What a series measures: a level judged against a steady-state band, or a count of errors
    /// summed over the run.
    pub enum SeriesKind {
        Level => "level",
        Errors => "errors",
        /// An input of a metric-math series of the same hypothesis: read, never judged or stored.
        Input => "input",
    }
}

named_enum! {
    /// The seed's four systems of the body a fault exercises, in their order: I musculoskeletal
    /// (compute), II circulatory (data), III nervous (network), IV immune (detection).
    pub enum System {
        I => "I",
        II => "II",
        III => "III",
        IV => "IV",
    }
}

named_enum! {
    /// A CloudWatch alarm's state, as DescribeAlarmHistory writes it.
    pub enum AlarmState {
        Ok => "OK",
        Alarm => "ALARM",
        InsufficientData => "INSUFFICIENT_DATA",
    }
}

named_enum! {
    /// Where a series' steady state came from (SPEC section 5), most specific first.
    pub enum Origin {
        Hypothesis => "hypothesis",
        StopConditionAlarm => "stop-condition alarm",
        Dashboard => "dashboard",
    }
}
