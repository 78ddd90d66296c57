//! A `ping-client --json` peer (interop/SPEC.md): its call records read as
//! they are printed.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{ExitStatus, Stdio};
use std::time::{Duration, Instant, SystemTime};

use serde::Deserialize;

use crate::process::{last_line, missing_pipe, shorten};
use crate::{CommandLine, Deadline, HarnessError, Line, LineStream, Process, Signal};

/// One JSON line of `ping-client --json` (interop/SPEC.md); only the fields
/// the cases judge by are required.
#[derive(Debug, Clone, Deserialize)]
pub struct CallRecord {
    /// Whether the call returned a correct reply.
    pub ok: bool,
    #[serde(default)]
    /// Why not, when `ok` is false.
    pub error: Option<String>,
    /// Reconnects the client has made so far.
    pub reconnects: u64,
    #[serde(default)]
    /// The round, from 1.
    pub round: Option<u64>,
    #[serde(default)]
    /// Payload bytes sent.
    pub size: Option<u64>,
    #[serde(default)]
    /// Wall time of the call as the caller saw it.
    pub latency_ns: Option<u64>,
    #[serde(default)]
    /// CPU time (user + system, every thread) the client process spent on
    /// the call, from `CLOCK_PROCESS_CPUTIME_ID` read before and after it.
    pub cpu_ns: Option<u64>,
    #[serde(default)]
    /// Header transport: the `x-request-id` the call was sent with.
    pub request_id: Option<String>,
    #[serde(default)]
    /// Header transport: whether the reply carried the same `x-request-id`.
    pub request_id_echoed: Option<bool>,
}

/// A call record and when the runner read it.
#[derive(Debug, Clone)]
pub struct Call {
    /// What the client printed.
    pub record: CallRecord,
    /// When the harness read it.
    pub at: Instant,
    /// The same moment on the wall clock.
    pub wall: SystemTime,
}

impl Call {
    /// "call 3 (round 2, 1024 B): <error>" for messages.
    pub fn describe_failure(&self, index: usize) -> String {
        let mut text = format!("call {}", index + 1);
        if let (Some(round), Some(size)) = (self.record.round, self.record.size) {
            text.push_str(&format!(" (round {round}, {size} B)"));
        }
        let error = self.record.error.as_deref().unwrap_or("no error given");
        format!("{text} failed: {}", shorten(error, 300))
    }
}

/// A running `ping-client --json`: a [`LineClient`] whose lines are call
/// records.
pub struct ClientProcess {
    lines: LineClient,
    calls: Vec<Call>,
}

/// How a client run ended.
#[derive(Debug)]
pub struct ClientRun {
    /// The name the client was started under.
    pub label: String,
    /// Every call it printed.
    pub calls: Vec<Call>,
    /// How it exited.
    pub status: ExitStatus,
    /// The last line of its stderr.
    pub last_words: String,
}

impl ClientRun {
    /// `reconnects` of the last call printed, if any.
    pub fn last_reconnects(&self) -> Option<u64> {
        self.calls.last().map(|call| call.record.reconnects)
    }
}

impl ClientProcess {
    /// Starts the client; stderr is appended to `stderr_log`, stdout copied
    /// to `stdout_copy`.
    pub fn start(
        label: &str,
        command: &CommandLine,
        stderr_log: &Path,
        stdout_copy: &Path,
    ) -> Result<Self, HarnessError> {
        Ok(Self {
            lines: LineClient::start(label, command, stderr_log, stdout_copy)?,
            calls: Vec::new(),
        })
    }

    /// Where its stderr goes.
    pub fn stderr_log(&self) -> &Path {
        &self.lines.stderr_log
    }

    /// Whether the client has ended (without waiting).
    pub fn has_exited(&mut self) -> Result<bool, HarnessError> {
        Ok(self.lines.process.try_exit()?.is_some())
    }

    /// The next call record, or `None` once the client closed stdout.
    pub fn next_call(
        &mut self,
        deadline: &Deadline,
        waiting_for: &str,
    ) -> Result<Option<Call>, HarnessError> {
        let Some(line) = self.lines.next_text(deadline, waiting_for)? else {
            return Ok(None);
        };
        let record: CallRecord = serde_json::from_str(&line.text).map_err(|error| {
            HarnessError::PeerFailed(format!(
                "{} printed a line that is not a JSON call record ({error}): {}",
                self.lines.label,
                shorten(&line.text, 200)
            ))
        })?;
        let call = Call {
            record,
            at: line.at,
            wall: line.wall,
        };
        self.calls.push(call.clone());
        Ok(Some(call))
    }

    /// Ends a client that runs until stopped (`--rounds 0`): SIGTERM, then
    /// its remaining calls and its exit, as [`ClientProcess::finish`]. One
    /// that ignores SIGTERM for `grace` is killed.
    pub fn terminate(
        mut self,
        grace: Duration,
        deadline: &Deadline,
    ) -> Result<ClientRun, HarnessError> {
        let process = &mut self.lines.process;
        process.signal(Signal::Term)?;
        let until = Instant::now() + grace;
        while process.try_exit()?.is_none() {
            if Instant::now() >= until {
                process.kill();
                break;
            }
            deadline.nap(&format!("the {} to exit after SIGTERM", self.lines.label))?;
        }
        self.finish(deadline)
    }

    /// Reads the remaining calls and waits for the client to exit.
    pub fn finish(mut self, deadline: &Deadline) -> Result<ClientRun, HarnessError> {
        let waiting_for = format!("the {} to finish", self.lines.label);
        while self.next_call(deadline, &waiting_for)?.is_some() {}
        let status = self.lines.process.wait(deadline)?;
        Ok(ClientRun {
            label: self.lines.label.clone(),
            calls: std::mem::take(&mut self.calls),
            status,
            last_words: last_line(&self.lines.stderr_log),
        })
    }
}

/// A client whose stdout is plain text lines (a `thrifttest-client`), read
/// as they are printed.
pub struct LineClient {
    process: Process,
    stdout: LineStream,
    stderr_log: PathBuf,
    label: String,
    lines: Vec<Line>,
}

/// How a [`LineClient`] run ended.
#[derive(Debug)]
pub struct LineRun {
    /// The name the client was started under.
    pub label: String,
    /// Every line it printed on stdout.
    pub lines: Vec<Line>,
    /// How it exited.
    pub status: ExitStatus,
    /// Where its stderr went.
    pub stderr_log: PathBuf,
}

impl LineClient {
    /// Starts the client; stderr is appended to `stderr_log`, stdout copied
    /// to `stdout_copy`.
    pub fn start(
        label: &str,
        command: &CommandLine,
        stderr_log: &Path,
        stdout_copy: &Path,
    ) -> Result<Self, HarnessError> {
        let copy = File::create(stdout_copy).map_err(|source| HarnessError::WriteFile {
            path: stdout_copy.to_owned(),
            source,
        })?;
        let mut process = Process::spawn(label, command, Stdio::piped(), stderr_log)?;
        let stdout = process
            .take_stdout()
            .ok_or_else(|| missing_pipe(label, "stdout"))?;
        Ok(Self {
            process,
            stdout: LineStream::spawn(stdout, Some(copy)),
            stderr_log: stderr_log.to_owned(),
            label: label.to_owned(),
            lines: Vec::new(),
        })
    }

    /// The next non-empty line, or `None` once the client closed stdout.
    pub fn next_line(
        &mut self,
        deadline: &Deadline,
        waiting_for: &str,
    ) -> Result<Option<Line>, HarnessError> {
        let line = self.next_text(deadline, waiting_for)?;
        if let Some(line) = &line {
            self.lines.push(line.clone());
        }
        Ok(line)
    }

    /// [`LineClient::next_line`] without keeping the line (a
    /// [`ClientProcess`] keeps its parsed calls instead).
    fn next_text(
        &mut self,
        deadline: &Deadline,
        waiting_for: &str,
    ) -> Result<Option<Line>, HarnessError> {
        loop {
            let Some(line) = self.stdout.next(deadline, waiting_for)? else {
                return Ok(None);
            };
            if !line.text.trim().is_empty() {
                return Ok(Some(line));
            }
        }
    }

    /// Reads the remaining lines and waits for the client to exit.
    pub fn finish(mut self, deadline: &Deadline) -> Result<LineRun, HarnessError> {
        let waiting_for = format!("the {} to finish", self.label);
        while self.next_line(deadline, &waiting_for)?.is_some() {}
        let status = self.process.wait(deadline)?;
        Ok(LineRun {
            label: self.label.clone(),
            lines: std::mem::take(&mut self.lines),
            status,
            stderr_log: self.stderr_log.clone(),
        })
    }
}
