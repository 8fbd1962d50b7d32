//! Reports: the view model ([`model`]), HTML through tera ([`html`]) and PDF through typst
//! ([`pdf`]). This stage sees view structs only, never DataFrames, and alone depends on tera and
//! the PDF engine.

pub mod charts;
pub mod digest;
pub mod experiment;
pub mod html;
pub mod i18n;
pub mod junit;
pub mod model;
pub mod pdf;
pub mod site;

pub use model::{ReportModel, build_model};

/// The report kinds of SPEC section 11.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum ReportKind {
    Quarterly,
    Executive,
    Maturity,
}

impl ReportKind {
    pub const ALL: [ReportKind; 3] = [
        ReportKind::Quarterly,
        ReportKind::Executive,
        ReportKind::Maturity,
    ];

    pub fn name(self) -> &'static str {
        match self {
            ReportKind::Quarterly => "quarterly",
            ReportKind::Executive => "executive",
            ReportKind::Maturity => "maturity",
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    #[error("template {template} failed to render")]
    Html {
        template: String,
        #[source]
        source: tera::Error,
    },
    #[error("PDF template {template} failed to compile: {message}")]
    Pdf { template: String, message: String },
    #[error(
        "Japanese PDF reports need a font with Japanese glyphs and none was found in {}; install one (Debian/Ubuntu: `apt-get install fonts-ipafont-gothic` or `fonts-noto-cjk`) or pass --font-dir DIR",
        searched.iter().map(|d| d.display().to_string()).collect::<Vec<_>>().join(", ")
    )]
    NoJapaneseFont { searched: Vec<std::path::PathBuf> },
    #[error("cannot read template {path}")]
    TemplateFile {
        path: std::path::PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("the report model cannot be serialized")]
    Model(#[source] serde_json::Error),
}
