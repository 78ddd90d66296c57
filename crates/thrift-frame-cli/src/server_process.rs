//! What every server binary of this repository does as a process
//! (interop/SPEC.md): announce its port once listening, and stop on signals.

use std::io::Write;

use anyhow::Context;
use signal_hook::consts::{SIGINT, SIGTERM};
use thrift_frame_server::ShutdownSignal;

/// Triggers `shutdown` on the first SIGTERM or SIGINT; a second one exits
/// the process at once with status 128 + the signal (143 for SIGTERM, 130
/// for SIGINT), for when the grace period is more than the operator will wait.
pub fn shutdown_on_signals(shutdown: &ShutdownSignal) -> anyhow::Result<()> {
    let mut signals = signal_hook::iterator::Signals::new([SIGTERM, SIGINT])
        .context("installing signal handlers")?;
    let on_signal = shutdown.clone();
    std::thread::Builder::new()
        .name("signals".into())
        .spawn(move || {
            let mut signals = signals.forever();
            if let Some(sig) = signals.next() {
                log::info!("received signal {sig}; shutting down (a second signal exits at once)");
                on_signal.trigger();
            }
            if let Some(sig) = signals.next() {
                log::warn!("received signal {sig} again; exiting at once");
                std::process::exit(128 + sig);
            }
        })
        .context("starting the signal thread")?;
    Ok(())
}

/// Prints the readiness line `LISTENING <port>` on stdout and flushes it;
/// call it once the listener is bound, so connections are accepted from then on.
pub fn announce_listening(port: u16) -> anyhow::Result<()> {
    let mut stdout = std::io::stdout().lock();
    writeln!(stdout, "LISTENING {port}").context("announcing the port")?;
    stdout.flush().context("announcing the port")
}
