//! A server peer (interop/SPEC.md): ready once it has printed
//! `LISTENING <port>` and accepts a TCP connection, never after a sleep.

use std::net::{SocketAddr, SocketAddrV4, TcpStream};
use std::path::Path;
use std::process::{ExitStatus, Stdio};
use std::time::{Duration, Instant};

use crate::network::{HOST, PROBE_TIMEOUT};
use crate::process::{describe_exit, last_line, missing_pipe};
use crate::{CommandLine, Deadline, HarnessError, LineStream, Process, Signal};

/// A running `ping-server` that has announced its port and accepts connections.
pub struct ServerProcess {
    process: Process,
    /// The port it announced.
    pub port: u16,
    /// When its `LISTENING` line was read.
    pub listening_at: Instant,
    /// Kept so the reader thread keeps draining stdout.
    _stdout: LineStream,
}

impl ServerProcess {
    /// Starts the server and waits until it is ready: its `LISTENING <port>`
    /// line, then a successful TCP connect. Exit 2 before that means the
    /// server cannot serve this combination (`Unsupported`).
    pub fn start(
        label: &str,
        command: &CommandLine,
        stderr_log: &Path,
        deadline: &Deadline,
    ) -> Result<Self, HarnessError> {
        let address = |port| SocketAddr::V4(SocketAddrV4::new(HOST, port));
        let probe = |port| TcpStream::connect_timeout(&address(port), PROBE_TIMEOUT).is_ok();
        Self::start_probed(label, command, stderr_log, deadline, &probe)
    }

    /// [`ServerProcess::start`] for a server that is not on loopback (the
    /// fault suite's, in a network namespace): after the `LISTENING` line,
    /// ready once `accepts(port)` is true.
    pub fn start_probed(
        label: &str,
        command: &CommandLine,
        stderr_log: &Path,
        deadline: &Deadline,
        accepts: &dyn Fn(u16) -> bool,
    ) -> Result<Self, HarnessError> {
        let mut process = Process::spawn(label, command, Stdio::piped(), stderr_log)?;
        let stdout = LineStream::spawn(
            process
                .take_stdout()
                .ok_or_else(|| missing_pipe(label, "stdout"))?,
            None,
        );
        let waiting_for = format!("the {label}'s LISTENING line");
        let (port, listening_at) = loop {
            match stdout.next(deadline, &waiting_for)? {
                Some(line) => {
                    if let Some(port) = parse_listening(&line.text) {
                        break (port, line.at);
                    }
                }
                None => {
                    let status = process.wait(deadline)?;
                    let why = last_line(stderr_log);
                    return Err(if status.code() == Some(2) {
                        HarnessError::Unsupported(format!("{label} exited 2: {why}"))
                    } else {
                        HarnessError::PeerFailed(format!(
                            "{label} ended ({}) before printing LISTENING: {why}",
                            describe_exit(status)
                        ))
                    });
                }
            }
        };
        let waiting_for = format!("the {label} to accept a connection on port {port}");
        while !accepts(port) {
            if let Some(status) = process.try_exit()? {
                return Err(HarnessError::PeerFailed(format!(
                    "{label} printed LISTENING {port}, then ended ({}): {}",
                    describe_exit(status),
                    last_line(stderr_log)
                )));
            }
            deadline.nap(&waiting_for)?;
        }
        Ok(Self {
            process,
            port,
            listening_at,
            _stdout: stdout,
        })
    }

    /// Sends `signal` to its process group.
    pub fn signal(&mut self, signal: Signal) -> Result<(), HarnessError> {
        self.process.signal(signal)
    }

    /// Its pid.
    pub fn pid(&self) -> u32 {
        self.process.pid()
    }

    /// Its exit status if it has ended, without waiting.
    pub fn try_exit(&mut self) -> Result<Option<ExitStatus>, HarnessError> {
        self.process.try_exit()
    }

    /// SIGKILL and reap, at once.
    pub fn kill(&mut self) {
        self.process.kill();
    }

    /// Waits for it to exit on its own (after a signal), within `deadline`.
    pub fn wait(&mut self, deadline: &Deadline) -> Result<ExitStatus, HarnessError> {
        self.process.wait(deadline)
    }

    /// Stops it the polite way first; see [`Process::stop`].
    pub fn stop(&mut self, grace: Duration) -> Option<ExitStatus> {
        self.process.stop(grace)
    }
}

fn parse_listening(line: &str) -> Option<u16> {
    line.trim().strip_prefix("LISTENING ")?.trim().parse().ok()
}

#[cfg(test)]
mod tests {
    use super::parse_listening;

    #[test]
    fn listening_lines() {
        assert_eq!(parse_listening("LISTENING 40123"), Some(40123));
        assert_eq!(parse_listening("LISTENING 9091\r"), Some(9091));
        assert_eq!(parse_listening("LISTENING"), None);
        assert_eq!(parse_listening("listening 1"), None);
        assert_eq!(parse_listening("LISTENING 70000"), None);
    }
}
