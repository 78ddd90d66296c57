//! Child processes that are always killed and reaped: every [`Process`] is
//! killed when dropped, whatever path its owner takes out (pass, failure,
//! timeout, Ctrl-C).

use std::fs::{self, File, OpenOptions};
use std::io;
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::Path;
use std::process::{Child, ChildStdout, Command, ExitStatus, Stdio};
use std::sync::{Mutex, PoisonError};
use std::thread;
use std::time::{Duration, Instant};

use crate::deadline::{Deadline, POLL};
use crate::{CommandLine, HarnessError, Signal};

/// Held while a child is forked (until it has exec'd: `spawn` waits for
/// that) and while a reserved port is closed. A child forked by another
/// thread holds a copy of every descriptor, close-on-exec or not, until its
/// exec; on a loaded machine that can take long enough for a server to find
/// a released port still bound (`server_late_start`). Under this lock no
/// such half-started child exists when the port is closed.
pub(crate) static FORK_LOCK: Mutex<()> = Mutex::new(());

/// "exit 1" or "signal 9": how a process ended, for messages.
pub fn describe_exit(status: ExitStatus) -> String {
    match (status.code(), status.signal()) {
        (Some(code), _) => format!("exit {code}"),
        (None, Some(signal)) => format!("signal {signal}"),
        (None, None) => status.to_string(),
    }
}

/// The line of a log that most likely says why a peer gave up, shortened:
/// the last one mentioning "error" (usage errors end in hints such as
/// "For more information, try '--help'"), else the last non-empty one.
pub fn last_line(log: &Path) -> String {
    let text = fs::read(log).unwrap_or_default();
    let text = String::from_utf8_lossy(&text);
    let lines: Vec<&str> = text
        .lines()
        .filter(|line| !line.trim().is_empty())
        .collect();
    let line = lines
        .iter()
        .rev()
        .find(|line| line.to_lowercase().contains("error"))
        .or(lines.last())
        .copied()
        .unwrap_or("(nothing on stderr)");
    shorten(line.trim(), 300)
}

/// Cuts `text` to at most `limit` characters, marking the cut.
pub fn shorten(text: &str, limit: usize) -> String {
    match text.char_indices().nth(limit) {
        Some((cut, _)) => format!("{}...", &text[..cut]),
        None => text.to_owned(),
    }
}

/// Opens a child's log for appending, creating it if need be, so several
/// processes can write one log in turn (a remote cell's kill and restart
/// commands share restart.log).
pub(crate) fn open_log(path: &Path) -> Result<File, HarnessError> {
    OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .map_err(|source| HarnessError::WriteFile {
            path: path.to_owned(),
            source,
        })
}

/// A running child, in its own process group, that is killed and reaped on drop.
pub struct Process {
    label: String,
    child: Child,
    exit: Option<ExitStatus>,
}

impl Process {
    /// Starts `command` with stdin closed and stderr appended to `stderr_log`.
    pub fn spawn(
        label: &str,
        command: &CommandLine,
        stdout: Stdio,
        stderr_log: &Path,
    ) -> Result<Self, HarnessError> {
        let stderr = open_log(stderr_log)?;
        let mut builder = Command::new(&command.program);
        builder
            .args(&command.args)
            .stdin(Stdio::null())
            .stdout(stdout)
            .stderr(stderr)
            // Own process group: the terminal's Ctrl-C reaches only the
            // runner, which then stops its cells in order instead of
            // every peer dying mid-call and being reported as a failure.
            .process_group(0);
        // SAFETY: the closure runs in the forked child before exec and only
        // calls prctl, which is async-signal-safe and touches no memory of ours.
        unsafe {
            builder.pre_exec(|| {
                // Drop guards cannot run if the runner itself is SIGKILLed;
                // the kernel then kills the children instead. (It fires when
                // the spawning thread exits: cells spawn and reap in one thread.)
                if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) == -1 {
                    return Err(io::Error::last_os_error());
                }
                Ok(())
            });
        }
        let forking = FORK_LOCK.lock().unwrap_or_else(PoisonError::into_inner);
        let child = builder.spawn().map_err(|source| HarnessError::Spawn {
            program: command.program.clone(),
            source,
        });
        drop(forking);
        let child = child?;
        Ok(Self {
            label: label.to_owned(),
            child,
            exit: None,
        })
    }

    /// Its pid.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    pub(crate) fn take_stdout(&mut self) -> Option<ChildStdout> {
        self.child.stdout.take()
    }

    /// Sends `signal` to the child's process group. Once the child has been
    /// reaped its pid may belong to someone else, so nothing is sent then.
    pub fn signal(&mut self, signal: Signal) -> Result<(), HarnessError> {
        if self.exit.is_some() {
            return Ok(());
        }
        let pid = self.pid();
        let group = libc::pid_t::try_from(pid).map_err(|_| HarnessError::Signal {
            signal: signal.name(),
            label: self.label.clone(),
            pid,
            source: io::Error::from(io::ErrorKind::InvalidInput),
        })?;
        // SAFETY: kill(2) has no memory-safety preconditions; the group is
        // led by our unreaped child, so its id cannot have been reused.
        if unsafe { libc::kill(-group, signal.number()) } == -1 {
            return Err(HarnessError::Signal {
                signal: signal.name(),
                label: self.label.clone(),
                pid,
                source: io::Error::last_os_error(),
            });
        }
        Ok(())
    }

    /// The exit status, if the child has ended (reaping it).
    pub fn try_exit(&mut self) -> Result<Option<ExitStatus>, HarnessError> {
        if self.exit.is_none() {
            self.exit = self.child.try_wait().map_err(|source| HarnessError::Io {
                what: format!("waiting for {}", self.label),
                source,
            })?;
        }
        Ok(self.exit)
    }

    /// Waits for the child to end on its own.
    pub fn wait(&mut self, deadline: &Deadline) -> Result<ExitStatus, HarnessError> {
        let waiting_for = format!("{} to exit", self.label);
        loop {
            if let Some(status) = self.try_exit()? {
                return Ok(status);
            }
            deadline.nap(&waiting_for)?;
        }
    }

    /// SIGTERM, then SIGKILL if it has not exited within `grace`. Returns how
    /// it ended, or `None` if it had to be killed.
    pub fn stop(&mut self, grace: Duration) -> Option<ExitStatus> {
        if self.signal(Signal::Term).is_ok() {
            let until = Instant::now() + grace;
            while Instant::now() < until {
                match self.try_exit() {
                    Ok(Some(status)) => return Some(status),
                    Ok(None) => thread::sleep(POLL),
                    Err(_) => break,
                }
            }
        }
        self.kill();
        None
    }

    /// SIGKILL and reap; does nothing once reaped.
    pub fn kill(&mut self) {
        if self.exit.is_some() {
            return;
        }
        // The whole group, in case a peer's launcher left a child behind;
        // failing that, the child itself. An error here means it is already
        // gone, and wait() still reaps it.
        if self.signal(Signal::Kill).is_err() {
            let _ = self.child.kill();
        }
        if let Ok(status) = self.child.wait() {
            self.exit = Some(status);
        }
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        self.kill();
    }
}

pub(crate) fn missing_pipe(label: &str, which: &str) -> HarnessError {
    HarnessError::Io {
        what: format!("reading the {label}'s {which}"),
        source: io::Error::from(io::ErrorKind::BrokenPipe),
    }
}
