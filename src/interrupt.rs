//! Ctrl-C and SIGTERM. The first one asks the command to stop at its next safe point (between AWS
//! reads and ledger batches, between report files, between the demo's months); the command then
//! says what it stored and what it did not, and exits 130 (SIGINT) or 143 (SIGTERM). A second one
//! ends the process at once. The ledger is safe either way: every batch is written whole or not
//! at all.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};

use signal_hook::consts::signal::{SIGINT, SIGTERM};

/// The signal that asked to stop.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Signal {
    Interrupt,
    Terminate,
}

impl Signal {
    pub fn name(self) -> &'static str {
        match self {
            Signal::Interrupt => "SIGINT",
            Signal::Terminate => "SIGTERM",
        }
    }

    /// 128 + the signal's number, as a shell reports a process the signal ended.
    pub fn exit_code(self) -> u8 {
        match self {
            Signal::Interrupt => 130,
            Signal::Terminate => 143,
        }
    }
}

/// The last signal received (its number), 0 for none.
static RECEIVED: OnceLock<Arc<AtomicUsize>> = OnceLock::new();

/// Turns SIGINT and SIGTERM into a request to stop (see the module's text).
pub fn install() -> std::io::Result<()> {
    let received = RECEIVED.get_or_init(|| Arc::new(AtomicUsize::new(0)));
    let asked = Arc::new(AtomicBool::new(false));
    for signal in [SIGINT, SIGTERM] {
        // Registered first, so it sees `asked` as the previous signal left it.
        signal_hook::flag::register_conditional_shutdown(signal, 128 + signal, Arc::clone(&asked))?;
        signal_hook::flag::register(signal, Arc::clone(&asked))?;
        signal_hook::flag::register_usize(signal, Arc::clone(received), signal as usize)?;
    }
    Ok(())
}

/// The signal that asked the command to stop, if one did.
pub fn requested() -> Option<Signal> {
    let received = RECEIVED.get()?.load(Ordering::SeqCst);
    match received as i32 {
        SIGINT => Some(Signal::Interrupt),
        SIGTERM => Some(Signal::Terminate),
        _ => None,
    }
}
