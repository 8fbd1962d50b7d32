//! `checkup notify`: posts the digest of a period (verdict counts, MTTR change, ROI, stage, the
//! gate's result when rules are given, a link) to a chat webhook. The webhook URL is a secret (it
//! lets anyone post to the channel): it is never printed, logged or stored, and a failed post says
//! what the server answered without it.

use std::fmt;
use std::time::Duration;

use super::aws_session::aws_runtime;
use super::load::analyze_ledger;
use super::{AppError, Result};
use crate::analyze::gate::{GateRules, check_gate};
use crate::analyze::headline::headline;
use crate::config::Config;
use crate::ledger::Ledger;
use crate::report::digest::{Digest, DigestStyle, digest};
use crate::report::i18n::{Lang, sentence};
use crate::vocab::time::Period;

/// A webhook URL: shown as `<webhook>` wherever it could be printed (`Debug` included).
#[derive(Clone, PartialEq, Eq)]
pub struct WebhookUrl(String);

impl WebhookUrl {
    /// Takes the text as given; [`WebhookUrl::check`] judges it. (A clap value parser that
    /// failed would print the value in its error.)
    pub fn from_arg(text: &str) -> Result<WebhookUrl, String> {
        Ok(WebhookUrl(text.trim().to_string()))
    }

    /// An `https://` URL (or `http://` for a server on this machine); the error never repeats it.
    pub fn check(&self) -> Result<()> {
        let text = &self.0;
        let local = ["http://127.0.0.1", "http://localhost", "http://[::1]"]
            .iter()
            .any(|prefix| text.starts_with(prefix));
        let valid = (text.starts_with("https://") || local)
            && reqwest::Url::parse(text).is_ok_and(|url| url.host().is_some());
        if valid {
            Ok(())
        } else {
            Err(AppError::Webhook("the webhook URL must be an https:// URL (http:// only on this machine); it is not repeated here because it is a secret".to_string()))
        }
    }
}

impl fmt::Debug for WebhookUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<webhook>")
    }
}

#[derive(Debug, Clone)]
pub struct NotifyCommand {
    pub webhook: WebhookUrl,
    pub style: DigestStyle,
    pub period: Option<Period>,
    /// The report the digest links to (a published quarterly, a site index).
    pub link: Option<String>,
    /// Gate rules whose result the digest states; `None` when none were given.
    pub rules: Option<GateRules>,
    pub config: Config,
    pub lang: Lang,
}

/// The most a webhook may take to answer.
const POST_TIMEOUT: Duration = Duration::from_secs(30);
/// How much of a server's answer an error repeats.
const ANSWER_SHOWN: usize = 300;

/// Analyzes the period, builds its digest and posts it. Returns the digest posted.
pub fn notify(ledger: &Ledger, command: &NotifyCommand) -> Result<Digest> {
    command.webhook.check()?;
    let analyzed = analyze_ledger(ledger, &command.config, command.period)?;
    let headline = headline(&analyzed.analysis, &command.config.currency);
    let gate = command
        .rules
        .as_ref()
        .map(|rules| check_gate(&analyzed.analysis, rules));
    let digest = digest(
        &command.config.organization,
        &headline,
        gate.as_deref(),
        command.link.as_deref(),
        command.lang,
    );
    let (content_type, body) =
        digest.payload(command.style, &sentence(command.lang, "digest_open", &[]));
    post(&command.webhook, content_type, body)?;
    Ok(digest)
}

/// One POST; any 2xx answer is success. Errors carry the status and the start of the answer,
/// never the URL (reqwest's own errors name it, so it is taken out).
fn post(webhook: &WebhookUrl, content_type: &str, body: Vec<u8>) -> Result<()> {
    let runtime = aws_runtime().map_err(AppError::Runtime)?;
    runtime.block_on(async {
        let client = reqwest::Client::builder()
            .timeout(POST_TIMEOUT)
            // A redirect would send the digest somewhere the user did not name.
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| AppError::Webhook(e.without_url().to_string()))?;
        let response = client
            .post(&webhook.0)
            .header(reqwest::header::CONTENT_TYPE, content_type)
            .body(body)
            .send()
            .await
            .map_err(|e| AppError::Webhook(describe(e, webhook)))?;
        let status = response.status();
        if status.is_success() {
            return Ok(());
        }
        let answer = response.text().await.unwrap_or_default();
        let answer: String = answer.trim().chars().take(ANSWER_SHOWN).collect();
        let answer = answer.replace(&webhook.0, "<webhook>");
        Err(AppError::Webhook(if answer.is_empty() {
            format!("the server answered {status}")
        } else {
            format!("the server answered {status}: {answer}")
        }))
    })
}

/// A transport error in words with its causes, without the URL.
fn describe(error: reqwest::Error, webhook: &WebhookUrl) -> String {
    let kind = if error.is_timeout() {
        "no answer within 30 s"
    } else if error.is_connect() {
        "cannot connect"
    } else {
        "the request failed"
    };
    let error = error.without_url();
    let mut text = format!("{kind}: {error}");
    let mut cause = std::error::Error::source(&error);
    while let Some(inner) = cause {
        text.push_str(&format!(": {inner}"));
        cause = inner.source();
    }
    text.replace(&webhook.0, "<webhook>")
}
