//! Steady-state conditions and limits as written in `checkup.toml` (`>= 2`, `< 0.2`, `baseline`),
//! and the band of values they allow.

/// A steady-state condition or a limit, as written in `checkup.toml` or the series table.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Condition {
    Less(f64),
    LessOrEqual(f64),
    Greater(f64),
    GreaterOrEqual(f64),
    Equal(f64),
    /// The band is learned from the points before the fault: median ± 3 scaled MADs.
    Baseline,
}

impl Condition {
    pub fn parse(text: &str) -> Result<Condition, String> {
        let text = text.trim();
        if text == "baseline" {
            return Ok(Condition::Baseline);
        }
        let (operator, number) = ["<=", ">=", "==", "<", ">"]
            .iter()
            .find_map(|operator| text.strip_prefix(operator).map(|rest| (*operator, rest)))
            .ok_or_else(|| {
                format!(
                    "condition {} must be <, <=, >, >=, == followed by a number, or baseline",
                    crate::vocab::format::quoted(text)
                )
            })?;
        let value: f64 = number
            .trim()
            .parse()
            .ok()
            .filter(|value: &f64| value.is_finite())
            .ok_or_else(|| {
                format!(
                    "condition {q} must end with a number",
                    q = crate::vocab::format::quoted(text)
                )
            })?;
        Ok(match operator {
            "<" => Condition::Less(value),
            "<=" => Condition::LessOrEqual(value),
            ">" => Condition::Greater(value),
            ">=" => Condition::GreaterOrEqual(value),
            _ => Condition::Equal(value),
        })
    }

    /// The band of a fixed condition; `None` for `baseline`, whose band depends on the data.
    pub fn band(self) -> Option<Band> {
        let inf = f64::INFINITY;
        Some(match self {
            Condition::Less(v) => Band {
                low: -inf,
                high: v,
                low_inclusive: false,
                high_inclusive: false,
            },
            Condition::LessOrEqual(v) => Band {
                low: -inf,
                high: v,
                low_inclusive: false,
                high_inclusive: true,
            },
            Condition::Greater(v) => Band {
                low: v,
                high: inf,
                low_inclusive: false,
                high_inclusive: false,
            },
            Condition::GreaterOrEqual(v) => Band {
                low: v,
                high: inf,
                low_inclusive: true,
                high_inclusive: false,
            },
            Condition::Equal(v) => Band {
                low: v,
                high: v,
                low_inclusive: true,
                high_inclusive: true,
            },
            Condition::Baseline => return None,
        })
    }
}

/// The interval a value must stay in.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Band {
    pub low: f64,
    pub high: f64,
    pub low_inclusive: bool,
    pub high_inclusive: bool,
}

impl Band {
    pub fn contains(&self, value: f64) -> bool {
        let above_low = if self.low_inclusive {
            value >= self.low
        } else {
            value > self.low
        };
        let below_high = if self.high_inclusive {
            value <= self.high
        } else {
            value < self.high
        };
        above_low && below_high
    }

    /// How far a value lies outside the band (0 inside).
    pub fn distance_outside(&self, value: f64) -> f64 {
        if self.contains(value) {
            0.0
        } else if value <= self.low {
            self.low - value
        } else {
            value - self.high
        }
    }
}
