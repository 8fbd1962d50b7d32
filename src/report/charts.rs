//! Charts as SVG (plotters), drawn from the report model alone: inline in HTML, embedded as images
//! in the PDF. Each chart comes with a text alternative that states the numbers it shows. Text
//! drawn into a chart (team names, quarters) is escaped by plotters' SVG backend.

use plotters::prelude::*;
use serde::Serialize;

use super::i18n::Messages;
use super::model::ReportModel;
use crate::analyze::curves::{CurveSeries, RecoveryCurve};
use crate::analyze::review::VerdictCounts;
use crate::vocab::time::Micros;
use crate::vocab::{Scope, System};

/// One chart: its title, the SVG, and a sentence for readers who cannot see it.
#[derive(Debug, Clone, Serialize)]
pub struct Chart {
    pub id: String,
    pub title: String,
    pub svg: String,
    pub alt: String,
}

/// Every chart of the reports, by id (the templates pick the ones they show).
#[derive(Debug, Clone, Serialize)]
pub struct Charts {
    pub mttr_trend: Option<Chart>,
    pub verdicts_by_month: Option<Chart>,
    pub stage_trend: Option<Chart>,
    pub coverage: Option<Chart>,
    pub cost: Option<Chart>,
    /// ROI at each input's low and high (`roi.sensitivity`), widest first.
    pub tornado: Option<Chart>,
    /// Per service, the share of impacted runs recovered within their objective (`rto[]`).
    pub rto: Option<Chart>,
    /// One recovery-curve chart per charted red or yellow experiment of the period, newest first
    /// (`analyze::curves::charted_experiments`).
    pub curves: Vec<Chart>,
    /// Red and yellow experiments of the period not charted (beyond the most severe).
    pub curves_left_out: usize,
}

const WIDTH: u32 = 720;
const HEIGHT: u32 = 300;
const GREEN: RGBColor = RGBColor(0x1a, 0x7f, 0x37);
const YELLOW: RGBColor = RGBColor(0xb5, 0x89, 0x00);
const RED: RGBColor = RGBColor(0xcf, 0x22, 0x2e);
const GREY: RGBColor = RGBColor(0x6e, 0x77, 0x81);
const BLUE: RGBColor = RGBColor(0x09, 0x69, 0xda);

/// The seed's Phase 2 target: MTTR 30% below the first period.
const MTTR_TARGET: f64 = -0.30;

/// Every chart of the reports, its words in the language of `tx`.
pub fn render_charts(
    model: &ReportModel,
    curves: &[RecoveryCurve],
    curves_left_out: usize,
    tx: &Messages,
) -> Charts {
    Charts {
        mttr_trend: mttr_trend(model, tx),
        verdicts_by_month: verdicts_by_month(model, tx),
        stage_trend: stage_trend(model, tx),
        coverage: coverage(model, tx),
        cost: cost(model, tx),
        tornado: tornado(model, tx),
        rto: rto(model, tx),
        curves: curves
            .iter()
            .filter_map(|curve| recovery_curve_chart(curve, tx))
            .collect(),
        curves_left_out,
    }
}

/// The label of a whole-number position on a category axis; nothing between categories.
fn label_at(labels: &[String], x: f64) -> String {
    let index = x.round();
    if (x - index).abs() < 1e-6 && index >= 0.0 {
        labels.get(index as usize).cloned().unwrap_or_default()
    } else {
        String::new()
    }
}

/// Whether a scope key (`Scope::key`) is the organisation's.
fn is_organization(key: &str) -> bool {
    Scope::from_key(key).is_organization()
}

/// One line per scope for a text alternative: `scope: label value, label value`.
fn scope_lines<T: std::fmt::Display>(
    model: &ReportModel,
    scopes: &[&str],
    columns: &[String],
    value: impl Fn(&str, &str) -> T,
) -> Vec<String> {
    scopes
        .iter()
        .map(|scope| {
            let cells: Vec<String> = columns
                .iter()
                .map(|column| format!("{column} {}", value(scope, column)))
                .collect();
            format!("{}: {}", model.scope_label(scope), cells.join(", "))
        })
        .collect()
}

/// The text of `key` in the messages (the key itself when missing, so a gap shows).
fn word(tx: &Messages, key: &str) -> String {
    tx.get(key).cloned().unwrap_or_else(|| key.to_string())
}

const ORANGE: RGBColor = RGBColor(0xbc, 0x4c, 0x00);
const PANEL_HEIGHT: u32 = 150;

/// One experiment's level series, a panel each: points, the steady band shaded, `t0` and the end
/// of the fault, the impact and the recovery, and the allowed recovery time.
pub fn recovery_curve_chart(curve: &RecoveryCurve, tx: &Messages) -> Option<Chart> {
    if curve.series.is_empty() {
        return None;
    }
    let height = PANEL_HEIGHT * curve.series.len() as u32 + 10;
    let svg = svg(WIDTH, height, |area| {
        let panels = area.split_evenly((curve.series.len(), 1));
        for (panel, series) in panels.iter().zip(&curve.series) {
            curve_panel(panel, curve, series, tx)?;
        }
        Ok(())
    })?;
    let minutes = |ts: Micros| (ts - curve.t0) as f64 / 60e6;
    let describe = |series: &CurveSeries| {
        let at = |ts: Option<Micros>| {
            ts.map(|ts| format!("{:.0}", minutes(ts)))
                .unwrap_or_else(|| "—".to_string())
        };
        format!(
            "{} ({} {}): {} {}, {} {} ({})",
            series.series_id,
            word(tx, "steady_state"),
            series.steady,
            word(tx, "left_it"),
            at(series.impact_at),
            word(tx, "back"),
            at(series.recovered_at),
            word(tx, "minutes_from_t0")
        )
    };
    let lines: Vec<String> = curve.series.iter().map(describe).collect();
    Some(Chart {
        id: format!("curve-{}", curve.experiment_id),
        title: format!(
            "{} · {} · {}",
            curve.experiment_id,
            curve.title,
            word(tx, &format!("{}_lower", curve.verdict.name()))
        ),
        svg,
        alt: format!(
            "{} ({}). {} {:.0}; {} {}. {}.",
            curve.experiment_id,
            word(tx, &format!("{}_lower", curve.verdict.name())),
            word(tx, "end_from_t0"),
            minutes(curve.t1),
            word(tx, "allowed"),
            curve
                .recover_within_s
                .map(|rw| format!("{:.0}", rw / 60.0))
                .unwrap_or_else(|| "—".to_string()),
            lines.join("; ")
        ),
    })
}

/// The values axis of one series' panel: its points and band, padded by a tenth.
fn value_range(series: &CurveSeries) -> (f64, f64) {
    let finite = |v: f64| v.is_finite().then_some(v);
    let values: Vec<f64> = series
        .points
        .iter()
        .map(|(_, v)| *v)
        .chain(finite(series.band.low))
        .chain(finite(series.band.high))
        .filter(|v| v.is_finite())
        .collect();
    let low = values.iter().copied().fold(f64::INFINITY, f64::min);
    let high = values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    if low.is_finite() && high > low {
        let pad = (high - low) * 0.1;
        (low - pad, high + pad)
    } else if low.is_finite() {
        (low - 1.0, low + 1.0)
    } else {
        (0.0, 1.0)
    }
}

/// One series of a recovery curve: its points over the window, the steady band, and marks at
/// t0, t1, the allowed recovery, the impact and the recovery.
fn curve_panel(
    panel: &DrawingArea<SVGBackend, plotters::coord::Shift>,
    curve: &RecoveryCurve,
    series: &CurveSeries,
    tx: &Messages,
) -> Result<(), String> {
    let minutes = |ts: Micros| (ts - curve.t0) as f64 / 60e6;
    let (x_start, x_end) = (minutes(curve.window.0), minutes(curve.window.1));
    let (low, high) = value_range(series);
    let mut chart = ChartBuilder::on(panel)
        .margin(8)
        .caption(
            format!(
                "{} ({} {}), {}",
                series.series_id,
                word(tx, "steady_state"),
                series.steady,
                word(tx, "minutes_from_t0")
            ),
            ("sans-serif", 13),
        )
        .x_label_area_size(22)
        .y_label_area_size(52)
        .build_cartesian_2d(x_start..x_end, low..high)
        .map_err(text_error)?;
    chart
        .configure_mesh()
        .light_line_style(TRANSPARENT)
        .draw()
        .map_err(text_error)?;
    let band_low = series.band.low.max(low);
    let band_high = series.band.high.min(high);
    if band_high > band_low {
        chart
            .draw_series([Rectangle::new(
                [(x_start, band_low), (x_end, band_high)],
                GREEN.mix(0.12).filled(),
            )])
            .map_err(text_error)?;
    }
    let vertical = |x: f64, color: RGBColor, width: u32| {
        PathElement::new(
            vec![(x, low), (x, high)],
            ShapeStyle::from(&color).stroke_width(width),
        )
    };
    let mut marks = vec![
        vertical(0.0, BLACK, 1),
        vertical(minutes(curve.t1), GREY, 1),
    ];
    if let Some(rw) = curve.recover_within_s {
        marks.push(vertical(rw / 60.0, ORANGE, 1));
    }
    if let Some(impact) = series.impact_at {
        marks.push(vertical(minutes(impact), RED, 2));
    }
    if let Some(recovered) = series.recovered_at {
        marks.push(vertical(minutes(recovered), GREEN, 2));
    }
    chart.draw_series(marks).map_err(text_error)?;
    chart
        .draw_series(LineSeries::new(
            series.points.iter().map(|(ts, v)| (minutes(*ts), *v)),
            ShapeStyle::from(&BLUE).stroke_width(2),
        ))
        .map_err(text_error)?;
    chart
        .draw_series(
            series
                .points
                .iter()
                .map(|(ts, v)| Circle::new((minutes(*ts), *v), 2, BLUE.filled())),
        )
        .map_err(text_error)?;
    Ok(())
}

/// Draws into an SVG string; a drawing error (which plotters reports only for impossible
/// geometry) leaves the chart out rather than failing the report.
fn svg(
    width: u32,
    height: u32,
    draw: impl FnOnce(&DrawingArea<SVGBackend, plotters::coord::Shift>) -> Result<(), String>,
) -> Option<String> {
    let mut out = String::new();
    {
        let area = SVGBackend::with_string(&mut out, (width, height)).into_drawing_area();
        area.fill(&WHITE).ok()?;
        draw(&area).ok()?;
        area.present().ok()?;
    }
    Some(out)
}

fn text_error<E: std::fmt::Debug>(error: E) -> String {
    format!("{error:?}")
}

/// Mean experimental MTTR per quarter (organisation), with the −30% target against the first.
fn mttr_trend(model: &ReportModel, tx: &Messages) -> Option<Chart> {
    let rows: Vec<(&str, f64)> = model
        .mttr
        .iter()
        .filter(|row| row.group_by == "all")
        .filter_map(|row| Some((row.period.as_str(), row.mean_s?)))
        .collect();
    if rows.is_empty() {
        return None;
    }
    let first = rows[0].1;
    let target = first * (1.0 + MTTR_TARGET);
    let top = rows.iter().map(|(_, v)| *v).fold(first, f64::max) * 1.15;
    let labels: Vec<String> = rows.iter().map(|(p, _)| p.to_string()).collect();
    let svg = svg(WIDTH, HEIGHT, |area| {
        let mut chart = ChartBuilder::on(area)
            .margin(12)
            .x_label_area_size(28)
            .y_label_area_size(56)
            .build_cartesian_2d(-0.5f64..(rows.len() as f64 - 0.5), 0f64..top)
            .map_err(text_error)?;
        chart
            .configure_mesh()
            .disable_x_mesh()
            .light_line_style(TRANSPARENT)
            .x_labels(rows.len())
            .x_label_formatter(&|x| label_at(labels.as_slice(), *x))
            .y_desc(word(tx, "mttr_axis"))
            .y_label_formatter(&|y| format!("{y:.0}"))
            .draw()
            .map_err(text_error)?;
        chart
            .draw_series(LineSeries::new(
                vec![(-0.5, target), (rows.len() as f64 - 0.5, target)],
                ShapeStyle::from(&RED).stroke_width(1),
            ))
            .map_err(text_error)?
            .label(word(tx, "mttr_target"))
            .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 16, y)], RED));
        chart
            .draw_series(LineSeries::new(
                rows.iter().enumerate().map(|(i, (_, v))| (i as f64, *v)),
                ShapeStyle::from(&BLUE).stroke_width(2),
            ))
            .map_err(text_error)?
            .label(word(tx, "mean_mttr"))
            .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 16, y)], BLUE));
        chart
            .draw_series(
                rows.iter()
                    .enumerate()
                    .map(|(i, (_, v))| Circle::new((i as f64, *v), 4, BLUE.filled())),
            )
            .map_err(text_error)?;
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::LowerLeft)
            .background_style(WHITE.mix(0.9))
            .border_style(GREY)
            .draw()
            .map_err(text_error)?;
        Ok(())
    })?;
    let values: Vec<String> = rows
        .iter()
        .map(|(p, v)| format!("{p} {:.0} s", v))
        .collect();
    Some(Chart {
        id: "chart-mttr".into(),
        title: word(tx, "mttr_by_quarter"),
        svg,
        alt: format!(
            "{}: {}. {}: {:.0} s.",
            word(tx, "mttr_by_quarter"),
            values.join(", "),
            word(tx, "mttr_target"),
            target
        ),
    })
}

/// Verdicts per month of the period, stacked.
fn verdicts_by_month(model: &ReportModel, tx: &Messages) -> Option<Chart> {
    let columns: Vec<(&str, &VerdictCounts)> = model
        .months
        .iter()
        .map(|m| (m.month.as_str(), &m.verdicts))
        .collect();
    stacked_verdicts(
        &columns,
        "chart-verdicts",
        &word(tx, "verdicts_by_month"),
        tx,
    )
}

/// Verdicts per period of a report archive, stacked (the site index's trend).
pub fn verdicts_by_period(periods: &[(&str, &VerdictCounts)], tx: &Messages) -> Option<Chart> {
    stacked_verdicts(periods, "chart-periods", &word(tx, "site_trend"), tx)
}

/// One stacked bar of verdicts per column (green, yellow, red, inconclusive or running).
fn stacked_verdicts(
    columns: &[(&str, &VerdictCounts)],
    id: &str,
    title: &str,
    tx: &Messages,
) -> Option<Chart> {
    if columns.is_empty() {
        return None;
    }
    let top = columns
        .iter()
        .map(|(_, v)| v.total())
        .max()
        .unwrap_or(1)
        .max(1) as f64
        * 1.15;
    let labels: Vec<String> = columns.iter().map(|(label, _)| label.to_string()).collect();
    let layers: [(String, RGBColor); 4] = [
        (word(tx, "green_lower"), GREEN),
        (word(tx, "yellow_lower"), YELLOW),
        (word(tx, "red_lower"), RED),
        (word(tx, "inconclusive_or_running"), GREY),
    ];
    let svg = svg(WIDTH, HEIGHT, |area| {
        let mut chart = ChartBuilder::on(area)
            .margin(12)
            .x_label_area_size(28)
            .y_label_area_size(48)
            // Room right of the bars for the legend.
            .build_cartesian_2d(-0.5f64..(columns.len() as f64 + 0.9), 0f64..top)
            .map_err(text_error)?;
        chart
            .configure_mesh()
            .disable_x_mesh()
            .light_line_style(TRANSPARENT)
            // More candidate ticks than columns, since the axis runs past the bars for the legend;
            // only whole positions get a label.
            .x_labels(columns.len() * 2 + 4)
            .x_label_formatter(&|x| label_at(labels.as_slice(), *x))
            .y_desc(word(tx, "experiments_axis"))
            .y_label_formatter(&|y| format!("{y:.0}"))
            .draw()
            .map_err(text_error)?;
        for (layer, (name, color)) in layers.iter().enumerate() {
            let bars = columns.iter().enumerate().map(|(i, (_, v))| {
                let counts = [v.green, v.yellow, v.red, v.inconclusive + v.in_progress];
                let below: usize = counts[..layer].iter().sum();
                let x = i as f64;
                Rectangle::new(
                    [
                        (x - 0.35, below as f64),
                        (x + 0.35, (below + counts[layer]) as f64),
                    ],
                    color.filled(),
                )
            });
            let color = *color;
            chart
                .draw_series(bars)
                .map_err(text_error)?
                .label(name.as_str())
                .legend(move |(x, y)| {
                    Rectangle::new([(x, y - 5), (x + 10, y + 5)], color.filled())
                });
        }
        chart
            .configure_series_labels()
            .background_style(WHITE.mix(0.9))
            .border_style(GREY)
            .draw()
            .map_err(text_error)?;
        Ok(())
    })?;
    let values: Vec<String> = columns
        .iter()
        .map(|(label, v)| {
            format!(
                "{}: {} {}, {} {}, {} {}, {} {}",
                label,
                word(tx, "green_lower"),
                v.green,
                word(tx, "yellow_lower"),
                v.yellow,
                word(tx, "red_lower"),
                v.red,
                word(tx, "inconclusive_or_running"),
                v.inconclusive + v.in_progress
            )
        })
        .collect();
    Some(Chart {
        id: id.to_string(),
        title: title.to_string(),
        svg,
        alt: format!("{title}: {}.", values.join("; ")),
    })
}

/// Maturity stage per scope over the quarters.
fn stage_trend(model: &ReportModel, tx: &Messages) -> Option<Chart> {
    let quarters: Vec<String> = model.quarters.iter().map(|q| q.quarter.clone()).collect();
    let scopes: Vec<&str> = model
        .maturity
        .iter()
        .map(|m| m.scope_key.as_str())
        .collect();
    if quarters.is_empty() || scopes.is_empty() {
        return None;
    }
    let stage_at = |scope: &str, quarter: &str| {
        model
            .maturity_trend
            .iter()
            .find(|p| p.scope_key == scope && p.quarter == quarter)
            .map(|p| p.stage)
            .unwrap_or(0)
    };
    let palette = [BLUE, GREEN, YELLOW, RED, GREY, RGBColor(0x82, 0x50, 0xdf)];
    let svg = svg(WIDTH, HEIGHT, |area| {
        let mut chart = ChartBuilder::on(area)
            .margin(12)
            .x_label_area_size(28)
            .y_label_area_size(40)
            .build_cartesian_2d(-0.5f64..(quarters.len() as f64 - 0.5), 0f64..6.2f64)
            .map_err(text_error)?;
        chart
            .configure_mesh()
            .disable_x_mesh()
            .light_line_style(TRANSPARENT)
            .x_labels(quarters.len())
            .y_labels(7)
            .x_label_formatter(&|x| label_at(quarters.as_slice(), *x))
            // Stages run 0–4; the space above holds the legend.
            .y_label_formatter(&|y| {
                if *y <= 4.0 {
                    format!("{y:.0}")
                } else {
                    String::new()
                }
            })
            .y_desc(word(tx, "stage_axis"))
            .draw()
            .map_err(text_error)?;
        for (index, scope) in scopes.iter().enumerate() {
            let color = palette[index % palette.len()];
            // Scopes at the same stage would hide each other: each gets a small vertical offset.
            let offset = (index as f64 - scopes.len() as f64 / 2.0) * 0.05;
            let points: Vec<(f64, f64)> = quarters
                .iter()
                .enumerate()
                .map(|(i, q)| (i as f64, stage_at(scope, q) as f64 + offset))
                .collect();
            let width = if is_organization(scope) { 3 } else { 1 };
            chart
                .draw_series(LineSeries::new(
                    points.clone(),
                    ShapeStyle::from(&color).stroke_width(width),
                ))
                .map_err(text_error)?
                .label(model.scope_label(scope))
                .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 16, y)], color));
            chart
                .draw_series(points.iter().map(|p| Circle::new(*p, 3, color.filled())))
                .map_err(text_error)?;
        }
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::UpperLeft)
            .background_style(WHITE.mix(0.9))
            .border_style(GREY)
            .draw()
            .map_err(text_error)?;
        Ok(())
    })?;
    let lines = scope_lines(model, &scopes, &quarters, |scope, q| stage_at(scope, q));
    Some(Chart {
        id: "chart-stages".into(),
        title: word(tx, "stage_by_quarter"),
        svg,
        alt: format!("{}: {}.", word(tx, "stage_by_quarter"), lines.join("; ")),
    })
}

/// Experiments per team and system in the period, as a heatmap.
fn coverage(model: &ReportModel, tx: &Messages) -> Option<Chart> {
    let systems: Vec<&str> = System::ALL.iter().map(|s| s.name()).collect();
    // The organisation first, then the teams.
    let mut scopes: Vec<&str> = Vec::new();
    let organization = Scope::Organization.key();
    if model.coverage.iter().any(|c| c.scope_key == organization) {
        scopes.push(organization);
    }
    for row in &model.coverage {
        if !scopes.contains(&row.scope_key.as_str()) {
            scopes.push(row.scope_key.as_str());
        }
    }
    if scopes.is_empty() {
        return None;
    }
    let count = |scope: &str, system: &str| {
        model
            .coverage
            .iter()
            .find(|c| c.scope_key == scope && c.system == system)
            .map(|c| c.experiments)
            .unwrap_or(0)
    };
    let stale = |scope: &str, system: &str| {
        let owner = Scope::from_key(scope);
        let label = model.scope_label(scope);
        model.system_freshness.iter().any(|f| {
            f.stale && f.system == system && f.scope == owner.name() && f.scope_label == label
        })
    };
    let most = model
        .coverage
        .iter()
        .filter(|c| !is_organization(&c.scope_key))
        .map(|c| c.experiments)
        .max()
        .unwrap_or(1)
        .max(1);
    let cell_width = 110;
    let cell_height = 30;
    let left = 130;
    let top = 30;
    let width = left + cell_width * systems.len() as i32 + 20;
    let height = top + cell_height * scopes.len() as i32 + 20;
    let svg = svg(width as u32, height as u32, |area| {
        let style = TextStyle::from(("sans-serif", 14).into_font()).color(&BLACK);
        for (column, system) in systems.iter().enumerate() {
            let x = left + cell_width * column as i32 + cell_width / 2 - 12;
            area.draw(&Text::new(
                format!("{} {system}", word(tx, "system")),
                (x - 20, 8),
                style.clone(),
            ))
            .map_err(text_error)?;
        }
        for (row, scope) in scopes.iter().enumerate() {
            let y = top + cell_height * row as i32;
            area.draw(&Text::new(
                model.scope_label(scope),
                (8, y + 8),
                style.clone(),
            ))
            .map_err(text_error)?;
            for (column, system) in systems.iter().enumerate() {
                let x = left + cell_width * column as i32;
                let n = count(scope, system);
                // Teams shade against the busiest team cell; the organisation row is solid blue.
                let share = if is_organization(scope) {
                    if n > 0 { 1.0 } else { 0.0 }
                } else {
                    n as f64 / most as f64
                };
                let fill = if n == 0 {
                    RGBColor(0xf6, 0xf8, 0xfa)
                } else {
                    let mix =
                        |full: u8| (255.0 - (255.0 - full as f64) * (0.2 + 0.8 * share)) as u8;
                    RGBColor(mix(BLUE.0), mix(BLUE.1), mix(BLUE.2))
                };
                area.draw(&Rectangle::new(
                    [(x + 1, y + 1), (x + cell_width - 1, y + cell_height - 1)],
                    fill.filled(),
                ))
                .map_err(text_error)?;
                let ink = if share > 0.55 { WHITE } else { BLACK };
                area.draw(&Text::new(
                    n.to_string(),
                    (x + cell_width / 2 - 8, y + 8),
                    style.clone().color(&ink),
                ))
                .map_err(text_error)?;
                // Evidence older than fresh_for (or none): a count is not today's evidence.
                if stale(scope, system) {
                    area.draw(&Text::new(
                        word(tx, "stale"),
                        (x + cell_width / 2 + 14, y + 9),
                        TextStyle::from(("sans-serif", 11).into_font()).color(&ink),
                    ))
                    .map_err(text_error)?;
                }
            }
        }
        Ok(())
    })?;
    let system_names: Vec<String> = systems.iter().map(|s| s.to_string()).collect();
    let lines = scope_lines(model, &scopes, &system_names, |scope, s| count(scope, s));
    let uncovered: Vec<String> = scopes
        .iter()
        .flat_map(|scope| {
            systems
                .iter()
                .filter(|s| count(scope, s) == 0)
                .map(move |s| format!("{} {s}", Scope::from_key(scope).name()))
        })
        .collect();
    let stale_cells: Vec<String> = scopes
        .iter()
        .flat_map(|scope| {
            systems
                .iter()
                .filter(|s| stale(scope, s))
                .map(move |s| format!("{} {s}", model.scope_label(scope)))
        })
        .collect();
    Some(Chart {
        id: "chart-coverage".into(),
        title: word(tx, "coverage_chart"),
        svg,
        alt: format!(
            "{}: {}. 0: {}. {}: {}.",
            word(tx, "coverage_chart"),
            lines.join("; "),
            if uncovered.is_empty() {
                word(tx, "none")
            } else {
                uncovered.join(", ")
            },
            word(tx, "stale"),
            if stale_cells.is_empty() {
                word(tx, "none")
            } else {
                stale_cells.join(", ")
            }
        ),
    })
}

/// Avoided cost per year (with its P10–P90 range) against the program's cost per year.
fn cost(model: &ReportModel, tx: &Messages) -> Option<Chart> {
    let roi = &model.roi;
    let top = roi.avoided_cost_p90.max(roi.program_cost).max(1.0) * 1.1;
    let svg = svg(WIDTH, 170, |area| {
        let mut chart = ChartBuilder::on(area)
            .margin(12)
            .x_label_area_size(28)
            .y_label_area_size(150)
            .build_cartesian_2d(0f64..top, -0.5f64..1.5f64)
            .map_err(text_error)?;
        chart
            .configure_mesh()
            .disable_y_mesh()
            .light_line_style(TRANSPARENT)
            .y_labels(2)
            .y_label_formatter(&|y| match y.round() as i64 {
                1 => word(tx, "avoided_bar"),
                0 => word(tx, "program_bar"),
                _ => String::new(),
            })
            .x_label_formatter(&|x| crate::vocab::format::group_thousands(*x))
            .x_desc(roi.currency.as_str())
            .draw()
            .map_err(text_error)?;
        chart
            .draw_series([
                Rectangle::new([(0.0, 0.75), (roi.avoided_cost, 1.25)], GREEN.filled()),
                Rectangle::new([(0.0, -0.25), (roi.program_cost, 0.25)], GREY.filled()),
            ])
            .map_err(text_error)?;
        // The P10–P90 range of the avoided cost as a whisker.
        chart
            .draw_series([
                PathElement::new(
                    vec![(roi.avoided_cost_p10, 1.0), (roi.avoided_cost_p90, 1.0)],
                    ShapeStyle::from(&BLACK).stroke_width(2),
                ),
                PathElement::new(
                    vec![(roi.avoided_cost_p10, 0.85), (roi.avoided_cost_p10, 1.15)],
                    ShapeStyle::from(&BLACK).stroke_width(2),
                ),
                PathElement::new(
                    vec![(roi.avoided_cost_p90, 0.85), (roi.avoided_cost_p90, 1.15)],
                    ShapeStyle::from(&BLACK).stroke_width(2),
                ),
            ])
            .map_err(text_error)?;
        Ok(())
    })?;
    let money = |v: f64| {
        format!(
            "{} {}",
            roi.currency,
            crate::vocab::format::group_thousands(v)
        )
    };
    Some(Chart {
        id: "chart-cost".into(),
        title: word(tx, "cost_chart"),
        svg,
        alt: format!(
            "{}: {} (P10 {}, P90 {}); {}: {}.",
            word(tx, "avoided_per_year"),
            money(roi.avoided_cost),
            money(roi.avoided_cost_p10),
            money(roi.avoided_cost_p90),
            word(tx, "program_cost_per_year"),
            money(roi.program_cost)
        ),
    })
}

/// RTO compliance: per service, the share of the period's impacted runs that recovered within
/// their objective; green when all did.
fn rto(model: &ReportModel, tx: &Messages) -> Option<Chart> {
    let rows = &model.rto;
    if rows.is_empty() {
        return None;
    }
    let count = rows.len();
    let labels: Vec<String> = rows.iter().map(|r| r.service.clone()).collect();
    let share = |r: &super::model::RtoView| 100.0 * r.within as f64 / r.impacted.max(1) as f64;
    let svg = svg(WIDTH, 60 + 30 * count as u32, |area| {
        let mut chart = ChartBuilder::on(area)
            .margin(12)
            .x_label_area_size(28)
            .y_label_area_size(150)
            .build_cartesian_2d(0f64..100f64, -0.5f64..count as f64 - 0.5)
            .map_err(text_error)?;
        chart
            .configure_mesh()
            .disable_y_mesh()
            .y_labels(count)
            .y_label_formatter(&|y| label_at(&labels, count as f64 - 1.0 - y))
            .x_desc(word(tx, "rto_axis"))
            .draw()
            .map_err(text_error)?;
        chart
            .draw_series(rows.iter().enumerate().map(|(index, row)| {
                let y = (count - 1 - index) as f64;
                let color = if row.all_within { GREEN } else { YELLOW };
                Rectangle::new([(0.0, y - 0.3), (share(row), y + 0.3)], color.filled())
            }))
            .map_err(text_error)?;
        Ok(())
    })?;
    Some(Chart {
        id: "chart-rto".into(),
        title: word(tx, "rto_chart"),
        svg,
        alt: rows
            .iter()
            .map(|r| format!("{}: {} / {}", r.service, r.within, r.impacted))
            .collect::<Vec<_>>()
            .join("; "),
    })
}

/// The sensitivity of ROI as a tornado: one bar per input from its ROI at the low to its ROI at
/// the high, around the point ROI, widest first (as `roi.sensitivity` is ordered).
fn tornado(model: &ReportModel, tx: &Messages) -> Option<Chart> {
    let roi = &model.roi;
    let point = roi.roi? * 100.0;
    let rows: Vec<(String, f64, f64)> = roi
        .sensitivity
        .iter()
        .filter_map(|row| {
            Some((
                row.label.clone(),
                row.roi_at_low? * 100.0,
                row.roi_at_high? * 100.0,
            ))
        })
        .collect();
    if rows.is_empty() {
        return None;
    }
    let (mut lowest, mut highest) = (point, point);
    for (_, low, high) in &rows {
        lowest = lowest.min(*low).min(*high);
        highest = highest.max(*low).max(*high);
    }
    let pad = ((highest - lowest) * 0.08).max(1.0);
    let count = rows.len();
    let height = 60 + 34 * count as u32;
    let labels: Vec<String> = rows.iter().map(|(label, _, _)| label.clone()).collect();
    let svg = svg(WIDTH, height, |area| {
        let mut chart = ChartBuilder::on(area)
            .margin(12)
            .x_label_area_size(28)
            .y_label_area_size(260)
            .build_cartesian_2d(lowest - pad..highest + pad, -0.5f64..count as f64 - 0.5)
            .map_err(text_error)?;
        chart
            .configure_mesh()
            .disable_y_mesh()
            .y_labels(count)
            .y_label_formatter(&|y| {
                // The widest bar on top.
                let from_top = count as f64 - 1.0 - y;
                label_at(&labels, from_top)
            })
            .x_label_formatter(&|x| format!("{}%", crate::vocab::format::group_thousands(*x)))
            .x_desc(word(tx, "tornado_axis"))
            .draw()
            .map_err(text_error)?;
        chart
            .draw_series(rows.iter().enumerate().flat_map(|(index, (_, low, high))| {
                let y = (count - 1 - index) as f64;
                [
                    Rectangle::new(
                        [(point.min(*low), y - 0.3), (point.max(*low), y + 0.3)],
                        GREY.filled(),
                    ),
                    Rectangle::new(
                        [(point.min(*high), y - 0.3), (point.max(*high), y + 0.3)],
                        BLUE.filled(),
                    ),
                ]
            }))
            .map_err(text_error)?;
        chart
            .draw_series([PathElement::new(
                vec![(point, -0.5), (point, count as f64 - 0.5)],
                ShapeStyle::from(&BLACK).stroke_width(2),
            )])
            .map_err(text_error)?;
        Ok(())
    })?;
    let percent = |v: f64| format!("{}%", crate::vocab::format::group_thousands(v));
    Some(Chart {
        id: "chart-tornado".into(),
        title: word(tx, "sensitivity_title"),
        svg,
        alt: format!(
            "{} {}: {}.",
            word(tx, "roi_percent"),
            percent(point),
            rows.iter()
                .map(|(label, low, high)| format!("{label} {} – {}", percent(*low), percent(*high)))
                .collect::<Vec<_>>()
                .join("; ")
        ),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_in_a_chart_is_escaped() {
        // Team names reach the charts; the SVG goes into HTML as markup, so plotters must escape.
        let out = svg(200, 100, |area| {
            area.draw(&Text::new(
                "<script>alert(1)</script> & {{ x }}",
                (5, 5),
                ("sans-serif", 12).into_font(),
            ))
            .map_err(text_error)
        })
        .unwrap();
        assert!(out.contains("&lt;script&gt;"), "{out}");
        assert!(!out.contains("<script>"), "{out}");
    }
}
