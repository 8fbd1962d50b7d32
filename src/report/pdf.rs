//! PDF reports, rendered in-process with typst from `report_templates/pdf/report.typ`. The model
//! goes in as one JSON string (`sys.inputs.model`) that the template decodes, so text from AWS,
//! journals or CSV is data and never typst markup.

use typst::foundations::{Dict, IntoValue};
use typst_as_lib::TypstEngine;
use typst_as_lib::typst_kit_options::TypstKitFontOptions;
use typst_layout::PagedDocument;

use super::charts::{Chart, Charts};
use super::experiment::ExperimentDetail;
use super::{RenderError, ReportKind, ReportModel};

const TEMPLATE_NAME: &str = "report_templates/pdf/report.typ";
const TEMPLATE: &str = include_str!("../../report_templates/pdf/report.typ");

pub struct PdfRenderer {
    engine: TypstEngine<typst_as_lib::TypstTemplateMainFile>,
    /// Where the template came from, for error messages.
    name: String,
}

impl PdfRenderer {
    /// Uses typst's embedded fonts and the system's fonts (for Japanese, a CJK font).
    pub fn built_in() -> PdfRenderer {
        PdfRenderer::with_template(TEMPLATE.to_string(), TEMPLATE_NAME.to_string())
    }

    /// The built-in template, or `<dir>/pdf/report.typ` when that file exists (`--templates DIR`).
    pub fn with_overrides(dir: Option<&std::path::Path>) -> Result<PdfRenderer, RenderError> {
        let path = dir.map(|dir| dir.join("pdf").join("report.typ"));
        match path.filter(|path| path.is_file()) {
            Some(path) => {
                let text =
                    std::fs::read_to_string(&path).map_err(|source| RenderError::TemplateFile {
                        path: path.clone(),
                        source,
                    })?;
                Ok(PdfRenderer::with_template(text, path.display().to_string()))
            }
            None => Ok(PdfRenderer::built_in()),
        }
    }

    fn with_template(text: String, name: String) -> PdfRenderer {
        let engine = TypstEngine::builder()
            .main_file(text)
            .search_fonts_with(
                TypstKitFontOptions::default()
                    .include_system_fonts(true)
                    .include_embedded_fonts(true),
            )
            .build();
        PdfRenderer { engine, name }
    }

    /// The charts go in as a second JSON string (`sys.inputs.charts`); the template places each
    /// SVG as an image, never as markup.
    pub fn render(
        &self,
        kind: ReportKind,
        model: &ReportModel,
        charts: &Charts,
    ) -> Result<Vec<u8>, RenderError> {
        let charts_json = serde_json::to_string(charts).map_err(RenderError::Model)?;
        self.compile(kind.name(), model, charts_json, None)
    }

    /// The lab report of one experiment; its detail goes in as `sys.inputs.detail`.
    pub fn render_experiment(
        &self,
        model: &ReportModel,
        detail: &ExperimentDetail,
        curve: Option<&Chart>,
    ) -> Result<Vec<u8>, RenderError> {
        let charts_json = serde_json::to_string(&serde_json::json!({ "curve": curve }))
            .map_err(RenderError::Model)?;
        let detail_json = serde_json::to_string(detail).map_err(RenderError::Model)?;
        self.compile("experiment", model, charts_json, Some(detail_json))
    }

    fn compile(
        &self,
        kind: &str,
        model: &ReportModel,
        charts_json: String,
        detail_json: Option<String>,
    ) -> Result<Vec<u8>, RenderError> {
        let model_json = serde_json::to_string(model).map_err(RenderError::Model)?;
        let mut inputs = Dict::new();
        inputs.insert("model".into(), model_json.into_value());
        inputs.insert("charts".into(), charts_json.into_value());
        inputs.insert("kind".into(), kind.into_value());
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
