//! CPU pinning for the latency sections: the clients on one CPU, the
//! servers on another.
//!
//! Left to the scheduler, a server process and its client sometimes share a
//! CPU and sometimes do not, and that choice tends to hold for a whole run:
//! on a 2-CPU machine it moved one server's median against another's by
//! 15-20 % from run to run, more than any difference between the servers.
//! Pinned, every server gets the same seat. Throughput runs are not pinned:
//! they are about using every CPU.
//!
//! Done with `taskset` (util-linux) so no unsafe code is needed: servers and
//! peer clients are started under it, and the measuring thread of this
//! process is moved with `taskset -p`.

use std::fs;
use std::path::PathBuf;
use std::process::Command;

use thrift_frame_harness::CommandLine;

use crate::BenchError;

/// Which CPU the clients use and which the servers use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pinning {
    pub client_cpu: usize,
    pub server_cpu: usize,
}

impl Pinning {
    /// The first two CPUs this process may run on, if there are two and
    /// `taskset` is there; `None` otherwise (the run is then unpinned).
    pub fn detect() -> Option<Pinning> {
        let cpus = allowed_cpus()?;
        let taskset_works = Command::new("taskset")
            .arg("--version")
            .output()
            .is_ok_and(|out| out.status.success());
        match cpus.as_slice() {
            [client_cpu, server_cpu, ..] if taskset_works => Some(Pinning {
                client_cpu: *client_cpu,
                server_cpu: *server_cpu,
            }),
            _ => None,
        }
    }

    /// `command`, run on `cpu` through `taskset` (which execs it: same
    /// pid); with no CPU, `command` as it is.
    pub fn on_cpu(cpu: Option<usize>, command: CommandLine) -> CommandLine {
        let Some(cpu) = cpu else {
            return command;
        };
        let mut args = vec![
            "--cpu-list".to_owned(),
            cpu.to_string(),
            command.program.display().to_string(),
        ];
        args.extend(command.args);
        CommandLine {
            program: PathBuf::from("taskset"),
            args,
        }
    }
}

/// Moves the calling thread to `cpu`; the returned guard moves it back to
/// every CPU the process may use when dropped. Threads it starts meanwhile
/// inherit the pinning.
pub fn pin_this_thread(cpu: usize) -> Result<ThreadPin, BenchError> {
    let previous = allowed_cpu_list()
        .ok_or_else(|| BenchError::Invalid("cannot read Cpus_allowed_list".into()))?;
    set_thread_cpus(&cpu.to_string())?;
    Ok(ThreadPin { previous })
}

/// See [`pin_this_thread`].
#[must_use = "the thread is unpinned when this is dropped"]
pub struct ThreadPin {
    previous: String,
}

impl Drop for ThreadPin {
    fn drop(&mut self) {
        // Best effort: a thread left pinned only makes later sections slower.
        let _ = set_thread_cpus(&self.previous);
    }
}

fn set_thread_cpus(list: &str) -> Result<(), BenchError> {
    let tid = thread_id()?;
    let status = Command::new("taskset")
        .args(["--pid", "--cpu-list", list, &tid])
        .stdout(std::process::Stdio::null())
        .status()
        .map_err(|e| BenchError::io("running taskset", e))?;
    if status.success() {
        Ok(())
    } else {
        Err(BenchError::Invalid(format!(
            "taskset --pid --cpu-list {list} {tid}: {status}"
        )))
    }
}

/// The calling thread's id, from the /proc/thread-self link (`<pid>/task/<tid>`).
fn thread_id() -> Result<String, BenchError> {
    let link = fs::read_link("/proc/thread-self")
        .map_err(|e| BenchError::io("reading /proc/thread-self", e))?;
    link.file_name()
        .map(|tid| tid.to_string_lossy().into_owned())
        .ok_or_else(|| BenchError::Invalid(format!("odd /proc/thread-self: {}", link.display())))
}

/// `Cpus_allowed_list` of this thread, as the kernel writes it (`0-1,4`).
fn allowed_cpu_list() -> Option<String> {
    let status = fs::read_to_string("/proc/thread-self/status").ok()?;
    status
        .lines()
        .find_map(|line| line.strip_prefix("Cpus_allowed_list:"))
        .map(|list| list.trim().to_owned())
}

fn allowed_cpus() -> Option<Vec<usize>> {
    parse_cpu_list(&allowed_cpu_list()?)
}

/// `0-2,5` -> [0, 1, 2, 5]; `None` if malformed.
fn parse_cpu_list(list: &str) -> Option<Vec<usize>> {
    let mut cpus = Vec::new();
    for part in list.split(',').filter(|p| !p.is_empty()) {
        match part.split_once('-') {
            Some((first, last)) => {
                let (first, last): (usize, usize) = (first.parse().ok()?, last.parse().ok()?);
                cpus.extend(first..=last);
            }
            None => cpus.push(part.parse().ok()?),
        }
    }
    Some(cpus)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu_lists_as_the_kernel_writes_them() {
        assert_eq!(parse_cpu_list("0-1"), Some(vec![0, 1]));
        assert_eq!(parse_cpu_list("0,2-4,7"), Some(vec![0, 2, 3, 4, 7]));
        assert_eq!(parse_cpu_list("3"), Some(vec![3]));
        assert_eq!(parse_cpu_list("0-x"), None);
    }

    #[test]
    fn servers_run_under_taskset_with_their_own_arguments() {
        let command = CommandLine {
            program: PathBuf::from("/x/ping-server"),
            args: vec!["--port".into(), "0".into()],
        };
        let unpinned = Pinning::on_cpu(None, command.clone());
        assert_eq!(
            (unpinned.program, unpinned.args),
            (command.program.clone(), command.args.clone())
        );
        let pinned = Pinning::on_cpu(Some(1), command);
        assert_eq!(pinned.program, PathBuf::from("taskset"));
        assert_eq!(
            pinned.args,
            ["--cpu-list", "1", "/x/ping-server", "--port", "0"]
        );
    }

    #[test]
    fn pinning_this_thread_shows_in_its_allowed_list_and_is_undone() {
        let Some(pinning) = Pinning::detect() else {
            return; // one CPU or no taskset: nothing to pin
        };
        let before = allowed_cpu_list().expect("list");
        // A thread of its own, so other tests' threads are not moved.
        std::thread::spawn(move || {
            let guard = pin_this_thread(pinning.server_cpu).expect("pin");
            assert_eq!(
                allowed_cpu_list().expect("list"),
                pinning.server_cpu.to_string()
            );
            drop(guard);
            assert_eq!(allowed_cpu_list().expect("list"), before);
        })
        .join()
        .expect("pinning thread");
    }
}
