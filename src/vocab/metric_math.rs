//! Metric math for hypotheses: a series defined as an arithmetic expression over other series of
//! the same hypothesis (`100 * errors_5xx / requests`), computed by checkup from the points
//! CloudWatch returns for its inputs rather than by CloudWatch (SPEC section 5; stand-ins and
//! replays then see plain MetricStat queries, and the ledger keeps the computed points).
//!
//! Grammar: numbers, series ids (`[A-Za-z_][A-Za-z0-9_]*`), `+ - * /`, unary minus, parentheses,
//! and CloudWatch's `FILL(id, number)`. A value exists at a timestamp when every input has a point
//! there, except inputs under `FILL`, which count as the number when they have none (CloudWatch
//! publishes no datapoint for a zero count); division by zero gives no value, as in CloudWatch.

use std::collections::{BTreeMap, BTreeSet};

use crate::vocab::time::Micros;

/// An expression as written and as parsed.
#[derive(Debug, Clone, PartialEq)]
pub struct MetricExpression {
    pub text: String,
    pub expr: Expr,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    Number(f64),
    Series(String),
    /// `FILL(id, value)`: the series, or `value` where it has no point.
    Fill(String, f64),
    Negate(Box<Expr>),
    Binary(Box<Expr>, char, Box<Expr>),
}

impl Expr {
    /// The series ids the expression reads.
    pub fn series_ids(&self) -> BTreeSet<&str> {
        let mut ids = BTreeSet::new();
        self.collect_ids(&mut ids);
        ids
    }

    fn collect_ids<'a>(&'a self, ids: &mut BTreeSet<&'a str>) {
        match self {
            Expr::Number(_) => {}
            Expr::Series(id) | Expr::Fill(id, _) => {
                ids.insert(id);
            }
            Expr::Negate(inner) => inner.collect_ids(ids),
            Expr::Binary(left, _, right) => {
                left.collect_ids(ids);
                right.collect_ids(ids);
            }
        }
    }

    /// The value given each series' value; `None` when one is missing or a division is by zero.
    pub fn value(&self, series: &dyn Fn(&str) -> Option<f64>) -> Option<f64> {
        let value = match self {
            Expr::Number(n) => *n,
            Expr::Series(id) => series(id)?,
            Expr::Fill(id, fill) => series(id).unwrap_or(*fill),
            Expr::Negate(inner) => -inner.value(series)?,
            Expr::Binary(left, op, right) => {
                let (a, b) = (left.value(series)?, right.value(series)?);
                match op {
                    '+' => a + b,
                    '-' => a - b,
                    '*' => a * b,
                    _ if b == 0.0 => return None,
                    _ => a / b,
                }
            }
        };
        value.is_finite().then_some(value)
    }
}

/// Parses an expression; the error says what was expected where (1-based character position).
pub fn parse(text: &str) -> Result<Expr, String> {
    let tokens = tokenize(text)?;
    let mut parser = Parser {
        tokens: &tokens,
        at: 0,
    };
    let expr = parser.sum()?;
    match parser.tokens.get(parser.at) {
        None => Ok(expr),
        Some((position, token)) => Err(format!(
            "unexpected `{}` at character {}",
            token.text(),
            position + 1
        )),
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Token {
    Number(f64),
    Name(String),
    Symbol(char),
}

impl Token {
    fn text(&self) -> String {
        match self {
            Token::Number(n) => n.to_string(),
            Token::Name(name) => name.clone(),
            Token::Symbol(c) => c.to_string(),
        }
    }
}

fn tokenize(text: &str) -> Result<Vec<(usize, Token)>, String> {
    let chars: Vec<char> = text.chars().collect();
    let mut tokens = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c.is_whitespace() {
            i += 1;
        } else if c.is_ascii_digit() || c == '.' {
            let start = i;
            while i < chars.len() && (chars[i].is_ascii_digit() || chars[i] == '.') {
                i += 1;
            }
            let number: String = chars[start..i].iter().collect();
            let value = number
                .parse::<f64>()
                .map_err(|_| format!("`{number}` at character {} is not a number", start + 1))?;
            tokens.push((start, Token::Number(value)));
        } else if c.is_ascii_alphabetic() || c == '_' {
            let start = i;
            while i < chars.len() && (chars[i].is_ascii_alphanumeric() || chars[i] == '_') {
                i += 1;
            }
            tokens.push((start, Token::Name(chars[start..i].iter().collect())));
        } else if "+-*/(),".contains(c) {
            tokens.push((i, Token::Symbol(c)));
            i += 1;
        } else {
            return Err(format!(
                "`{c}` at character {} is not part of an expression (numbers, series ids, + - * / and parentheses)",
                i + 1
            ));
        }
    }
    Ok(tokens)
}

struct Parser<'a> {
    tokens: &'a [(usize, Token)],
    at: usize,
}

impl Parser<'_> {
    fn symbol(&mut self, wanted: &[char]) -> Option<char> {
        match self.tokens.get(self.at) {
            Some((_, Token::Symbol(c))) if wanted.contains(c) => {
                self.at += 1;
                Some(*c)
            }
            _ => None,
        }
    }

    fn sum(&mut self) -> Result<Expr, String> {
        let mut left = self.product()?;
        while let Some(op) = self.symbol(&['+', '-']) {
            left = Expr::Binary(Box::new(left), op, Box::new(self.product()?));
        }
        Ok(left)
    }

    fn product(&mut self) -> Result<Expr, String> {
        let mut left = self.unary()?;
        while let Some(op) = self.symbol(&['*', '/']) {
            left = Expr::Binary(Box::new(left), op, Box::new(self.unary()?));
        }
        Ok(left)
    }

    fn unary(&mut self) -> Result<Expr, String> {
        if self.symbol(&['-']).is_some() {
            return Ok(Expr::Negate(Box::new(self.unary()?)));
        }
        self.atom()
    }

    fn atom(&mut self) -> Result<Expr, String> {
        let Some((position, token)) = self.tokens.get(self.at) else {
            return Err("the expression ends where a number, series id or `(` was expected".into());
        };
        self.at += 1;
        match token {
            Token::Number(n) => Ok(Expr::Number(*n)),
            Token::Name(name) if self.symbol(&['(']).is_some() => self.fill(name, *position),
            Token::Name(name) => Ok(Expr::Series(name.clone())),
            Token::Symbol('(') => {
                let inner = self.sum()?;
                if self.symbol(&[')']).is_none() {
                    return Err(format!(
                        "the `(` at character {} is not closed",
                        position + 1
                    ));
                }
                Ok(inner)
            }
            Token::Symbol(c) => Err(format!("unexpected `{c}` at character {}", position + 1)),
        }
    }
}

impl Parser<'_> {
    /// The rest of `FILL(id, number)` after its `(`.
    fn fill(&mut self, function: &str, position: usize) -> Result<Expr, String> {
        let usage = || {
            format!(
                "`{function}(` at character {}: the only function is FILL(series id, number)",
                position + 1
            )
        };
        if !function.eq_ignore_ascii_case("FILL") {
            return Err(usage());
        }
        let id = match self.tokens.get(self.at) {
            Some((_, Token::Name(id))) => id.clone(),
            _ => return Err(usage()),
        };
        self.at += 1;
        if self.symbol(&[',']).is_none() {
            return Err(usage());
        }
        let negative = self.symbol(&['-']).is_some();
        let value = match self.tokens.get(self.at) {
            Some((_, Token::Number(n))) => *n,
            _ => return Err(usage()),
        };
        self.at += 1;
        if self.symbol(&[')']).is_none() {
            return Err(usage());
        }
        Ok(Expr::Fill(id, if negative { -value } else { value }))
    }
}

/// The expression's points: at every timestamp where each input has a point, sorted by time.
pub fn evaluate(expr: &Expr, inputs: &BTreeMap<&str, &[(Micros, f64)]>) -> Vec<(Micros, f64)> {
    let timestamps: BTreeSet<Micros> = inputs
        .values()
        .flat_map(|points| points.iter().map(|p| p.0))
        .collect();
    let at = |id: &str, ts: Micros| -> Option<f64> {
        let points = inputs.get(id)?;
        let index = points.binary_search_by_key(&ts, |p| p.0).ok()?;
        Some(points[index].1)
    };
    timestamps
        .into_iter()
        .filter_map(|ts| expr.value(&|id| at(id, ts)).map(|v| (ts, v)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn precedence_parentheses_and_unary_minus() {
        let expr = parse("100 * errors / (requests + 0)").unwrap();
        assert_eq!(expr.series_ids(), BTreeSet::from(["errors", "requests"]));
        let value = |id: &str| match id {
            "errors" => Some(5.0),
            "requests" => Some(200.0),
            _ => None,
        };
        assert_eq!(expr.value(&value), Some(2.5));
        assert_eq!(
            parse("-a - -2 * 3").unwrap().value(&|_| Some(1.0)),
            Some(5.0)
        );
        assert_eq!(parse("1 + 2 * 3").unwrap().value(&|_| None), Some(7.0));
    }

    #[test]
    fn errors_say_what_and_where() {
        assert_eq!(
            parse("a + ").unwrap_err(),
            "the expression ends where a number, series id or `(` was expected"
        );
        assert_eq!(
            parse("(a + b").unwrap_err(),
            "the `(` at character 1 is not closed"
        );
        assert_eq!(parse("a b").unwrap_err(), "unexpected `b` at character 3");
        assert!(parse("a % 2").unwrap_err().contains("`%` at character 3"));
        assert_eq!(
            parse("SUM(a)").unwrap_err(),
            "`SUM(` at character 1: the only function is FILL(series id, number)"
        );
    }

    #[test]
    fn values_exist_where_every_input_has_a_point() {
        let expr = parse("100 * errors / requests").unwrap();
        let errors = [(60, 1.0), (120, 0.0), (180, 2.0)];
        let requests = [(60, 50.0), (120, 0.0), (240, 10.0)];
        let inputs = BTreeMap::from([("errors", &errors[..]), ("requests", &requests[..])]);
        // 120: division by zero; 180 and 240: one input is missing.
        assert_eq!(evaluate(&expr, &inputs), vec![(60, 2.0)]);
        // A zero count has no datapoint: FILL counts it.
        let filled = parse("100 * FILL(errors, 0) / requests").unwrap();
        assert_eq!(evaluate(&filled, &inputs), vec![(60, 2.0), (240, 0.0)]);
    }
}
