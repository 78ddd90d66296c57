//! Deadlines every wait is bounded by, and the interrupt flag that cuts
//! them short.

use std::io;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use crate::HarnessError;

/// How often waits wake up to look at the deadline and the interrupt flag.
pub const POLL: Duration = Duration::from_millis(10);

/// When a case must be over, and whether the user asked to stop.
#[derive(Debug, Clone)]
pub struct Deadline {
    at: Instant,
    interrupted: Arc<AtomicBool>,
}

impl Deadline {
    /// `timeout` from now; `interrupted` ends every wait early when set.
    pub fn after(timeout: Duration, interrupted: Arc<AtomicBool>) -> Self {
        Self {
            at: Instant::now() + timeout,
            interrupted,
        }
    }

    /// Fails with `Interrupted` or `TimedOut` (naming what was awaited).
    pub fn check(&self, waiting_for: &str) -> Result<(), HarnessError> {
        if self.interrupted.load(Ordering::Relaxed) {
            return Err(HarnessError::Interrupted);
        }
        if Instant::now() >= self.at {
            return Err(HarnessError::TimedOut(format!("waiting for {waiting_for}")));
        }
        Ok(())
    }

    /// When it expires.
    pub fn at(&self) -> Instant {
        self.at
    }

    /// Time left.
    pub fn remaining(&self) -> Duration {
        self.at.saturating_duration_since(Instant::now())
    }

    /// One short wait inside a polling loop.
    pub fn nap(&self, waiting_for: &str) -> Result<(), HarnessError> {
        self.check(waiting_for)?;
        thread::sleep(POLL.min(self.remaining()));
        Ok(())
    }

    /// A deliberate pause (such as an outage) that Ctrl-C still cuts short.
    pub fn pause(&self, length: Duration, why: &str) -> Result<(), HarnessError> {
        let until = Instant::now() + length;
        while Instant::now() < until {
            self.nap(why)?;
        }
        Ok(())
    }
}

/// A flag set by the first SIGINT, SIGTERM or SIGHUP, for a runner to stop
/// its cells and clean up; a second signal while the flag is set ends the
/// process at once (exit 1), its children with it (PR_SET_PDEATHSIG).
pub fn interrupt_flag() -> io::Result<Arc<AtomicBool>> {
    let interrupted = Arc::new(AtomicBool::new(false));
    for signal in [
        signal_hook::consts::SIGINT,
        signal_hook::consts::SIGTERM,
        signal_hook::consts::SIGHUP,
    ] {
        signal_hook::flag::register_conditional_shutdown(signal, 1, Arc::clone(&interrupted))?;
        signal_hook::flag::register(signal, Arc::clone(&interrupted))?;
    }
    Ok(interrupted)
}
