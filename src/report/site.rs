//! The index of a report archive (`report --site DIR`): one row per period with its headline
//! figures and links to its reports, newest first, and the verdicts of every period as a trend.
//! The headlines come from each period's own `headline.json`, written when that period was.

use serde::Serialize;

use super::charts::{Chart, verdicts_by_period};
use super::i18n::Messages;
use crate::analyze::headline::Headline;
use crate::analyze::review::VerdictCounts;

/// One period of the archive as its folder holds it.
#[derive(Debug, Clone, Serialize)]
pub struct IndexPeriod {
    /// The folder under the site (`2026Q3`).
    pub folder: String,
    pub headline: Headline,
    /// The link of the period's name: its quarterly HTML report when there is one.
    pub main: Option<String>,
    /// The reports in the folder, in the order a reader looks for them.
    pub files: Vec<IndexFile>,
}

#[derive(Debug, Clone, Serialize)]
pub struct IndexFile {
    pub name: String,
    /// Relative to the index (`2026Q3/quarterly.html`).
    pub href: String,
}

/// What `site_index.html` renders.
#[derive(Debug, Clone, Serialize)]
pub struct SiteIndex {
    pub organization: String,
    pub generated_at: String,
    /// Newest period first.
    pub periods: Vec<IndexPeriod>,
    pub trend: Option<Chart>,
}

/// The index of `periods` (any order): newest first, the trend oldest to newest, its words in
/// the language of `tx`. `HtmlRenderer::render_site_index` renders it.
pub fn site_index(
    organization: &str,
    generated_at: &str,
    mut periods: Vec<IndexPeriod>,
    tx: &Messages,
) -> SiteIndex {
    periods.sort_by(|a, b| {
        (&a.headline.start, &a.headline.end, &a.folder).cmp(&(
            &b.headline.start,
            &b.headline.end,
            &b.folder,
        ))
    });
    let columns: Vec<(&str, &VerdictCounts)> = periods
        .iter()
        .map(|p| (p.headline.label.as_str(), &p.headline.verdicts))
        .collect();
    let trend = verdicts_by_period(&columns, tx);
    periods.reverse();
    SiteIndex {
        organization: organization.to_string(),
        generated_at: generated_at.to_string(),
        periods,
        trend,
    }
}
