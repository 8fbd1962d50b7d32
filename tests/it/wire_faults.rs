//! Faults on the wire, dogfooding chaos engineering on our own ingest: a small HTTP/1.1 proxy in
//! front of the stand-ins answers a fraction of requests with a 503 or a 500, resets the
//! connection, or delays the answer; the ingest still completes, the ledger equals the fault-free
//! one, and the retries stay bounded in time.

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
    pub slow: AtomicUsize,
}

/// A proxy on a free loopback port in front of `upstream`; returns its port. Faults follow a
/// fixed sequence; a fault is never followed by another, as transient faults are.
pub fn faulty_proxy(upstream: u16, counts: Arc<FaultCounts>) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let sequence = Arc::new(Mutex::new((0x9e37_79b9_7f4a_7c15_u64, false)));
    thread::spawn(move || {
        for client in listener.incoming() {
            let Ok(client) = client else { continue };
            let counts = counts.clone();
            let sequence = sequence.clone();
            thread::spawn(move || serve(client, upstream, &counts, &sequence));
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

fn serve(client: TcpStream, upstream: u16, counts: &FaultCounts, sequence: &Mutex<(u64, bool)>) {
    let mut reader = BufReader::new(client.try_clone().unwrap());
    let mut client = client;
    while let Some(request) = read_request(&mut reader) {
        let fault = {
            let mut state = sequence.lock().unwrap();
            state.0 = state
                .0
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            let roll = (state.0 >> 33) % 100;
            let fault = if state.1 { 100 } else { roll };
            state.1 = fault < 28;
            fault
        };
        match fault {
            0..=7 => {
                counts.unavailable.fetch_add(1, Ordering::Relaxed);
                let _ = client.write_all(
                    b"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
                );
                return;
            }
            8..=13 => {
                counts.internal.fetch_add(1, Ordering::Relaxed);
                let _ = client.write_all(
                    b"HTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
                );
                return;
            }
            14..=20 => {
                counts.reset.fetch_add(1, Ordering::Relaxed);
                let _ = client.shutdown(Shutdown::Both);
                return;
            }
            21..=27 => {
                counts.slow.fetch_add(1, Ordering::Relaxed);
                thread::sleep(Duration::from_millis(300));
            }
            _ => {
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
        if client.write_all(&answer).is_err() {
            return;
        }
        // The answer said `Connection: close` upstream; end this connection too.
        let _ = client.shutdown(Shutdown::Both);
        return;
    }
}
