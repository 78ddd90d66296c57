//! Short commands run to their end: shell commands given by the user
//! (`--restart-cmd`) and tools whose output is the answer.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{ExitStatus, Stdio};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::thread;

use crate::deadline::POLL;
use crate::process::{missing_pipe, open_log};
use crate::{CommandLine, Deadline, HarnessError, Process};

/// Runs `sh -c <command>` to the end, its stdout and stderr appended to
/// `log`; returns its exit status.
pub fn run_shell(
    label: &str,
    command: &str,
    log: &Path,
    deadline: &Deadline,
) -> Result<ExitStatus, HarnessError> {
    let stdout = open_log(log)?;
    let line = CommandLine {
        program: PathBuf::from("sh"),
        args: vec!["-c".to_owned(), command.to_owned()],
    };
    let mut process = Process::spawn(label, &line, Stdio::from(stdout), log)?;
    process.wait(deadline)
}

/// Runs `command` to the end and returns its exit status and its stdout;
/// its stderr is appended to `log`. For short commands whose output is
/// the answer (`tc -s qdisc show`, `ss`), so the output must be small.
pub fn run_capture(
    label: &str,
    command: &CommandLine,
    log: &Path,
    deadline: &Deadline,
) -> Result<(ExitStatus, String), HarnessError> {
    let mut process = Process::spawn(label, command, Stdio::piped(), log)?;
    let mut stdout = process
        .take_stdout()
        .ok_or_else(|| missing_pipe(label, "stdout"))?;
    // Read on a thread of its own, so a command that never ends is still
    // bounded by the deadline (dropping the process kills it, which closes
    // the pipe and ends the reader).
    let (sender, received) = mpsc::channel();
    thread::spawn(move || {
        let mut text = Vec::new();
        let _ = stdout.read_to_end(&mut text);
        let _ = sender.send(text);
    });
    let status = process.wait(deadline)?;
    let waiting_for = format!("the output of {label}");
    let text = loop {
        match received.recv_timeout(POLL) {
            Ok(text) => break text,
            Err(RecvTimeoutError::Timeout) => deadline.check(&waiting_for)?,
            Err(RecvTimeoutError::Disconnected) => break Vec::new(),
        }
    };
    Ok((status, String::from_utf8_lossy(&text).into_owned()))
}
