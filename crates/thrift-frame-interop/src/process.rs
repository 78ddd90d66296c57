//! Child processes for the cases. Every [`Process`] is killed and reaped
//! when dropped, whatever path a case takes out (pass, failure, timeout,
//! Ctrl-C). Servers are ready once they have printed `LISTENING <port>` and
//! accept a TCP connection; the runner never sleeps to wait for readiness.

use std::fmt;
use std::fs::{self, File, OpenOptions};
use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4, TcpStream, ToSocketAddrs};
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdout, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread;
use std::time::{Duration, Instant, SystemTime};

use serde::Deserialize;

use crate::{CaseError, Error};

/// Every peer is driven on loopback only.
pub const HOST: Ipv4Addr = Ipv4Addr::LOCALHOST;

/// How often waits wake up to look at the deadline and the Ctrl-C flag.
const POLL: Duration = Duration::from_millis(10);

/// Connect timeout of one readiness probe.
const PROBE_TIMEOUT: Duration = Duration::from_millis(200);

/// Held while a child is forked (until it has exec'd: `spawn` waits for
/// that) and while a reserved port is closed. A child forked by another
/// thread holds a copy of every descriptor, close-on-exec or not, until its
/// exec; on a loaded machine that can take long enough for a server to find
/// a released port still bound (`server_late_start`). Under this lock no
/// such half-started child exists when the port is closed.
static FORK_LOCK: Mutex<()> = Mutex::new(());

/// When a case must be over, and whether the user asked to stop.
#[derive(Debug, Clone)]
pub struct Deadline {
    at: Instant,
    interrupted: Arc<AtomicBool>,
}

impl Deadline {
    pub fn after(timeout: Duration, interrupted: Arc<AtomicBool>) -> Self {
        Self {
            at: Instant::now() + timeout,
            interrupted,
        }
    }

    /// Fails with `Interrupted` or `TimedOut` (naming what was awaited).
    pub fn check(&self, waiting_for: &str) -> Result<(), CaseError> {
        if self.interrupted.load(Ordering::Relaxed) {
            return Err(CaseError::Interrupted);
        }
        if Instant::now() >= self.at {
            return Err(CaseError::TimedOut(format!("waiting for {waiting_for}")));
        }
        Ok(())
    }

    /// When it expires.
    pub fn at(&self) -> Instant {
        self.at
    }

    fn remaining(&self) -> Duration {
        self.at.saturating_duration_since(Instant::now())
    }

    /// One short wait inside a polling loop.
    pub fn nap(&self, waiting_for: &str) -> Result<(), CaseError> {
        self.check(waiting_for)?;
        thread::sleep(POLL.min(self.remaining()));
        Ok(())
    }

    /// A deliberate pause (such as an outage) that Ctrl-C still cuts short.
    pub fn pause(&self, length: Duration, why: &str) -> Result<(), CaseError> {
        let until = Instant::now() + length;
        while Instant::now() < until {
            self.nap(why)?;
        }
        Ok(())
    }
}

/// A program and its arguments, printable for the cell's journal so a
/// failing cell can be reproduced by hand.
#[derive(Debug, Clone)]
pub struct CommandLine {
    pub program: PathBuf,
    pub args: Vec<String>,
}

impl fmt::Display for CommandLine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.program.display())?;
        for arg in &self.args {
            write!(f, " {arg}")?;
        }
        Ok(())
    }
}

/// The signals the cases send.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Signal {
    Term,
    Kill,
    Stop,
    Cont,
}

impl Signal {
    fn number(self) -> libc::c_int {
        match self {
            Signal::Term => libc::SIGTERM,
            Signal::Kill => libc::SIGKILL,
            Signal::Stop => libc::SIGSTOP,
            Signal::Cont => libc::SIGCONT,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Signal::Term => "SIGTERM",
            Signal::Kill => "SIGKILL",
            Signal::Stop => "SIGSTOP",
            Signal::Cont => "SIGCONT",
        }
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
fn open_log(path: &Path) -> Result<File, Error> {
    OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .map_err(|source| Error::WriteFile {
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
    ) -> Result<Self, Error> {
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
        let child = builder.spawn().map_err(|source| Error::Spawn {
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

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    fn take_stdout(&mut self) -> Option<ChildStdout> {
        self.child.stdout.take()
    }

    /// Sends `signal` to the child's process group. Once the child has been
    /// reaped its pid may belong to someone else, so nothing is sent then.
    pub fn signal(&mut self, signal: Signal) -> Result<(), Error> {
        if self.exit.is_some() {
            return Ok(());
        }
        let pid = self.pid();
        let group = libc::pid_t::try_from(pid).map_err(|_| Error::Signal {
            signal: signal.name(),
            label: self.label.clone(),
            pid,
            source: io::Error::from(io::ErrorKind::InvalidInput),
        })?;
        // SAFETY: kill(2) has no memory-safety preconditions; the group is
        // led by our unreaped child, so its id cannot have been reused.
        if unsafe { libc::kill(-group, signal.number()) } == -1 {
            return Err(Error::Signal {
                signal: signal.name(),
                label: self.label.clone(),
                pid,
                source: io::Error::last_os_error(),
            });
        }
        Ok(())
    }

    /// The exit status, if the child has ended (reaping it).
    pub fn try_exit(&mut self) -> Result<Option<ExitStatus>, Error> {
        if self.exit.is_none() {
            self.exit = self.child.try_wait().map_err(|source| Error::Io {
                what: format!("waiting for {}", self.label),
                source,
            })?;
        }
        Ok(self.exit)
    }

    /// Waits for the child to end on its own.
    pub fn wait(&mut self, deadline: &Deadline) -> Result<ExitStatus, CaseError> {
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

/// A line a child printed, stamped when the runner read it.
#[derive(Debug, Clone)]
pub struct Line {
    pub text: String,
    pub at: Instant,
    /// The same moment on the wall clock, to line it up with other
    /// processes' logs (the fault suite compares it with the server's).
    pub wall: SystemTime,
}

/// A child's stdout, read line by line on a thread of its own (so a child
/// never blocks on a full pipe) and copied to a file as it arrives.
pub struct LineStream {
    lines: Receiver<Line>,
}

impl LineStream {
    pub fn spawn(source: impl Read + Send + 'static, mut copy: Option<File>) -> Self {
        let (sender, lines) = mpsc::channel();
        thread::spawn(move || {
            let mut reader = BufReader::new(source);
            let mut raw = Vec::new();
            loop {
                raw.clear();
                match reader.read_until(b'\n', &mut raw) {
                    Ok(0) | Err(_) => break,
                    Ok(_) => {}
                }
                let (at, wall) = (Instant::now(), SystemTime::now());
                if let Some(file) = copy.as_mut() {
                    // The copy is for people reading logs; losing it must
                    // not stop the case.
                    let _ = file.write_all(&raw);
                }
                let text = String::from_utf8_lossy(&raw).trim_end().to_owned();
                if sender.send(Line { text, at, wall }).is_err() {
                    break;
                }
            }
        });
        Self { lines }
    }

    /// The next line, or `None` once the child closed its stdout.
    pub fn next(&self, deadline: &Deadline, waiting_for: &str) -> Result<Option<Line>, CaseError> {
        loop {
            deadline.check(waiting_for)?;
            match self.lines.recv_timeout(Duration::from_millis(50)) {
                Ok(line) => return Ok(Some(line)),
                Err(RecvTimeoutError::Timeout) => {}
                Err(RecvTimeoutError::Disconnected) => return Ok(None),
            }
        }
    }
}

/// A running `ping-server` that has announced its port and accepts connections.
pub struct ServerProcess {
    process: Process,
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
    ) -> Result<Self, CaseError> {
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
    ) -> Result<Self, CaseError> {
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
                        CaseError::Unsupported(format!("{label} exited 2: {why}"))
                    } else {
                        CaseError::Failed(format!(
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
                return Err(CaseError::Failed(format!(
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

    pub fn signal(&mut self, signal: Signal) -> Result<(), Error> {
        self.process.signal(signal)
    }

    pub fn pid(&self) -> u32 {
        self.process.pid()
    }

    pub fn kill(&mut self) {
        self.process.kill();
    }

    /// Stops it the polite way first; see [`Process::stop`].
    pub fn stop(&mut self, grace: Duration) -> Option<ExitStatus> {
        self.process.stop(grace)
    }
}

fn parse_listening(line: &str) -> Option<u16> {
    line.trim().strip_prefix("LISTENING ")?.trim().parse().ok()
}

fn missing_pipe(label: &str, which: &str) -> Error {
    Error::Io {
        what: format!("reading the {label}'s {which}"),
        source: io::Error::from(io::ErrorKind::BrokenPipe),
    }
}

/// One JSON line of `ping-client --json` (interop/SPEC.md); only the fields
/// the cases judge by are required.
#[derive(Debug, Clone, Deserialize)]
pub struct CallRecord {
    pub ok: bool,
    #[serde(default)]
    pub error: Option<String>,
    pub reconnects: u64,
    #[serde(default)]
    pub round: Option<u64>,
    #[serde(default)]
    pub size: Option<u64>,
    #[serde(default)]
    pub latency_ns: Option<u64>,
}

/// A call record and when the runner read it.
#[derive(Debug, Clone)]
pub struct Call {
    pub record: CallRecord,
    pub at: Instant,
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

/// A running `ping-client --json`.
pub struct ClientProcess {
    process: Process,
    stdout: LineStream,
    stderr_log: PathBuf,
    label: String,
    calls: Vec<Call>,
}

/// How a client run ended.
#[derive(Debug)]
pub struct ClientRun {
    pub label: String,
    pub calls: Vec<Call>,
    pub status: ExitStatus,
    /// The last line of its stderr.
    pub last_words: String,
}

impl ClientRun {
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
    ) -> Result<Self, Error> {
        let copy = File::create(stdout_copy).map_err(|source| Error::WriteFile {
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
            calls: Vec::new(),
        })
    }

    pub fn stderr_log(&self) -> &Path {
        &self.stderr_log
    }

    /// Whether the client has ended (without waiting).
    pub fn has_exited(&mut self) -> Result<bool, Error> {
        Ok(self.process.try_exit()?.is_some())
    }

    /// The next call record, or `None` once the client closed stdout.
    pub fn next_call(
        &mut self,
        deadline: &Deadline,
        waiting_for: &str,
    ) -> Result<Option<Call>, CaseError> {
        loop {
            let Some(line) = self.stdout.next(deadline, waiting_for)? else {
                return Ok(None);
            };
            if line.text.trim().is_empty() {
                continue;
            }
            let record: CallRecord = serde_json::from_str(&line.text).map_err(|error| {
                CaseError::Failed(format!(
                    "{} printed a line that is not a JSON call record ({error}): {}",
                    self.label,
                    shorten(&line.text, 200)
                ))
            })?;
            let call = Call {
                record,
                at: line.at,
                wall: line.wall,
            };
            self.calls.push(call.clone());
            return Ok(Some(call));
        }
    }

    /// Ends a client that runs until stopped (`--rounds 0`): SIGTERM, then
    /// its remaining calls and its exit, as [`ClientProcess::finish`]. One
    /// that ignores SIGTERM for `grace` is killed.
    pub fn terminate(
        mut self,
        grace: Duration,
        deadline: &Deadline,
    ) -> Result<ClientRun, CaseError> {
        self.process.signal(Signal::Term)?;
        let until = Instant::now() + grace;
        while self.process.try_exit()?.is_none() {
            if Instant::now() >= until {
                self.process.kill();
                break;
            }
            deadline.nap(&format!("the {} to exit after SIGTERM", self.label))?;
        }
        self.finish(deadline)
    }

    /// Reads the remaining calls and waits for the client to exit.
    pub fn finish(mut self, deadline: &Deadline) -> Result<ClientRun, CaseError> {
        let waiting_for = format!("the {} to finish", self.label);
        while self.next_call(deadline, &waiting_for)?.is_some() {}
        let status = self.process.wait(deadline)?;
        Ok(ClientRun {
            label: self.label.clone(),
            calls: std::mem::take(&mut self.calls),
            status,
            last_words: last_line(&self.stderr_log),
        })
    }
}

/// Whether `host:port` accepts a TCP connection now. The name is resolved
/// on every call: a restarted container may come back on a new address.
pub fn accepts_tcp(host: &str, port: u16) -> bool {
    match (host, port).to_socket_addrs() {
        Ok(addresses) => addresses
            .into_iter()
            .any(|address| TcpStream::connect_timeout(&address, PROBE_TIMEOUT).is_ok()),
        Err(_) => false,
    }
}

/// Polls until `host:port` accepts a TCP connection; returns when it first
/// did. Readiness of a server the runner did not start (remote mode).
pub fn wait_for_tcp(
    host: &str,
    port: u16,
    deadline: &Deadline,
    waiting_for: &str,
) -> Result<Instant, CaseError> {
    loop {
        if accepts_tcp(host, port) {
            return Ok(Instant::now());
        }
        deadline.nap(waiting_for)?;
    }
}

/// Runs `sh -c <command>` to the end, its stdout and stderr appended to
/// `log`; returns its exit status.
pub fn run_shell(
    label: &str,
    command: &str,
    log: &Path,
    deadline: &Deadline,
) -> Result<ExitStatus, CaseError> {
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
) -> Result<(ExitStatus, String), CaseError> {
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

/// A port that is bound but not listening: connects to it are refused, and
/// no other process can take it until [`PortReservation::release`].
pub struct PortReservation {
    socket: socket2::Socket,
    port: u16,
}

impl PortReservation {
    pub fn new() -> Result<Self, Error> {
        let io_error = |source| Error::Io {
            what: "reserving a free port".into(),
            source,
        };
        let socket = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None)
            .map_err(io_error)?;
        let address = SocketAddr::V4(SocketAddrV4::new(HOST, 0));
        socket.bind(&address.into()).map_err(io_error)?;
        let port = socket
            .local_addr()
            .map_err(io_error)?
            .as_socket()
            .map(|address| address.port())
            .ok_or_else(|| io_error(io::Error::from(io::ErrorKind::AddrNotAvailable)))?;
        Ok(Self { socket, port })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// Frees the port for the server that is about to bind it.
    pub fn release(self) {
        let _no_child_forking = FORK_LOCK.lock().unwrap_or_else(PoisonError::into_inner);
        drop(self.socket);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn never_interrupted() -> Arc<AtomicBool> {
        Arc::new(AtomicBool::new(false))
    }

    fn alive(pid: u32) -> bool {
        Path::new(&format!("/proc/{pid}")).exists()
    }

    #[test]
    fn listening_lines() {
        assert_eq!(parse_listening("LISTENING 40123"), Some(40123));
        assert_eq!(parse_listening("LISTENING 9091\r"), Some(9091));
        assert_eq!(parse_listening("LISTENING"), None);
        assert_eq!(parse_listening("listening 1"), None);
        assert_eq!(parse_listening("LISTENING 70000"), None);
    }

    #[test]
    fn dropping_a_process_kills_and_reaps_it() {
        let dir = std::env::temp_dir().join(format!("interop-process-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        let command = CommandLine {
            program: "sleep".into(),
            args: vec!["30".into()],
        };
        let process = Process::spawn("sleeper", &command, Stdio::null(), &dir.join("e")).unwrap();
        let pid = process.pid();
        assert!(alive(pid));
        drop(process);
        // Reaped, not a zombie: /proc has no entry left.
        assert!(!alive(pid));
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_server_that_exits_2_is_unsupported_and_the_deadline_bounds_waits() {
        let dir = std::env::temp_dir().join(format!("interop-server-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        let usage = CommandLine {
            program: "sh".into(),
            args: vec!["-c".into(), "echo 'no such model' >&2; exit 2".into()],
        };
        let deadline = Deadline::after(Duration::from_secs(10), never_interrupted());
        let log = dir.join("usage.log");
        match ServerProcess::start("server", &usage, &log, &deadline) {
            Err(CaseError::Unsupported(why)) => assert!(why.contains("no such model"), "{why}"),
            other => panic!("expected Unsupported, got {:?}", other.err()),
        }

        let silent = CommandLine {
            program: "sleep".into(),
            args: vec!["30".into()],
        };
        let deadline = Deadline::after(Duration::from_millis(200), never_interrupted());
        let started = Instant::now();
        let result = ServerProcess::start("server", &silent, &dir.join("silent.log"), &deadline);
        assert!(matches!(result, Err(CaseError::TimedOut(_))));
        assert!(started.elapsed() < Duration::from_secs(5));
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_reserved_port_refuses_connections() {
        let reservation = PortReservation::new().unwrap();
        let address = SocketAddr::V4(SocketAddrV4::new(HOST, reservation.port()));
        let error = TcpStream::connect_timeout(&address, Duration::from_secs(1)).unwrap_err();
        assert_eq!(error.kind(), io::ErrorKind::ConnectionRefused);
        reservation.release();
    }

    #[test]
    fn tcp_readiness_is_a_connect_and_the_deadline_bounds_it() {
        let listener = std::net::TcpListener::bind((HOST, 0)).unwrap();
        let port = listener.local_addr().unwrap().port();
        assert!(accepts_tcp("localhost", port));
        let deadline = Deadline::after(Duration::from_secs(5), never_interrupted());
        assert!(wait_for_tcp("127.0.0.1", port, &deadline, "the listener").is_ok());

        let reservation = PortReservation::new().unwrap();
        assert!(!accepts_tcp("127.0.0.1", reservation.port()));
        assert!(!accepts_tcp("no-such-host.invalid", reservation.port()));
        let deadline = Deadline::after(Duration::from_millis(100), never_interrupted());
        let started = Instant::now();
        let result = wait_for_tcp("127.0.0.1", reservation.port(), &deadline, "nobody");
        assert!(matches!(result, Err(CaseError::TimedOut(ref why)) if why.contains("nobody")));
        assert!(started.elapsed() < Duration::from_secs(5));
        reservation.release();
    }

    #[test]
    fn shell_commands_log_their_output_and_report_their_status() {
        let dir = std::env::temp_dir().join(format!("interop-shell-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        let log = dir.join("restart.log");
        let deadline = Deadline::after(Duration::from_secs(10), never_interrupted());
        let status = run_shell("ok", "echo out; echo err >&2", &log, &deadline).unwrap();
        assert!(status.success());
        let status = run_shell("fails", "exit 3", &log, &deadline).unwrap();
        assert_eq!(status.code(), Some(3));
        let text = fs::read_to_string(&log).unwrap();
        assert!(text.contains("out") && text.contains("err"), "{text}");
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn last_line_prefers_the_error() {
        let dir = std::env::temp_dir().join(format!("interop-lastline-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        let log = dir.join("usage.log");
        fs::write(
            &log,
            "error: bad --server\n\nUsage: x\nFor more information, try '--help'.\n",
        )
        .unwrap();
        assert_eq!(last_line(&log), "error: bad --server");
        fs::write(&log, "starting\ncannot bind: address in use\n\n").unwrap();
        assert_eq!(last_line(&log), "cannot bind: address in use");
        assert_eq!(last_line(&dir.join("missing.log")), "(nothing on stderr)");
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn shorten_marks_the_cut() {
        assert_eq!(shorten("abcdef", 3), "abc...");
        assert_eq!(shorten("abc", 3), "abc");
        assert_eq!(shorten("ééé", 2), "éé...");
    }
}
