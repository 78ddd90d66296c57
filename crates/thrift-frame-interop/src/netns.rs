//! The fault suite's network: three network namespaces per [`Topology`]
//! (client, router, server) joined by two veth pairs, and the faults, which
//! are only ever applied in the router: a blackhole (`iptables -I FORWARD
//! -j DROP`: packets vanish, no RST), its removal, and a bandwidth limit
//! (`tc qdisc ... tbf`). Every command runs as a child of the harness
//! ([`thrift_frame_harness`]), with a deadline, and is written to the topology's
//! log with its output, so a cell's network can be rebuilt by hand.
//!
//! Names are `tf-<pid>-<n>-{client,router,server}`: unique per run and per
//! cell, so cells can run side by side, each in its own topology, and a
//! later run can tell which namespaces a crashed run left behind
//! ([`remove_stale`]). The addresses are one private /24 split in two /25s,
//! and exist only inside these namespaces, so every topology uses the same
//! ones without meeting another.

use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4, TcpStream};
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use crate::{CaseError, Error};
use thrift_frame_harness::{describe_exit, last_line, run_capture, CommandLine, Deadline};

/// Every namespace the suite makes starts with this.
pub const PREFIX: &str = "tf-";

/// What the suite's binary is called: a namespace whose pid is not a live
/// process of this name belongs to a run that is gone.
pub const SUITE_PROGRAM: &str = "fault-suite";

/// Client side 10.213.7.0/25, server side 10.213.7.128/25.
pub const CLIENT_ADDRESS: Ipv4Addr = Ipv4Addr::new(10, 213, 7, 2);
pub const ROUTER_CLIENT_SIDE: Ipv4Addr = Ipv4Addr::new(10, 213, 7, 1);
pub const ROUTER_SERVER_SIDE: Ipv4Addr = Ipv4Addr::new(10, 213, 7, 129);
pub const SERVER_ADDRESS: Ipv4Addr = Ipv4Addr::new(10, 213, 7, 130);
const PREFIX_LEN: u8 = 25;

/// Interface names, the same in every topology (each lives in its own
/// namespace, so they never meet): client `c0` <-> `r0` router `r1` <-> `s0` server.
const CLIENT_IF: &str = "c0";
const ROUTER_CLIENT_IF: &str = "r0";
const ROUTER_SERVER_IF: &str = "r1";
const SERVER_IF: &str = "s0";

/// The iptables front ends tried, in order; the first that can list the
/// router's FORWARD chain is used. Both work on this kernel (nf_tables
/// and the legacy xtables); `iptables-nft` is Debian's default.
const IPTABLES_BACKENDS: [&str; 2] = ["iptables-nft", "iptables-legacy"];

/// The blackhole rule, inserted first in the router's FORWARD chain.
const DROP_RULE: [&str; 3] = ["FORWARD", "-j", "DROP"];

/// Time one `ip`, `iptables`, `tc` or `ss` command gets.
const COMMAND_TIME: Duration = Duration::from_secs(10);

/// Connect timeout of one readiness probe inside a namespace.
const PROBE_TIMEOUT: Duration = Duration::from_millis(200);

/// One named network namespace (`/run/netns/<name>`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Namespace {
    name: String,
}

impl Namespace {
    pub fn name(&self) -> &str {
        &self.name
    }

    fn path(&self) -> PathBuf {
        Path::new("/run/netns").join(&self.name)
    }

    /// `ip netns exec <name> <program> <args>`: `ip` execs the program, so
    /// the harness's pid, process group and signals are the program's.
    pub fn exec(&self, program: &Path, args: &[String]) -> CommandLine {
        let mut all = vec![
            "netns".to_owned(),
            "exec".to_owned(),
            self.name.clone(),
            program.display().to_string(),
        ];
        all.extend(args.iter().cloned());
        CommandLine {
            program: PathBuf::from("ip"),
            args: all,
        }
    }

    /// Whether `address` accepts a TCP connection from inside this
    /// namespace: a readiness probe for a server that lives here. The
    /// connect runs on a thread of its own that joins the namespace
    /// (setns(2) moves only the calling thread) and then ends.
    pub fn accepts_tcp(&self, address: SocketAddrV4) -> bool {
        let path = self.path();
        thread::scope(|scope| {
            scope
                .spawn(move || {
                    let Ok(file) = File::open(&path) else {
                        return false;
                    };
                    // SAFETY: setns(2) on a descriptor we hold open; it
                    // changes only this short-lived thread's namespace.
                    if unsafe { libc::setns(file.as_raw_fd(), libc::CLONE_NEWNET) } != 0 {
                        return false;
                    }
                    TcpStream::connect_timeout(&SocketAddr::V4(address), PROBE_TIMEOUT).is_ok()
                })
                .join()
                .unwrap_or(false)
        })
    }
}

/// Runs the network commands of one topology and logs them.
struct Commands {
    log: PathBuf,
    started: Instant,
    interrupted: Arc<AtomicBool>,
}

impl Commands {
    fn note(&self, text: &str) {
        // The log is for people; losing a line must not stop the cell.
        if let Ok(mut file) = OpenOptions::new().create(true).append(true).open(&self.log) {
            let ms = self.started.elapsed().as_millis();
            let _ = writeln!(file, "[{ms:>6} ms] {text}");
        }
    }

    /// Runs `program args` (stderr to the log) and returns its stdout;
    /// a non-zero exit is an error carrying the command's last words.
    fn run(&self, program: &str, args: &[&str]) -> Result<String, CaseError> {
        let deadline = Deadline::after(COMMAND_TIME, Arc::clone(&self.interrupted));
        self.run_until(program, args, &deadline)
    }

    fn run_until(
        &self,
        program: &str,
        args: &[&str],
        deadline: &Deadline,
    ) -> Result<String, CaseError> {
        let command = CommandLine {
            program: PathBuf::from(program),
            args: args.iter().map(|arg| arg.to_string()).collect(),
        };
        self.note(&format!("$ {command}"));
        let (status, stdout) = run_capture(program, &command, &self.log, deadline)?;
        if !status.success() {
            return Err(CaseError::Runner(Error::CommandFailed {
                command: command.to_string(),
                outcome: describe_exit(status),
                why: last_line(&self.log),
            }));
        }
        Ok(stdout)
    }
}

/// Client, router and server namespaces with the path between them set
/// up; removed (with every process still inside) when dropped.
pub struct Topology {
    pub client: Namespace,
    pub router: Namespace,
    pub server: Namespace,
    iptables: &'static str,
    blackholed: bool,
    commands: Commands,
}

impl Topology {
    /// Builds topology number `number` of this run; its commands go to `log`.
    /// A failure half-way removes what was made (the drop does).
    pub fn create(
        number: usize,
        log: &Path,
        interrupted: Arc<AtomicBool>,
    ) -> Result<Self, CaseError> {
        let name = |role: &str| Namespace {
            name: format!("{PREFIX}{}-{number}-{role}", std::process::id()),
        };
        let mut topology = Self {
            client: name("client"),
            router: name("router"),
            server: name("server"),
            iptables: IPTABLES_BACKENDS[0],
            blackholed: false,
            commands: Commands {
                log: log.to_owned(),
                started: Instant::now(),
                interrupted,
            },
        };
        topology.build()?;
        Ok(topology)
    }

    fn build(&mut self) -> Result<(), CaseError> {
        let (client, router, server) = (
            self.client.name().to_owned(),
            self.router.name().to_owned(),
            self.server.name().to_owned(),
        );
        let run = |args: &[&str]| self.commands.run("ip", args).map(drop);
        for ns in [&client, &router, &server] {
            run(&["netns", "add", ns])?;
            run(&["-n", ns, "link", "set", "lo", "up"])?;
        }
        // Each end is created straight in its namespace: nothing appears,
        // even briefly, in the namespace the suite runs in.
        for (a, a_ns, b, b_ns) in [
            (CLIENT_IF, &client, ROUTER_CLIENT_IF, &router),
            (ROUTER_SERVER_IF, &router, SERVER_IF, &server),
        ] {
            run(&[
                "link", "add", a, "netns", a_ns, "type", "veth", "peer", "name", b, "netns", b_ns,
            ])?;
        }
        for (ns, interface, address) in [
            (&client, CLIENT_IF, CLIENT_ADDRESS),
            (&router, ROUTER_CLIENT_IF, ROUTER_CLIENT_SIDE),
            (&router, ROUTER_SERVER_IF, ROUTER_SERVER_SIDE),
            (&server, SERVER_IF, SERVER_ADDRESS),
        ] {
            let cidr = format!("{address}/{PREFIX_LEN}");
            run(&["-n", ns, "addr", "add", &cidr, "dev", interface])?;
            run(&["-n", ns, "link", "set", interface, "up"])?;
        }
        let gateway = ROUTER_CLIENT_SIDE.to_string();
        run(&["-n", &client, "route", "add", "default", "via", &gateway])?;
        let gateway = ROUTER_SERVER_SIDE.to_string();
        run(&["-n", &server, "route", "add", "default", "via", &gateway])?;
        self.in_router("sysctl", &["-qw", "net.ipv4.ip_forward=1"])?;
        self.iptables = self.pick_iptables()?;
        self.commands
            .note(&format!("iptables backend: {}", self.iptables));
        Ok(())
    }

    /// The first iptables front end that works in the router.
    fn pick_iptables(&self) -> Result<&'static str, CaseError> {
        let mut tried = Vec::new();
        for backend in IPTABLES_BACKENDS {
            match self.in_router(backend, &["-w", "-n", "-L", "FORWARD"]) {
                Ok(_) => return Ok(backend),
                Err(CaseError::Interrupted) => return Err(CaseError::Interrupted),
                Err(error) => tried.push(format!("{backend}: {error}")),
            }
        }
        Err(CaseError::Runner(Error::Io {
            what: format!(
                "no working iptables in the router (install Debian's iptables): {}",
                tried.join("; ")
            ),
            source: std::io::Error::from(std::io::ErrorKind::NotFound),
        }))
    }

    pub fn iptables_backend(&self) -> &'static str {
        self.iptables
    }

    fn in_router(&self, program: &str, args: &[&str]) -> Result<String, CaseError> {
        let mut all = vec!["netns", "exec", self.router.name(), program];
        all.extend_from_slice(args);
        self.commands.run("ip", &all)
    }

    fn drop_rule(&self, action: &'static str) -> Vec<&'static str> {
        // -w: the legacy backend's lock is shared by every namespace, and
        // cells run side by side.
        let mut args = vec!["-w", action];
        args.extend(DROP_RULE);
        args
    }

    /// From now on the router forwards nothing, in either direction, and
    /// answers nothing: both ends see silence, not a reset.
    pub fn blackhole(&mut self) -> Result<(), CaseError> {
        let args = self.drop_rule("-I");
        self.in_router(self.iptables, &args)?;
        self.blackholed = true;
        Ok(())
    }

    /// Ends the blackhole; returns once the rule is gone.
    pub fn restore(&mut self) -> Result<(), CaseError> {
        let args = self.drop_rule("-D");
        self.in_router(self.iptables, &args)?;
        self.blackholed = false;
        Ok(())
    }

    pub fn is_blackholed(&self) -> bool {
        self.blackholed
    }

    /// Limits what the router sends towards the server (the requests) to
    /// `rate` (tc syntax, such as `16mbit`) with a token bucket.
    pub fn limit_bandwidth(&self, rate: &str) -> Result<(), CaseError> {
        self.in_router(
            "tc",
            &[
                "qdisc",
                "add",
                "dev",
                ROUTER_SERVER_IF,
                "root",
                "tbf",
                "rate",
                rate,
                "burst",
                "32kb",
                "latency",
                "400ms",
            ],
        )
        .map(drop)
    }

    /// Bytes the router has sent towards the server so far (the bandwidth
    /// limit's counter; 0 without one).
    pub fn bytes_towards_server(&self) -> Result<u64, CaseError> {
        let text = self.in_router("tc", &["-s", "qdisc", "show", "dev", ROUTER_SERVER_IF])?;
        Ok(parse_sent_bytes(&text).unwrap_or(0))
    }

    /// Bytes the client namespace's sockets still hold for the server
    /// (sent but not acknowledged, or not sent yet): the total Send-Q of
    /// every TCP socket there towards the server, orphaned ones included
    /// (a socket the client closed keeps retransmitting its data).
    pub fn unsent_bytes_towards_server(&self) -> Result<u64, CaseError> {
        let mut args = vec!["netns", "exec", self.client.name(), "ss", "-Htna", "dst"];
        let server = SERVER_ADDRESS.to_string();
        args.push(&server);
        let text = self.commands.run("ip", &args)?;
        Ok(parse_send_queues(&text))
    }

    /// A line in the topology's log (the faults, as the case applies them).
    pub fn note(&self, text: &str) {
        self.commands.note(text);
    }

    /// Kills whatever still runs in the namespaces and deletes them (which
    /// deletes the veth pairs with them). Runs on drop, even after Ctrl-C,
    /// so its commands get a deadline of their own.
    fn teardown(&self) {
        let cleanup = Deadline::after(COMMAND_TIME, Arc::new(AtomicBool::new(false)));
        for ns in [&self.client, &self.router, &self.server] {
            if !ns.path().exists() {
                continue;
            }
            kill_processes_in(&self.commands, ns.name(), &cleanup);
            if let Err(error) =
                self.commands
                    .run_until("ip", &["netns", "del", ns.name()], &cleanup)
            {
                self.commands
                    .note(&format!("could not delete {}: {error}", ns.name()));
            }
        }
    }
}

impl Drop for Topology {
    fn drop(&mut self) {
        self.teardown();
    }
}

/// SIGKILLs every process inside namespace `name`, one pid at a time.
/// Only the suite starts processes in its namespaces, so each is one of
/// ours that its own guard has not reaped yet (normally there is none).
fn kill_processes_in(commands: &Commands, name: &str, deadline: &Deadline) {
    let Ok(pids) = commands.run_until("ip", &["netns", "pids", name], deadline) else {
        return;
    };
    for pid in pids
        .split_whitespace()
        .filter_map(|p| p.parse::<i32>().ok())
    {
        commands.note(&format!("SIGKILL pid {pid}, still running in {name}"));
        // SAFETY: kill(2) has no memory-safety preconditions.
        unsafe {
            libc::kill(pid, libc::SIGKILL);
        }
    }
}

/// Deletes the namespaces an earlier run left behind: those named
/// `tf-<pid>-...` whose pid is not a running `fault-suite` (it crashed or
/// was killed before its drop guards ran). Those of a live run, such as a
/// second suite running at the same time, are left alone. Returns the
/// names removed; `log` gets the commands.
pub fn remove_stale(log: &Path) -> Result<Vec<String>, Error> {
    let entries = match fs::read_dir("/run/netns") {
        Ok(entries) => entries,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(source) => {
            return Err(Error::ReadFile {
                path: PathBuf::from("/run/netns"),
                source,
            })
        }
    };
    let commands = Commands {
        log: log.to_owned(),
        started: Instant::now(),
        interrupted: Arc::new(AtomicBool::new(false)),
    };
    let mut removed = Vec::new();
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let Some(pid) = owner_pid(&name) else {
            continue;
        };
        if suite_is_running(pid) {
            continue;
        }
        let deadline = Deadline::after(COMMAND_TIME, Arc::new(AtomicBool::new(false)));
        kill_processes_in(&commands, &name, &deadline);
        match commands.run_until("ip", &["netns", "del", &name], &deadline) {
            Ok(_) => removed.push(name),
            Err(error) => commands.note(&format!("could not delete stale {name}: {error}")),
        }
    }
    Ok(removed)
}

/// The pid in a name `tf-<pid>-<rest>`, if it is one of ours.
fn owner_pid(name: &str) -> Option<u32> {
    let rest = name.strip_prefix(PREFIX)?;
    let (pid, _) = rest.split_once('-')?;
    pid.parse().ok()
}

fn suite_is_running(pid: u32) -> bool {
    fs::read_to_string(format!("/proc/{pid}/comm"))
        .map(|comm| comm.trim() == SUITE_PROGRAM)
        .unwrap_or(false)
}

/// "Sent 12345 bytes 10 pkt ..." in `tc -s qdisc show`.
fn parse_sent_bytes(text: &str) -> Option<u64> {
    let mut words = text.split_whitespace();
    while let Some(word) = words.next() {
        if word == "Sent" {
            return words.next()?.parse().ok();
        }
    }
    None
}

/// The sum of the Send-Q column of `ss -Htna` (state, Recv-Q, Send-Q, ...).
fn parse_send_queues(text: &str) -> u64 {
    text.lines()
        .filter_map(|line| line.split_whitespace().nth(2)?.parse::<u64>().ok())
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_carry_the_owner_pid() {
        assert_eq!(owner_pid("tf-1234-0-client"), Some(1234));
        assert_eq!(owner_pid("tf-1234"), None);
        assert_eq!(owner_pid("other-1234-0-client"), None);
        assert_eq!(owner_pid("tf-x-0-client"), None);
    }

    #[test]
    fn a_dead_pid_is_no_running_suite() {
        // The test binary is not called fault-suite, so even a live pid
        // (ours) does not count as a running suite.
        assert!(!suite_is_running(std::process::id()));
        assert!(!suite_is_running(u32::MAX));
    }

    /// A listener bound inside `ns` (on a thread that joined it), kept open
    /// until the returned sender is dropped.
    fn listen_in(ns: &Namespace) -> (u16, std::sync::mpsc::Sender<()>) {
        let path = ns.path();
        let (port_tx, port_rx) = std::sync::mpsc::channel();
        let (stop_tx, stop_rx) = std::sync::mpsc::channel::<()>();
        thread::spawn(move || {
            let file = File::open(&path).unwrap();
            assert_eq!(
                unsafe { libc::setns(file.as_raw_fd(), libc::CLONE_NEWNET) },
                0
            );
            let listener = std::net::TcpListener::bind((SERVER_ADDRESS, 0)).unwrap();
            port_tx.send(listener.local_addr().unwrap().port()).unwrap();
            let _ = stop_rx.recv();
        });
        (port_rx.recv().unwrap(), stop_tx)
    }

    #[test]
    fn a_topology_forwards_blackholes_restores_and_vanishes() {
        // SAFETY: geteuid(2) has no preconditions.
        if unsafe { libc::geteuid() } != 0 {
            eprintln!("skipped: network namespaces need root");
            return;
        }
        let on_path = |tool: &str| {
            std::env::var_os("PATH")
                .is_some_and(|path| std::env::split_paths(&path).any(|d| d.join(tool).is_file()))
        };
        if !IPTABLES_BACKENDS.iter().any(|tool| on_path(tool)) {
            eprintln!("skipped: no iptables (`make fault-test` installs it)");
            return;
        }
        let log = std::env::temp_dir().join(format!("netns-test-{}.log", std::process::id()));
        let interrupted = Arc::new(AtomicBool::new(false));
        // A number no suite cell uses.
        let mut topology = Topology::create(9_999, &log, interrupted).unwrap();
        let (port, _keep) = listen_in(&topology.server);
        let server = SocketAddrV4::new(SERVER_ADDRESS, port);
        assert!(topology.server.accepts_tcp(server), "local to the server");
        assert!(topology.client.accepts_tcp(server), "through the router");
        topology.blackhole().unwrap();
        assert!(!topology.client.accepts_tcp(server), "blackholed");
        assert!(
            topology.server.accepts_tcp(server),
            "the server side still works"
        );
        topology.restore().unwrap();
        assert!(topology.client.accepts_tcp(server), "restored");
        topology.limit_bandwidth("16mbit").unwrap();
        assert!(topology.client.accepts_tcp(server));
        assert!(topology.bytes_towards_server().unwrap() > 0);
        // The probes' closed sockets may still be handing over their FIN.
        assert!(topology.unsent_bytes_towards_server().is_ok());
        let paths: Vec<PathBuf> = [&topology.client, &topology.router, &topology.server]
            .iter()
            .map(|ns| ns.path())
            .collect();
        assert!(paths.iter().all(|path| path.exists()));
        drop(topology);
        assert!(paths.iter().all(|path| !path.exists()), "{paths:?}");
        let _ = fs::remove_file(&log);
    }

    #[test]
    fn an_interrupted_build_leaves_nothing_behind() {
        // SAFETY: geteuid(2) has no preconditions.
        if unsafe { libc::geteuid() } != 0 {
            eprintln!("skipped: network namespaces need root");
            return;
        }
        let log = std::env::temp_dir().join(format!("netns-int-{}.log", std::process::id()));
        let result = Topology::create(9_998, &log, Arc::new(AtomicBool::new(true)));
        assert!(matches!(result, Err(CaseError::Interrupted)));
        let prefix = format!("{PREFIX}{}-9998-", std::process::id());
        let left: Vec<String> = fs::read_dir("/run/netns")
            .map(|entries| {
                entries
                    .flatten()
                    .map(|e| e.file_name().to_string_lossy().into_owned())
                    .filter(|name| name.starts_with(&prefix))
                    .collect()
            })
            .unwrap_or_default();
        assert!(left.is_empty(), "{left:?}");
        let _ = fs::remove_file(&log);
    }

    #[test]
    fn tc_and_ss_output() {
        let tc = "qdisc tbf 8001: root refcnt 3 rate 32Mbit burst 64Kb lat 100ms \n \
                  Sent 1048576 bytes 800 pkt (dropped 0, overlimits 12 requeues 0) \n";
        assert_eq!(parse_sent_bytes(tc), Some(1_048_576));
        assert_eq!(parse_sent_bytes("qdisc noqueue 0: root"), None);
        let ss = "ESTAB      0      0      10.213.7.2:40000 10.213.7.130:9091\n\
                  FIN-WAIT-1 0      1460   10.213.7.2:40002 10.213.7.130:9091\n\
                  ESTAB      0      131072 10.213.7.2:40004 10.213.7.130:9091\n";
        assert_eq!(parse_send_queues(ss), 132_532);
        assert_eq!(parse_send_queues(""), 0);
    }
}
