//! The signal that tells a running server to stop.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex};

#[derive(Debug, Default)]
struct Inner {
    flag: AtomicBool,
    lock: Mutex<()>,
    cv: Condvar,
}

/// A cloneable one-shot signal. `trigger` may be called from any thread (the
/// binary calls it from its SIGTERM/SIGINT thread, tests call it directly);
/// `serve` then stops accepting, lets in-flight calls finish and returns.
#[derive(Debug, Clone, Default)]
pub struct ShutdownSignal {
    inner: Arc<Inner>,
}

impl ShutdownSignal {
    /// A signal not yet triggered.
    pub fn new() -> Self {
        Self::default()
    }

    /// Tells every server watching this signal to stop; idempotent.
    pub fn trigger(&self) {
        let _guard = self.inner.lock.lock().unwrap_or_else(|p| p.into_inner());
        // SeqCst: pairs with the connection loop's "mark idle, then check the
        // flag", so either the loop sees the flag or the sweep sees it idle.
        self.inner.flag.store(true, Ordering::SeqCst);
        self.inner.cv.notify_all();
    }

    /// Whether [`trigger`](Self::trigger) has been called.
    pub fn is_triggered(&self) -> bool {
        self.inner.flag.load(Ordering::SeqCst)
    }

    /// Blocks until the signal is triggered.
    pub fn wait(&self) {
        let mut guard = self.inner.lock.lock().unwrap_or_else(|p| p.into_inner());
        while !self.is_triggered() {
            guard = self.inner.cv.wait(guard).unwrap_or_else(|p| p.into_inner());
        }
    }
}
