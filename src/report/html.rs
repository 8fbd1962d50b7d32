//! HTML reports: one self-contained file per kind (inline CSS, no network), rendered with tera
//! from `report_templates/html/`. Autoescaping is on, so text from AWS, journals or CSV stays text.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::Path;

use serde::Serialize;
use serde_json::Value;

use super::charts::{Chart, Charts};
use super::experiment::ExperimentDetail;
use super::i18n::{Lang, Messages, verdict_names};
use super::site::SiteIndex;
use super::{RenderError, ReportKind, ReportModel};
use crate::vocab::format::{format_duration, group_thousands};

/// The built-in templates, compiled in so that the binary works from any folder.
const TEMPLATES: &[(&str, &str)] = &[
    (
        "macros.html",
        include_str!("../../report_templates/html/macros.html"),
    ),
    (
        "base.html",
        include_str!("../../report_templates/html/base.html"),
    ),
    (
        "quarterly.html",
        include_str!("../../report_templates/html/quarterly.html"),
    ),
    (
        "executive.html",
        include_str!("../../report_templates/html/executive.html"),
    ),
    (
        "maturity.html",
        include_str!("../../report_templates/html/maturity.html"),
    ),
    (
        "experiment.html",
        include_str!("../../report_templates/html/experiment.html"),
    ),
    (
        "site_index.html",
        include_str!("../../report_templates/html/site_index.html"),
    ),
    // The experiments table's sorting and filtering, inlined by quarterly.html.
    (
        "table.js",
        include_str!("../../report_templates/html/table.js"),
    ),
];

pub struct HtmlRenderer {
    tera: tera::Tera,
    lang: Lang,
    messages: &'static Messages,
}

impl HtmlRenderer {
    pub fn built_in() -> Result<HtmlRenderer, RenderError> {
        HtmlRenderer::with_overrides(None, Lang::En)
    }

    /// The built-in templates, each replaced by `<dir>/html/<name>` when that file exists
    /// (`--templates DIR`).
    pub fn with_overrides(dir: Option<&Path>, lang: Lang) -> Result<HtmlRenderer, RenderError> {
        let mut tera = tera::Tera::default();
        tera.autoescape_on(vec![".html"]);
        let mut sources: Vec<(String, String, String)> = Vec::new();
        for (name, built_in) in TEMPLATES {
            let path = dir.map(|dir| dir.join("html").join(name));
            match path.filter(|path| path.is_file()) {
                Some(path) => {
                    let text = std::fs::read_to_string(&path).map_err(|source| {
                        RenderError::TemplateFile {
                            path: path.clone(),
                            source,
                        }
                    })?;
                    sources.push((name.to_string(), text, path.display().to_string()));
                }
                None => sources.push((
                    name.to_string(),
                    built_in.to_string(),
                    format!("report_templates/html/{name}"),
                )),
            }
        }
        // One at a time, so that a template that does not parse is named.
        for (name, text, origin) in &sources {
            tera.add_raw_template(name, text)
                .map_err(|source| RenderError::Html {
                    template: origin.clone(),
                    source,
                })?;
        }
        tera.build_inheritance_chains()
            .map_err(|source| RenderError::Html {
                template: "report_templates/html".to_string(),
                source,
            })?;
        tera.register_filter("duration", duration_filter);
        tera.register_filter("grouped", grouped_filter);
        tera.register_filter("anchor", anchor_filter);
        Ok(HtmlRenderer {
            tera,
            lang,
            messages: lang.messages(),
        })
    }

    /// The model, the charts and the report text as templates see them, built once for every
    /// kind of one report run (turning the model into template values is the costly part).
    /// The chart SVGs come from plotters (their text escaped there) and are placed as markup.
    pub fn prepare(&self, model: &ReportModel, charts: &Charts) -> Result<HtmlData, RenderError> {
        let error = |source| RenderError::Html {
            template: "report_templates/html".to_string(),
            source,
        };
        let mut context = tera::Context::from_serialize(model).map_err(error)?;
        context.insert("tx", self.messages);
        context.insert("lang", self.lang.code());
        context.insert("verdict_names", &verdict_names(self.messages));
        context.insert("charts", charts);
        context.insert("verdict_ranks", &verdict_ranks());
        context.insert(
            "experiment_filters",
            &experiment_filters(model, self.messages),
        );
        context.insert("lab_reports", &BTreeMap::<String, String>::new());
        context.insert("site_index", &Option::<String>::None);
        Ok(HtmlData { context })
    }

    pub fn render(&self, kind: ReportKind, data: &mut HtmlData) -> Result<String, RenderError> {
        let template = format!("{}.html", kind.name());
        data.context.insert("kind", kind.name());
        self.tera
            .render(&template, &data.context)
            .map_err(|source| RenderError::Html { template, source })
    }

    /// The lab report of one experiment; the model supplies the organisation and the period.
    pub fn render_experiment(
        &self,
        data: &mut HtmlData,
        detail: &ExperimentDetail,
        curve: Option<&Chart>,
    ) -> Result<String, RenderError> {
        let template = "experiment.html".to_string();
        data.context.insert("kind", "experiment");
        data.context.insert("detail", detail);
        data.context.insert("curve", &curve);
        self.tera
            .render(&template, &data.context)
            .map_err(|source| RenderError::Html { template, source })
    }
}

impl HtmlRenderer {
    /// The index of a report archive (`site_index.html`).
    pub fn render_site_index(&self, index: &SiteIndex) -> Result<String, RenderError> {
        let template = "site_index.html".to_string();
        let error = |source| RenderError::Html {
            template: template.clone(),
            source,
        };
        let mut context = tera::Context::from_serialize(index).map_err(error)?;
        context.insert("tx", self.messages);
        context.insert("lang", self.lang.code());
        context.insert("kind", "index");
        context.insert("site_index", &Option::<String>::None);
        self.tera.render(&template, &context).map_err(error)
    }
}

/// What [`HtmlRenderer::prepare`] builds for the templates.
pub struct HtmlData {
    context: tera::Context,
}

impl HtmlData {
    /// The lab report file of each experiment that has one, by experiment id: the quarterly's
    /// experiments table links to them.
    pub fn link_lab_reports(&mut self, files: &BTreeMap<String, String>) {
        self.context.insert("lab_reports", files);
    }

    /// The archive index every report of a site links back to (`../index.html`).
    pub fn link_site_index(&mut self, href: &str) {
        self.context.insert("site_index", href);
    }
}

/// The order of verdicts when the experiments table is sorted by verdict: the worst first.
fn verdict_ranks() -> BTreeMap<&'static str, u8> {
    VERDICT_ORDER
        .iter()
        .enumerate()
        .map(|(rank, verdict)| (*verdict, rank as u8))
        .collect()
}

const VERDICT_ORDER: [&str; 5] = ["red", "yellow", "inconclusive", "in_progress", "green"];

/// One filter of the experiments table: the row attribute it reads and the values on offer.
#[derive(Serialize)]
struct ExperimentFilter {
    /// The row's `data-<name>` attribute.
    name: &'static str,
    /// Whether a row may hold several values (separated by `|`).
    several: bool,
    /// The message key of its label.
    label: &'static str,
    values: Vec<FilterValue>,
}

#[derive(Serialize)]
struct FilterValue {
    value: String,
    text: String,
}

/// The values present among the period's experiments, for the table's filters.
fn experiment_filters(model: &ReportModel, messages: &Messages) -> Vec<ExperimentFilter> {
    let names = verdict_names(messages);
    let present: BTreeSet<&str> = model
        .experiments
        .iter()
        .map(|e| e.verdict.as_str())
        .collect();
    let verdicts = VERDICT_ORDER
        .iter()
        .filter(|verdict| present.contains(*verdict))
        .map(|verdict| FilterValue {
            value: verdict.to_string(),
            text: names.get(*verdict).cloned().unwrap_or_default(),
        })
        .collect();
    let distinct = |values: BTreeSet<&str>| -> Vec<FilterValue> {
        values
            .into_iter()
            .map(|value| FilterValue {
                value: value.to_string(),
                text: value.to_string(),
            })
            .collect()
    };
    let experiments = &model.experiments;
    vec![
        ExperimentFilter {
            name: "verdict",
            several: false,
            label: "verdict",
            values: verdicts,
        },
        ExperimentFilter {
            name: "team",
            several: false,
            label: "team",
            values: distinct(
                experiments
                    .iter()
                    .filter_map(|e| e.team.as_deref())
                    .collect(),
            ),
        },
        ExperimentFilter {
            name: "system",
            several: true,
            label: "system",
            values: distinct(
                experiments
                    .iter()
                    .flat_map(|e| e.systems.iter().map(String::as_str))
                    .collect(),
            ),
        },
        ExperimentFilter {
            name: "environment",
            several: false,
            label: "environment",
            values: distinct(
                experiments
                    .iter()
                    .filter_map(|e| e.environment.as_deref())
                    .collect(),
            ),
        },
    ]
}

/// `{{ seconds | duration }}`: `3m 20s`; `—` for an absent value.
fn duration_filter(value: &Value, _: &HashMap<String, Value>) -> tera::Result<Value> {
    Ok(Value::String(match value.as_f64() {
        Some(seconds) => format_duration(seconds),
        None => "—".to_string(),
    }))
}

/// `{{ "annual_rate[task-failure]" | anchor }}`: `annual-rate-task-failure`, for element ids.
fn anchor_filter(value: &Value, _: &HashMap<String, Value>) -> tera::Result<Value> {
    let text = value.as_str().unwrap_or_default().to_lowercase();
    let mut anchor = String::new();
    for c in text.chars() {
        if c.is_ascii_alphanumeric() {
            anchor.push(c);
        } else if !anchor.ends_with('-') {
            anchor.push('-');
        }
    }
    Ok(Value::String(anchor.trim_matches('-').to_string()))
}

/// `{{ 204000 | grouped }}`: `204,000`.
fn grouped_filter(value: &Value, _: &HashMap<String, Value>) -> tera::Result<Value> {
    Ok(Value::String(match value.as_f64() {
        Some(number) => group_thousands(number),
        None => "—".to_string(),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_built_in_template_parses() {
        let renderer = HtmlRenderer::built_in().expect("the built-in templates parse");
        for (name, _) in TEMPLATES {
            assert!(
                renderer.tera.get_template_names().any(|n| n == *name),
                "{name}"
            );
        }
    }
}
