//! Faults on the wire, dogfooding chaos engineering on our own ingest: a small HTTP/1.1 proxy in
//! front of the stand-ins answers a fraction of requests with a 503 or a 500, throttles them the
//! way each service does, resets the connection, never answers, or delays the answer; the ingest
//! still completes, the ledger equals the fault-free one, and the retries stay bounded in time.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread;
use std::time::Duration;

/// What the proxy did, by kind.
#[derive(Debug, Default)]
pub struct FaultCounts {
    pub passed: AtomicUsize,
    pub unavailable: AtomicUsize,
    pub internal: AtomicUsize,
    pub reset: AtomicUsize,
    pub throttled: AtomicUsize,
    /// Requests never answered: the client's attempt timeout must end them.
    pub hung: AtomicUsize,
    pub slow: AtomicUsize,
}

impl FaultCounts {
    /// Answers that failed, by whatever means.
    pub fn failed(&self) -> usize {
        [
            &self.unavailable,
            &self.internal,
            &self.reset,
            &self.throttled,
            &self.hung,
        ]
        .iter()
        .map(|count| count.load(Ordering::Relaxed))
        .sum()
    }
}

/// How long a hung request is held before the proxy lets go of it; far beyond the attempt timeout
/// the test gives checkup.
const HANG: Duration = Duration::from_secs(30);

/// A throttling answer in the request's protocol, so the SDK reads the error code as a service
/// would send it: CloudWatch speaks Smithy RPC v2 CBOR, FIS REST-JSON, S3 REST-XML.
fn throttling_answer(request: &[u8]) -> Vec<u8> {
    let head = String::from_utf8_lossy(request).to_ascii_lowercase();
    let (status, headers, body): (&str, &str, Vec<u8>) = if head
        .contains("smithy-protocol: rpc-v2-cbor")
    {
        // CBOR map of one entry: "__type" → "ThrottlingException".
        let mut body = vec![0xa1, 0x66];
        body.extend_from_slice(b"__type");
        body.push(0x73);
        body.extend_from_slice(b"ThrottlingException");
        (
            "400 Bad Request",
            "smithy-protocol: rpc-v2-cbor\r\nContent-Type: application/cbor\r\n",
            body,
        )
    } else if head.starts_with("get /experiment") || head.starts_with("post /experiment") {
        (
            "429 Too Many Requests",
            "x-amzn-ErrorType: ThrottlingException\r\nContent-Type: application/json\r\n",
            br#"{"message":"Rate exceeded"}"#.to_vec(),
        )
    } else {
        (
            "503 Slow Down",
            "Content-Type: application/xml\r\n",
            b"<Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message></Error>"
                .to_vec(),
        )
    };
    let mut answer = format!(
        "HTTP/1.1 {status}\r\n{headers}Content-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    )
    .into_bytes();
    answer.extend(body);
    answer
}

/// A proxy on a free loopback port in front of `upstream`; returns its port. Faults follow a
/// fixed sequence; a fault is never followed by another, as transient faults are.
pub fn faulty_proxy(upstream: u16, counts: Arc<FaultCounts>) -> u16 {
    proxy(upstream, counts, None, Writes::AsReads)
}

/// A proxy that answers every request, each after `delay`: a slow link, which stretches the
/// moments a test wants to interrupt.
pub fn slow_proxy(upstream: u16, delay: Duration) -> u16 {
    proxy(upstream, Arc::default(), Some(delay), Writes::AsReads)
}

/// A proxy whose faults fall on writes only (PUT and DELETE): reads always pass.
pub fn write_faulty_proxy(upstream: u16, counts: Arc<FaultCounts>, writes: Writes) -> u16 {
    proxy(upstream, counts, None, writes)
}

/// Which requests get faults.
#[derive(Clone, Copy)]
pub enum Writes {
    /// Every request, reads and writes alike.
    AsReads,
    /// Writes only, from the fault sequence.
    Transient,
    /// Every write of a key holding this text answers 503 SlowDown (retries run out); other
    /// requests pass.
    Refused(&'static str),
}

/// What the proxy does: a fault sequence (its state, and whether the last request failed), or
/// only delays.
struct Plan {
    sequence: Mutex<(u64, bool)>,
    delay_every_request: Option<Duration>,
    writes: Writes,
}

fn proxy(
    upstream: u16,
    counts: Arc<FaultCounts>,
    delay_every_request: Option<Duration>,
    writes: Writes,
) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let plan = Arc::new(Plan {
        sequence: Mutex::new((0x9e37_79b9_7f4a_7c15_u64, false)),
        delay_every_request,
        writes,
    });
    thread::spawn(move || {
        for client in listener.incoming() {
            let Ok(client) = client else { continue };
            let counts = counts.clone();
            let plan = plan.clone();
            thread::spawn(move || serve(client, upstream, &counts, &plan));
        }
    });
    port
}

fn read_request(reader: &mut BufReader<TcpStream>) -> Option<Vec<u8>> {
    let mut head = Vec::new();
    let mut length = 0usize;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).ok()? == 0 {
            return None;
        }
        let lower = line.to_ascii_lowercase();
        if let Some(value) = lower.strip_prefix("content-length:") {
            length = value.trim().parse().ok()?;
        }
        // Each forwarded request gets its own upstream connection, closed after the answer.
        if lower.starts_with("connection:") {
            continue;
        }
        if line == "\r\n" {
            head.extend_from_slice(b"Connection: close\r\n\r\n");
            break;
        }
        head.extend_from_slice(line.as_bytes());
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body).ok()?;
    head.extend(body);
    Some(head)
}

/// The attempt the SDK says a request is (its `amz-sdk-request: attempt=N; max=M` header), 1 when
/// it does not say.
fn attempt_of(request: &[u8]) -> u32 {
    let head = String::from_utf8_lossy(request);
    head.lines()
        .take_while(|line| !line.is_empty())
        .find_map(|line| {
            let (name, value) = line.split_once(':')?;
            if !name.eq_ignore_ascii_case("amz-sdk-request") {
                return None;
            }
            value
                .split(';')
                .find_map(|part| part.trim().strip_prefix("attempt="))?
                .parse()
                .ok()
        })
        .unwrap_or(1)
}

/// What the proxy does to one request.
enum Fault {
    Unavailable,
    Internal,
    Reset,
    Throttled,
    Hung,
    Slow(Duration),
    Passed,
}

impl Plan {
    /// The fault of `request`: by the plan's kind of writes, else [`Plan::next_fault`].
    fn fault_of(&self, request: &[u8]) -> Fault {
        let line = request.split(|b| *b == b'\r').next().unwrap_or_default();
        let line = String::from_utf8_lossy(line);
        let write = line.starts_with("PUT ") || line.starts_with("DELETE ");
        // Transient faults clear within two retries: a third attempt always passes. Without this
        // the sequence is shared by requests in flight, and one request's retries could all land
        // on its faults while other requests took the passes in between.
        if attempt_of(request) >= 3 && !matches!(self.writes, Writes::Refused(_)) {
            return Fault::Passed;
        }
        match self.writes {
            Writes::AsReads => self.next_fault(),
            Writes::Transient if write => self.next_fault(),
            Writes::Refused(part) if write && line.contains(part) => Fault::Throttled,
            Writes::Transient | Writes::Refused(_) => Fault::Passed,
        }
    }

    /// The next request's fault. About 30% of requests fail or are slow, and never two in a row,
    /// as transient faults are.
    fn next_fault(&self) -> Fault {
        if let Some(delay) = self.delay_every_request {
            return Fault::Slow(delay);
        }
        let mut state = self.sequence.lock().unwrap();
        state.0 = state
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        let roll = if state.1 { 100 } else { (state.0 >> 33) % 100 };
        state.1 = roll < 30;
        match roll {
            0..=5 => Fault::Unavailable,
            6..=9 => Fault::Internal,
            10..=14 => Fault::Reset,
            15..=20 => Fault::Throttled,
            21..=23 => Fault::Hung,
            24..=29 => Fault::Slow(Duration::from_millis(300)),
            _ => Fault::Passed,
        }
    }
}

/// Serves one request on `client` (each is answered with `Connection: close`).
fn serve(client: TcpStream, upstream: u16, counts: &FaultCounts, plan: &Plan) {
    let mut reader = BufReader::new(client.try_clone().unwrap());
    let mut client = client;
    let Some(request) = read_request(&mut reader) else {
        return;
    };
    match plan.fault_of(&request) {
        Fault::Unavailable => {
            counts.unavailable.fetch_add(1, Ordering::Relaxed);
            let _ = client.write_all(
                b"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
            );
            return;
        }
        Fault::Internal => {
            counts.internal.fetch_add(1, Ordering::Relaxed);
            let _ = client.write_all(
                b"HTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
            );
            return;
        }
        Fault::Reset => {
            counts.reset.fetch_add(1, Ordering::Relaxed);
            let _ = client.shutdown(Shutdown::Both);
            return;
        }
        Fault::Throttled => {
            counts.throttled.fetch_add(1, Ordering::Relaxed);
            let _ = client.write_all(&throttling_answer(&request));
            return;
        }
        Fault::Hung => {
            counts.hung.fetch_add(1, Ordering::Relaxed);
            thread::sleep(HANG);
            return;
        }
        Fault::Slow(delay) => {
            counts.slow.fetch_add(1, Ordering::Relaxed);
            thread::sleep(delay);
        }
        Fault::Passed => {
            counts.passed.fetch_add(1, Ordering::Relaxed);
        }
    }
    let Ok(mut server) = TcpStream::connect(("127.0.0.1", upstream)) else {
        return;
    };
    if server.write_all(&request).is_err() {
        return;
    }
    let mut answer = Vec::new();
    let _ = server.read_to_end(&mut answer);
    if client.write_all(&answer).is_ok() {
        // The answer said `Connection: close` upstream; end this connection too.
        let _ = client.shutdown(Shutdown::Both);
    }
}
