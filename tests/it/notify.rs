//! `checkup notify` against a local HTTP server that records what it is sent: the Slack, Teams and
//! plain payloads carry the period's figures and the gate's result, and the webhook URL (a secret)
//! appears in no output, not even when the server refuses the post.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::process::{Command, Output};
use std::sync::mpsc;

use serde_json::Value;

use crate::support::{default_demo, stderr};

/// One request as the server received it.
struct Received {
    request_line: String,
    content_type: String,
    body: Vec<u8>,
}

/// A server on loopback that answers one request with `status` and `answer`.
fn one_shot_server(status: &'static str, answer: &'static str) -> (u16, mpsc::Receiver<Received>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let (sender, receiver) = mpsc::channel();
    std::thread::spawn(move || {
        let (stream, _) = listener.accept().unwrap();
        let mut reader = BufReader::new(stream.try_clone().unwrap());
        let mut request_line = String::new();
        reader.read_line(&mut request_line).unwrap();
        let (mut length, mut content_type) = (0, String::new());
        loop {
            let mut line = String::new();
            reader.read_line(&mut line).unwrap();
            let line = line.trim_end();
            if line.is_empty() {
                break;
            }
            let (name, value) = line.split_once(':').unwrap();
            match name.to_ascii_lowercase().as_str() {
                "content-length" => length = value.trim().parse().unwrap(),
                "content-type" => content_type = value.trim().to_string(),
                _ => {}
            }
        }
        let mut body = vec![0; length];
        reader.read_exact(&mut body).unwrap();
        let mut stream = stream;
        write!(
            stream,
            "HTTP/1.1 {status}\r\ncontent-type: text/plain\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{answer}",
            answer.len()
        )
        .unwrap();
        sender
            .send(Received {
                request_line: request_line.trim_end().to_string(),
                content_type,
                body,
            })
            .unwrap();
    });
    (port, receiver)
}

/// The secret part of every webhook URL of these tests.
const SECRET: &str = "T0SECRET/B0SECRET/xoxSECRETtoken";

fn notify(port: u16, args: &[&str]) -> Output {
    let url = format!("http://127.0.0.1:{port}/services/{SECRET}");
    Command::new(env!("CARGO_BIN_EXE_checkup"))
        .args(["--ledger", default_demo().join("ledger").to_str().unwrap()])
        .arg("notify")
        .args(args)
        .env("CHECKUP_WEBHOOK_URL", url)
        .env("NO_PROXY", "127.0.0.1")
        .env_remove("HTTP_PROXY")
        .env_remove("http_proxy")
        .env_remove("ALL_PROXY")
        .output()
        .unwrap()
}

fn assert_secret_kept(output: &Output) {
    let all = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        stderr(output)
    );
    assert!(
        !all.contains("SECRET") && !all.contains("/services/"),
        "the webhook URL leaked: {all}"
    );
}

/// The figures the digest must carry, from the demo's own report.json.
fn demo_report() -> Value {
    serde_json::from_slice(&std::fs::read(default_demo().join("reports/report.json")).unwrap())
        .unwrap()
}

#[test]
fn slack_gets_blocks_with_the_figures_and_the_gate() {
    let (port, received) = one_shot_server("200 OK", "ok");
    let output = notify(
        port,
        &[
            "--link",
            "https://reports.example.com/2026Q3/quarterly.html",
            "--max-red",
            "0",
        ],
    );
    assert!(output.status.success(), "{}", stderr(&output));
    assert_secret_kept(&output);
    let request = received.recv().unwrap();
    assert_eq!(
        request.request_line,
        format!("POST /services/{SECRET} HTTP/1.1")
    );
    assert_eq!(request.content_type, "application/json");
    let payload: Value = serde_json::from_slice(&request.body).unwrap();
    let report = demo_report();
    let counts = &report["verdict_counts"];
    let text = payload["text"].as_str().unwrap();
    assert!(
        text.contains(&format!("{} green", counts["green"])),
        "{text}"
    );
    assert!(text.contains(&format!("{} red", counts["red"])), "{text}");
    assert!(text.contains("2026Q3"), "{text}");
    // A red run exists in the demo's quarter, so --max-red 0 fails, and the digest says so.
    assert!(counts["red"].as_u64().unwrap() > 0);
    assert!(
        text.contains("Gate: FAILED: 1 of 1 rules: max-red"),
        "{text}"
    );
    let blocks = payload["blocks"].as_array().unwrap();
    assert_eq!(blocks[0]["type"], "header");
    assert!(
        blocks[0]["text"]["text"]
            .as_str()
            .unwrap()
            .contains("2026Q3")
    );
    let fields = blocks[1]["fields"].as_array().unwrap();
    assert!(fields.iter().all(|f| f["type"] == "mrkdwn"));
    let labels: Vec<&str> = fields
        .iter()
        .map(|f| f["text"].as_str().unwrap().lines().next().unwrap())
        .collect();
    assert_eq!(
        labels,
        [
            "*Verdicts*",
            "*Experimental MTTR*",
            "*ROI*",
            "*Maturity*",
            "*Weaknesses*",
            "*Gate*"
        ]
    );
    let roi = fields[2]["text"].as_str().unwrap();
    let expected_roi = (report["roi"]["roi"].as_f64().unwrap() * 100.0).round() as i64;
    assert!(
        roi.replace(',', "").contains(&format!("{expected_roi}%")),
        "{roi} against {expected_roi}%"
    );
    assert_eq!(
        blocks.last().unwrap()["text"]["text"],
        "<https://reports.example.com/2026Q3/quarterly.html|Open the report>"
    );
}

#[test]
fn teams_gets_an_adaptive_card_and_plain_gets_lines() {
    let (port, received) = one_shot_server("202 Accepted", "");
    let output = notify(
        port,
        &[
            "--style",
            "teams",
            "--link",
            "https://reports.example.com/q3",
            "--min-stage",
            "1",
        ],
    );
    assert!(output.status.success(), "{}", stderr(&output));
    assert_secret_kept(&output);
    let payload: Value = serde_json::from_slice(&received.recv().unwrap().body).unwrap();
    assert_eq!(payload["type"], "message");
    let attachment = &payload["attachments"][0];
    assert_eq!(
        attachment["contentType"],
        "application/vnd.microsoft.card.adaptive"
    );
    let card = &attachment["content"];
    assert_eq!(card["type"], "AdaptiveCard");
    assert_eq!(card["body"][0]["type"], "TextBlock");
    let facts = card["body"][1]["facts"].as_array().unwrap();
    let gate = facts.iter().find(|f| f["title"] == "Gate").unwrap();
    assert_eq!(gate["value"], "passed (1 rules)");
    assert_eq!(card["actions"][0]["type"], "Action.OpenUrl");
    assert_eq!(card["actions"][0]["url"], "https://reports.example.com/q3");

    let (port, received) = one_shot_server("200 OK", "ok");
    let output = notify(port, &["--style", "plain", "--period", "2026Q2"]);
    assert!(output.status.success(), "{}", stderr(&output));
    let request = received.recv().unwrap();
    assert_eq!(request.content_type, "text/plain; charset=utf-8");
    let text = String::from_utf8(request.body).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert!(lines[0].contains("2026Q2"), "{text}");
    assert!(lines[1].starts_with("Verdicts: "), "{text}");
    assert!(!text.contains("Gate"), "no rules, no gate line: {text}");
}

#[test]
fn a_refused_post_exits_2_with_the_answer_and_without_the_url() {
    let (port, _received) = one_shot_server("403 Forbidden", "invalid_token");
    let output = notify(port, &[]);
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    assert_secret_kept(&output);
    let message = stderr(&output);
    assert!(
        message.contains("403 Forbidden") && message.contains("invalid_token"),
        "{message}"
    );

    // Nobody listening: the connection error, still without the URL.
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let output = notify(port, &[]);
    assert_eq!(output.status.code(), Some(2));
    assert_secret_kept(&output);
    assert!(
        stderr(&output).contains("cannot connect"),
        "{}",
        stderr(&output)
    );

    // A URL that is not https is refused before anything is sent, and not repeated.
    let output = Command::new(env!("CARGO_BIN_EXE_checkup"))
        .args(["--ledger", default_demo().join("ledger").to_str().unwrap()])
        .args([
            "notify",
            "--webhook",
            &format!("http://hooks.example.com/{SECRET}"),
        ])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert_secret_kept(&output);
}
