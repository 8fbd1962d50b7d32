//! PDF reports, rendered in-process with typst from `report_templates/pdf/report.typ`. The model
//! goes in as one JSON string (`sys.inputs.model`) that the template decodes, so text from AWS,
//! journals or CSV is data and never typst markup.

use typst::foundations::{Dict, IntoValue};
use typst_as_lib::TypstEngine;
use typst_as_lib::typst_kit_options::TypstKitFontOptions;
use typst_layout::PagedDocument;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::charts::{Chart, Charts};
use super::experiment::ExperimentDetail;
use super::i18n::Lang;
use super::model::ExperimentRow;
use super::{RenderError, ReportKind, ReportModel};
use crate::vocab::Verdict;

const TEMPLATE_NAME: &str = "report_templates/pdf/report.typ";
const TEMPLATE: &str = include_str!("../../report_templates/pdf/report.typ");

/// The most runs needing attention that the quarterly PDF lists one row each. A row per such run
/// made the quarterly of a 100,000-experiment ledger 874 pages long (13,800 runs needing
/// attention in one quarter) and took 7.5 s of its 15 s of typesetting. Paper lists the most
/// severe and counts the others by verdict; quarterly.html, experiments.csv and report.json list
/// every run.
pub const MOST_RUNS_ON_PAPER: usize = 1_000;

/// What [`PdfRenderer::prepare`] builds for the template.
pub struct PdfData {
    model: String,
    charts: String,
}

pub struct PdfRenderer {
    engine: TypstEngine<typst_as_lib::TypstTemplateMainFile>,
    /// Where the template came from, for error messages.
    name: String,
    lang: Lang,
    /// The report text of the language, as JSON (`sys.inputs.tx`).
    messages: String,
    /// How many runs needing attention the quarterly lists ([`MOST_RUNS_ON_PAPER`]).
    runs_on_paper: usize,
}

impl PdfRenderer {
    /// Uses typst's embedded fonts and the system's fonts, in English.
    pub fn built_in() -> PdfRenderer {
        PdfRenderer::with_template(
            TEMPLATE.to_string(),
            TEMPLATE_NAME.to_string(),
            Lang::En,
            Vec::new(),
        )
    }

    /// The built-in template, or `<dir>/pdf/report.typ` when that file exists (`--templates DIR`),
    /// in `lang`, with the fonts of `font_dirs` besides the system's. Japanese needs a font with
    /// Japanese glyphs; without one this says what to install instead of printing empty boxes.
    pub fn with_overrides(
        dir: Option<&Path>,
        lang: Lang,
        font_dirs: &[PathBuf],
    ) -> Result<PdfRenderer, RenderError> {
        // typst-kit reloads a system font from disk at every use, so the one font Japanese needs
        // is read once here and handed to typst; English uses typst's embedded fonts only.
        let mut extra_fonts: Vec<Vec<u8>> = Vec::new();
        if lang == Lang::Ja {
            let (_, path) =
                find_japanese_font(font_dirs).ok_or_else(|| RenderError::NoJapaneseFont {
                    searched: font_search_dirs(font_dirs),
                })?;
            extra_fonts.push(
                std::fs::read(&path).map_err(|source| RenderError::TemplateFile {
                    path: path.clone(),
                    source,
                })?,
            );
        }
        let path = dir.map(|dir| dir.join("pdf").join("report.typ"));
        let (text, name) = match path.filter(|path| path.is_file()) {
            Some(path) => {
                let text =
                    std::fs::read_to_string(&path).map_err(|source| RenderError::TemplateFile {
                        path: path.clone(),
                        source,
                    })?;
                (text, path.display().to_string())
            }
            None => (TEMPLATE.to_string(), TEMPLATE_NAME.to_string()),
        };
        Ok(PdfRenderer::with_template(text, name, lang, extra_fonts))
    }

    fn with_template(text: String, name: String, lang: Lang, fonts: Vec<Vec<u8>>) -> PdfRenderer {
        let engine = TypstEngine::builder()
            .main_file(text)
            .fonts(fonts)
            .search_fonts_with(
                TypstKitFontOptions::default()
                    .include_system_fonts(false)
                    .include_embedded_fonts(true),
            )
            .build();
        let messages = serde_json::to_string(lang.messages()).expect("messages serialize");
        PdfRenderer {
            engine,
            name,
            lang,
            messages,
            runs_on_paper: MOST_RUNS_ON_PAPER,
        }
    }

    /// The same renderer listing at most `runs` runs needing attention in the quarterly.
    pub fn listing_at_most(self, runs: usize) -> PdfRenderer {
        PdfRenderer {
            runs_on_paper: runs,
            ..self
        }
    }

    /// The model and the charts as the JSON strings the template decodes, built once for every
    /// kind of one report run. The template places each chart's SVG as an image, never as markup.
    /// The model is the one report.json holds except that `experiments` gives way to the runs
    /// paper lists (see [`paper_model`]).
    pub fn prepare(&self, model: &ReportModel, charts: &Charts) -> Result<PdfData, RenderError> {
        Ok(PdfData {
            model: paper_model(model, self.runs_on_paper).map_err(RenderError::Model)?,
            charts: serde_json::to_string(charts).map_err(RenderError::Model)?,
        })
    }

    pub fn render(&self, kind: ReportKind, data: &PdfData) -> Result<Vec<u8>, RenderError> {
        self.compile(kind.name(), &data.model, data.charts.clone(), None)
    }

    /// The lab report of one experiment; its detail goes in as `sys.inputs.detail`.
    pub fn render_experiment(
        &self,
        data: &PdfData,
        detail: &ExperimentDetail,
        curve: Option<&Chart>,
    ) -> Result<Vec<u8>, RenderError> {
        let charts_json = serde_json::to_string(&serde_json::json!({ "curve": curve }))
            .map_err(RenderError::Model)?;
        let detail_json = serde_json::to_string(detail).map_err(RenderError::Model)?;
        self.compile("experiment", &data.model, charts_json, Some(detail_json))
    }

    fn compile(
        &self,
        kind: &str,
        model_json: &str,
        charts_json: String,
        detail_json: Option<String>,
    ) -> Result<Vec<u8>, RenderError> {
        let mut inputs = Dict::new();
        inputs.insert("model".into(), model_json.into_value());
        inputs.insert("charts".into(), charts_json.into_value());
        inputs.insert("kind".into(), kind.into_value());
        inputs.insert("lang".into(), self.lang.code().into_value());
        inputs.insert("tx".into(), self.messages.clone().into_value());
        if let Some(detail_json) = detail_json {
            inputs.insert("detail".into(), detail_json.into_value());
        }
        let error = |message: String| RenderError::Pdf {
            template: self.name.clone(),
            message,
        };
        let document: PagedDocument = self
            .engine
            .compile_with_input(inputs)
            .output
            .map_err(|problem| error(problem.to_string()))?;
        typst_pdf::pdf(&document, &typst_pdf::PdfOptions::default()).map_err(|diagnostics| {
            error(
                diagnostics
                    .iter()
                    .map(|d| d.message.to_string())
                    .collect::<Vec<_>>()
                    .join("; "),
            )
        })
    }
}

/// The report model as the template reads it: `experiments` (every run of the period) is replaced
/// by `runs_on_paper`, the runs needing attention that paper lists one row each (chosen by
/// [`runs_on_paper`]), and `runs_left_out` counts by verdict those it leaves to quarterly.html and
/// experiments.csv. Typst then never decodes a row per green run, once for every kind.
fn paper_model(model: &ReportModel, limit: usize) -> Result<String, serde_json::Error> {
    let RunsOnPaper { listed, left_out } = runs_on_paper(&model.experiments, limit);
    let mut value = serde_json::to_value(model)?;
    let object = value
        .as_object_mut()
        .expect("the report model serializes as an object");
    let mut every_run = match object.remove("experiments") {
        Some(serde_json::Value::Array(rows)) => rows,
        _ => Vec::new(),
    };
    let on_paper: Vec<serde_json::Value> = listed
        .iter()
        .map(|index| every_run[*index].take())
        .collect();
    object.insert("runs_on_paper".into(), on_paper.into());
    object.insert("runs_left_out".into(), serde_json::to_value(&left_out)?);
    serde_json::to_string(&value)
}

struct RunsOnPaper {
    /// Indexes into the report's experiments, in the order paper lists them.
    listed: Vec<usize>,
    /// The runs needing attention not listed, by verdict name (every one but green, zeros too).
    left_out: BTreeMap<&'static str, usize>,
}

/// The runs needing attention (every verdict but green) that paper lists, most severe first:
/// red, yellow, inconclusive, in progress; within a verdict the runs that never recovered (the
/// longest seen first), then the slowest to recover, then the table's order (by start). At most
/// `limit`; the others are counted.
fn runs_on_paper(rows: &[ExperimentRow], limit: usize) -> RunsOnPaper {
    const ATTENTION: [Verdict; 4] = [
        Verdict::Red,
        Verdict::Yellow,
        Verdict::Inconclusive,
        Verdict::InProgress,
    ];
    let rank = |row: &ExperimentRow| {
        ATTENTION
            .iter()
            .position(|verdict| verdict.name() == row.verdict)
    };
    let seen_for = |row: &ExperimentRow| {
        row.time_to_recover_s
            .or(row.censored_at_s)
            .unwrap_or(f64::NEG_INFINITY)
    };
    let mut chosen: Vec<usize> = (0..rows.len())
        .filter(|i| rank(&rows[*i]).is_some())
        .collect();
    // Stable: runs alike keep the table's order.
    chosen.sort_by(|a, b| {
        let (a, b) = (&rows[*a], &rows[*b]);
        rank(a)
            .cmp(&rank(b))
            .then(a.recovered.cmp(&b.recovered))
            .then(seen_for(b).total_cmp(&seen_for(a)))
    });
    let mut left_out: BTreeMap<&'static str, usize> = ATTENTION
        .iter()
        .map(|verdict| (verdict.name(), 0))
        .collect();
    for index in chosen.iter().skip(limit) {
        if let Some(count) = left_out.get_mut(rows[*index].verdict.as_str()) {
            *count += 1;
        }
    }
    chosen.truncate(limit);
    RunsOnPaper {
        listed: chosen,
        left_out,
    }
}

/// The folders searched for fonts: the user's, then the usual system and user font folders.
fn font_search_dirs(font_dirs: &[PathBuf]) -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> = font_dirs.to_vec();
    dirs.push(PathBuf::from("/usr/share/fonts"));
    dirs.push(PathBuf::from("/usr/local/share/fonts"));
    if let Some(home) = std::env::var_os("HOME").map(PathBuf::from) {
        dirs.push(home.join(".local/share/fonts"));
        dirs.push(home.join(".fonts"));
    }
    dirs
}

/// The family and file of the first font with Japanese glyphs (kana and kanji) in `font_dirs`
/// or the system's font folders, if any.
pub fn find_japanese_font(font_dirs: &[PathBuf]) -> Option<(String, PathBuf)> {
    find_japanese_font_in(&font_search_dirs(font_dirs))
}

/// The same search, in exactly these folders. A sans-serif (Gothic) face is preferred, as the
/// reports' Latin text beside it reads best with one.
fn find_japanese_font_in(dirs: &[PathBuf]) -> Option<(String, PathBuf)> {
    fn visit(dir: &Path, depth: usize, found: &mut Vec<(String, PathBuf)>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        let mut paths: Vec<PathBuf> = entries.flatten().map(|e| e.path()).collect();
        paths.sort();
        for path in paths {
            if path.is_dir() {
                if depth < 6 {
                    visit(&path, depth + 1, found);
                }
                continue;
            }
            let is_font = path.extension().and_then(|e| e.to_str()).is_some_and(|e| {
                matches!(
                    e.to_ascii_lowercase().as_str(),
                    "ttf" | "otf" | "ttc" | "otc"
                )
            });
            let Some(data) = is_font.then(|| std::fs::read(&path).ok()).flatten() else {
                continue;
            };
            if let Some(info) = typst::text::FontInfo::iter(&data).find(|info| {
                info.coverage.contains('あ' as u32) && info.coverage.contains('定' as u32)
            }) {
                found.push((info.family, path));
            }
        }
    }
    let mut found = Vec::new();
    for dir in dirs {
        visit(dir, 0, &mut found);
        if !found.is_empty() {
            break;
        }
    }
    let sans = |family: &str| family.contains("Gothic") || family.contains("Sans");
    let preferred = found
        .iter()
        .position(|(family, _)| sans(family))
        .unwrap_or(0);
    (!found.is_empty()).then(|| found.swap_remove(preferred))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vocab::Status;

    fn run(
        id: &str,
        verdict: Verdict,
        recover: Option<f64>,
        censored: Option<f64>,
    ) -> ExperimentRow {
        ExperimentRow {
            experiment_id: id.to_string(),
            template_id: None,
            template_name: None,
            team: None,
            environment: None,
            trigger: None,
            started_at: None,
            ended_at: None,
            status: Status::Completed,
            verdict: verdict.name().to_string(),
            time_to_impact_s: None,
            time_to_recover_s: recover,
            censored_at_s: censored,
            recover_within_s: Some(120.0),
            recovered: recover.is_some(),
            systems: Vec::new(),
            reasons: Vec::new(),
            reason_codes: Vec::new(),
            dry_run: false,
            period_used_s: None,
        }
    }

    #[test]
    fn paper_lists_the_most_severe_runs_needing_attention_and_counts_the_others() {
        let rows = vec![
            run("green", Verdict::Green, Some(30.0), None),
            run("running", Verdict::InProgress, None, None),
            run("inconclusive", Verdict::Inconclusive, None, None),
            run("yellow slow", Verdict::Yellow, Some(400.0), None),
            run("red quick", Verdict::Red, Some(200.0), None),
            run("yellow quick", Verdict::Yellow, Some(150.0), None),
            run("red never, seen 30m", Verdict::Red, None, Some(1800.0)),
            run("red slow", Verdict::Red, Some(900.0), None),
            run("red never, seen 40m", Verdict::Red, None, Some(2400.0)),
            run("red quick too", Verdict::Red, Some(200.0), None),
        ];
        let ids = |listed: &[usize]| -> Vec<&str> {
            listed
                .iter()
                .map(|i| rows[*i].experiment_id.as_str())
                .collect()
        };
        let every = runs_on_paper(&rows, usize::MAX);
        assert_eq!(
            ids(&every.listed),
            [
                "red never, seen 40m",
                "red never, seen 30m",
                "red slow",
                "red quick",
                "red quick too",
                "yellow slow",
                "yellow quick",
                "inconclusive",
                "running",
            ]
        );
        assert!(every.left_out.values().all(|count| *count == 0));
        assert_eq!(
            every.left_out.len(),
            4,
            "every verdict but green is counted"
        );

        let four = runs_on_paper(&rows, 4);
        assert_eq!(four.listed, every.listed[..4]);
        let left_out: Vec<(&str, usize)> = four.left_out.into_iter().collect();
        assert_eq!(
            left_out,
            [
                ("in_progress", 1),
                ("inconclusive", 1),
                ("red", 1),
                ("yellow", 2)
            ]
        );
    }

    #[test]
    fn a_japanese_font_is_found_only_where_one_is() {
        let empty = tempfile::tempdir().unwrap();
        assert_eq!(find_japanese_font_in(&[empty.path().to_path_buf()]), None);
        // tests/run.sh installs Debian's fonts-ipafont-gothic.
        let ipa = PathBuf::from("/usr/share/fonts/opentype/ipafont-gothic");
        assert!(ipa.is_dir(), "run the tests with tests/run.sh");
        let (family, _) = find_japanese_font_in(&[ipa]).expect("IPA Gothic has Japanese glyphs");
        assert!(family.contains("IPA"), "{family}");
        let message = RenderError::NoJapaneseFont {
            searched: vec![empty.path().to_path_buf()],
        }
        .to_string();
        assert!(message.contains("fonts-ipafont-gothic") && message.contains("--font-dir"));
        assert!(message.contains(&empty.path().display().to_string()));
    }
}
