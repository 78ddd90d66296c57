//! CPU time per call: of a server process (and of the raw TCP floor's),
//! from outside it, and of this thread (the Rust client of the latency
//! cells).
//!
//! A server's figure is the sum over its threads (and over the threads of
//! any process it started, see [`snapshot`]) of the first field of
//! `/proc/<pid>/task/<tid>/schedstat`: the nanoseconds each thread has
//! spent on a CPU, user and kernel time together. A snapshot just before a
//! call and one just after it give that call's CPU. In the latency cells
//! every other server is idle while one is called and each server serves
//! only its own client, so the difference is the call's.
//!
//! Not `/proc/<pid>/stat`'s `utime + stime`: those count clock ticks (10 ms
//! at USER_HZ 100), and a call costs 100-300 µs of CPU, so nearly every
//! call would read 0 and a few 10 ms.
//!
//! schedstat has one catch: a thread's figure is brought up to date when
//! it leaves the CPU (or at a scheduler tick), not while it runs, so a
//! thread still running when it is read shows the time it had when it last
//! went on. A server sends its reply before it is done with the call
//! (returning from the write, freeing the request, going back to read), so
//! right after the reply arrives it is often still running. The snapshot
//! after a call is therefore taken once no thread of the server is running
//! or runnable ([`settled`]): then every figure is current, and the call's
//! tail is in it. If that does not happen within the limit, the call has
//! no figure rather than a wrong one.
//!
//! If a thread present before a call is gone after it, its time since the
//! first snapshot is lost with it: that call's figure would be too small,
//! so it has none ([`CpuSnapshot::since`]). Threads that appear during the
//! call count whole (all their time is the call's).

use std::collections::BTreeMap;
use std::fs;
use std::time::{Duration, Instant};

use crate::BenchError;

/// On-CPU time of each thread of a process tree at one moment.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CpuSnapshot {
    /// Thread id -> nanoseconds on a CPU so far.
    threads: BTreeMap<u32, u64>,
    /// Threads that were running or runnable (state `R`) when read.
    running: usize,
}

impl CpuSnapshot {
    /// A snapshot of the given threads (tid, nanoseconds) of which
    /// `running` were running or runnable.
    pub fn from_threads(threads: impl IntoIterator<Item = (u32, u64)>, running: usize) -> Self {
        CpuSnapshot {
            threads: threads.into_iter().collect(),
            running,
        }
    }

    /// Whether no thread was running or runnable when it was taken, so
    /// every thread's figure was current.
    pub fn is_idle(&self) -> bool {
        self.running == 0
    }

    /// The threads seen.
    pub fn thread_count(&self) -> usize {
        self.threads.len()
    }

    /// The sum over every thread.
    pub fn total_ns(&self) -> u64 {
        self.threads.values().sum()
    }

    /// CPU time spent between `before` and this snapshot: the sum of each
    /// thread's increase, threads new since `before` counted whole. `None`
    /// when a thread of `before` is missing here or shows less time than
    /// it did (gone, or its id reused): its share is unknown, so the
    /// figure would be an undercount.
    pub fn since(&self, before: &CpuSnapshot) -> Option<Duration> {
        let mut total: u64 = 0;
        for (tid, &was) in &before.threads {
            let now = *self.threads.get(tid)?;
            total = total.checked_add(now.checked_sub(was)?)?;
        }
        for (tid, &now) in &self.threads {
            if !before.threads.contains_key(tid) {
                total = total.checked_add(now)?;
            }
        }
        Some(Duration::from_nanos(total))
    }
}

/// The first field of a `schedstat` file (`<ns on CPU> <ns waiting> <slices>`).
pub fn parse_schedstat(text: &str) -> Option<u64> {
    text.split_whitespace().next()?.parse().ok()
}

/// The state letter of a `/proc/<pid>/task/<tid>/stat` line: the field
/// after the command name, which is in parentheses and may itself hold
/// spaces and parentheses.
pub fn parse_state(stat: &str) -> Option<char> {
    let (_, rest) = stat.rsplit_once(')')?;
    rest.trim_start().chars().next()
}

/// A snapshot of process `pid`, its threads and every process it started
/// (found through each thread's `children` list), recursively.
///
/// The peers' server commands leave the server itself as the pid the bench
/// holds (`taskset` and the Python peer's shell script both exec), so the
/// tree is that one process; the walk is there so that a wrapper which
/// forks would still be measured whole. A thread or process that ends
/// while it is read is left out. Fails when `pid` itself cannot be read.
pub fn snapshot(pid: u32) -> Result<CpuSnapshot, BenchError> {
    let mut threads = BTreeMap::new();
    let mut running = 0;
    let mut pids = vec![pid];
    while let Some(p) = pids.pop() {
        let tasks = match fs::read_dir(format!("/proc/{p}/task")) {
            Ok(tasks) => tasks,
            Err(e) if p == pid => {
                return Err(BenchError::io(format!("reading /proc/{pid}/task"), e))
            }
            Err(_) => continue,
        };
        for task in tasks.flatten() {
            let Some(tid) = task
                .file_name()
                .to_str()
                .and_then(|t| t.parse::<u32>().ok())
            else {
                continue;
            };
            let dir = task.path();
            let Some(ns) = fs::read_to_string(dir.join("schedstat"))
                .ok()
                .as_deref()
                .and_then(parse_schedstat)
            else {
                continue;
            };
            threads.insert(tid, ns);
            if let Ok(stat) = fs::read_to_string(dir.join("stat")) {
                if parse_state(&stat) == Some('R') {
                    running += 1;
                }
            }
            if let Ok(children) = fs::read_to_string(dir.join("children")) {
                pids.extend(
                    children
                        .split_whitespace()
                        .filter_map(|c| c.parse::<u32>().ok()),
                );
            }
        }
    }
    if threads.is_empty() {
        return Err(BenchError::Invalid(format!(
            "no thread of process {pid} could be read"
        )));
    }
    Ok(CpuSnapshot { threads, running })
}

/// A snapshot of `pid` once none of its threads is running or runnable,
/// trying for up to `limit`; the last one taken if that never happens (see
/// [`CpuSnapshot::is_idle`]).
pub fn settled(pid: u32, limit: Duration) -> Result<CpuSnapshot, BenchError> {
    let until = Instant::now() + limit;
    loop {
        let now = snapshot(pid)?;
        if now.is_idle() || Instant::now() >= until {
            return Ok(now);
        }
        std::thread::yield_now();
    }
}

/// How long the snapshot after a call waits for the server to finish with
/// it. A server is done a few to a few hundred microseconds after its reply
/// arrives; much longer means something else is running in it.
pub const SETTLE_LIMIT: Duration = Duration::from_millis(20);

/// The snapshot of server `pid` to take just before a call: settled (see
/// [`settled`]); `None` if the server cannot be read or is busy with
/// something else (then the call has no figure).
pub fn before_call(pid: u32) -> Option<CpuSnapshot> {
    settled(pid, SETTLE_LIMIT).ok().filter(CpuSnapshot::is_idle)
}

/// The CPU time of the call made since `before` ([`before_call`]): up to a
/// settled snapshot after it. `None` when there is no `before`, the server
/// cannot be read, did not settle within [`SETTLE_LIMIT`], or lost a
/// thread on the way ([`CpuSnapshot::since`]).
pub fn after_call(pid: u32, before: Option<&CpuSnapshot>) -> Option<Duration> {
    let before = before?;
    let after = settled(pid, SETTLE_LIMIT).ok()?;
    if after.is_idle() {
        after.since(before)
    } else {
        None
    }
}

/// This thread's CPU time so far (`CLOCK_THREAD_CPUTIME_ID`: user and
/// kernel, nanosecond resolution); `None` if the clock cannot be read.
pub fn thread_cpu_time() -> Option<Duration> {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime writes one timespec through a pointer to a
    // valid, exclusively borrowed local.
    if unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) } != 0 {
        return None;
    }
    Some(Duration::new(
        u64::try_from(ts.tv_sec).ok()?,
        u32::try_from(ts.tv_nsec).ok()?,
    ))
}

/// Runs `f` and returns its result with this thread's CPU time during it
/// (`None` if the clock could not be read).
pub fn on_this_thread<T>(f: impl FnOnce() -> T) -> (T, Option<Duration>) {
    let before = thread_cpu_time();
    let out = f();
    let after = thread_cpu_time();
    let spent = match (before, after) {
        (Some(b), Some(a)) => a.checked_sub(b),
        _ => None,
    };
    (out, spent)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn snap(threads: &[(u32, u64)]) -> CpuSnapshot {
        CpuSnapshot::from_threads(threads.iter().copied(), 0)
    }

    #[test]
    fn a_call_is_the_sum_of_each_threads_increase() {
        let before = snap(&[(10, 1_000), (11, 5_000)]);
        let after = snap(&[(10, 151_000), (11, 5_500)]);
        assert_eq!(after.since(&before), Some(Duration::from_nanos(150_500)));
        // Nothing ran: zero, not missing.
        assert_eq!(before.since(&before), Some(Duration::ZERO));
    }

    #[test]
    fn a_thread_born_during_the_call_counts_whole() {
        let before = snap(&[(10, 1_000)]);
        let after = snap(&[(10, 2_000), (12, 40_000)]);
        assert_eq!(after.since(&before), Some(Duration::from_nanos(41_000)));
    }

    #[test]
    fn a_thread_gone_after_the_call_leaves_the_call_without_a_figure() {
        let before = snap(&[(10, 1_000), (11, 5_000)]);
        // Thread 11 ended during the call: whatever it ran is unknown.
        let after = snap(&[(10, 90_000)]);
        assert_eq!(after.since(&before), None);
        // Its id reused by a new thread with less time on it: the same.
        let reused = snap(&[(10, 90_000), (11, 300)]);
        assert_eq!(reused.since(&before), None);
    }

    #[test]
    fn schedstat_and_stat_lines_as_the_kernel_writes_them() {
        assert_eq!(
            parse_schedstat("204830718 38548377 567\n"),
            Some(204_830_718)
        );
        assert_eq!(parse_schedstat(""), None);
        assert_eq!(parse_schedstat("x 1 2"), None);
        assert_eq!(
            parse_state("1234 (ping-server) S 1 1234 1234 0 -1"),
            Some('S')
        );
        // A command name with spaces and parentheses of its own.
        assert_eq!(parse_state("77 (a) b (c)) R 1 77"), Some('R'));
        assert_eq!(parse_state("77 no parens"), None);
    }

    #[test]
    fn snapshots_of_a_live_process_tree_see_its_children_and_their_cpu() {
        use std::io::{BufRead, BufReader};
        // A shell that starts a busy child and waits for it: the shell
        // itself is idle, the CPU is spent in its child.
        let mut shell = std::process::Command::new("sh")
            .args(["-c", "sh -c 'while :; do :; done' & echo $!; wait"])
            .stdout(std::process::Stdio::piped())
            .spawn()
            .expect("sh");
        let mut line = String::new();
        BufReader::new(shell.stdout.take().expect("stdout"))
            .read_line(&mut line)
            .expect("the child's pid");
        let child: i32 = line.trim().parse().expect("a pid");
        let pid = shell.id();
        std::thread::sleep(Duration::from_millis(50));
        let first = snapshot(pid);
        std::thread::sleep(Duration::from_millis(100));
        let second = snapshot(pid);
        // SAFETY: kill(2) on the child this test started.
        unsafe { libc::kill(child, libc::SIGKILL) };
        let _ = shell.kill();
        let _ = shell.wait();
        let (first, second) = (first.expect("snapshot"), second.expect("snapshot"));
        assert!(first.thread_count() >= 2, "{first:?}: the child is in it");
        let spent = second.since(&first).expect("no thread vanished");
        assert!(
            spent >= Duration::from_millis(20),
            "the busy child ran, {spent:?}"
        );
        assert!(!second.is_idle(), "the busy child is running");
        assert!(snapshot(u32::MAX).is_err());
    }

    #[test]
    fn this_threads_cpu_time_grows_with_work_and_not_with_sleep() {
        let (_, busy) = on_this_thread(|| {
            let mut a = 0u64;
            for i in 0..5_000_000u64 {
                a = std::hint::black_box(a ^ i);
            }
            a
        });
        let (_, idle) = on_this_thread(|| std::thread::sleep(Duration::from_millis(50)));
        let (busy, idle) = (busy.expect("clock"), idle.expect("clock"));
        assert!(idle < Duration::from_millis(5), "{idle:?}");
        assert!(busy > idle, "{busy:?} vs {idle:?}");
    }
}
