//! The process's descriptor budget: its limit, and a spare descriptor kept
//! so that a server out of descriptors can still refuse a connection.

use std::fs::File;
use std::io;

/// The soft `RLIMIT_NOFILE` of this process, if it can be read.
pub(crate) fn soft_limit() -> Option<u64> {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit writes one rlimit struct, which `limit` is.
    let rc = unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) };
    (rc == 0 && limit.rlim_cur != libc::RLIM_INFINITY).then_some(limit.rlim_cur)
}

/// True for the errors that mean "no descriptor left" (process or system).
pub(crate) fn is_exhausted(e: &io::Error) -> bool {
    matches!(e.raw_os_error(), Some(libc::EMFILE | libc::ENFILE))
}

/// One descriptor held back for the moment the process runs out.
///
/// When `accept` fails with EMFILE, the connection stays in the kernel's
/// backlog and its client waits until its connect times out. Releasing the
/// spare lets the server accept that connection and close it at once, so the
/// client learns immediately; then the spare is taken again.
pub(crate) struct SpareDescriptor(Option<File>);

impl SpareDescriptor {
    pub(crate) fn new() -> Self {
        SpareDescriptor(File::open("/dev/null").ok())
    }

    /// Frees the spare for the duration of `f`, then takes it back. Returns
    /// None if there was no spare to free.
    pub(crate) fn release_for<T>(&mut self, f: impl FnOnce() -> T) -> Option<T> {
        self.0.take()?;
        let result = f();
        self.0 = File::open("/dev/null").ok();
        Some(result)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_a_limit_and_recognises_exhaustion() {
        assert!(soft_limit().is_some_and(|l| l > 0));
        assert!(is_exhausted(&io::Error::from_raw_os_error(libc::EMFILE)));
        assert!(is_exhausted(&io::Error::from_raw_os_error(libc::ENFILE)));
        assert!(!is_exhausted(&io::Error::from_raw_os_error(
            libc::ECONNABORTED
        )));
    }

    #[test]
    fn the_spare_is_taken_back_after_use() {
        let mut spare = SpareDescriptor::new();
        assert_eq!(spare.release_for(|| 7), Some(7));
        assert_eq!(spare.release_for(|| 8), Some(8));
    }
}
