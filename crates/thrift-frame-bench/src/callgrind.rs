//! Instructions per call: the Rust and C++ threaded servers under
//! `valgrind --tool=callgrind`, called by the Rust client.
//!
//! Latency and CPU time move with whatever else the machine is doing; the
//! number of instructions a server executes for a call does not. Each
//! server runs under callgrind for the whole section (every one of
//! [`SERVERS`] on every one of [`WIRES`], all started first). Per size it
//! gets warm-up pings (which also grow its buffers to that size), then:
//!
//! 1. wait until none of its threads is running ([`crate::cpu::settled`]),
//!    so the last call's tail is behind us;
//! 2. `vgdb --pid <pid> zero`: callgrind's counters to zero;
//! 3. the counted pings, and wait again until it is idle;
//! 4. `vgdb --pid <pid> dump`: callgrind writes what it counted since the
//!    zero to `<out-file>.<n>`, whose `totals:` line ([`parse_totals`]) is
//!    the instructions (`Ir`) of every thread over the counted calls.
//!
//! vgdb reaches a server blocked in `recv` through ptrace; that is why the
//! server must be idle, and why this needs the rights to ptrace it (root in
//! CI, or a `ptrace_scope` of 0). Start-up (valgrind translating the
//! binary) and connection set-up fall outside the window.
//!
//! The counts are user space only: callgrind sees the instructions the
//! process executes, not the kernel's work in its system calls (copying the
//! bytes in `recv` and `send`, faulting in fresh pages), which the
//! CPU-per-call figures include.
//!
//! Copies and fills: on this CPU glibc's `memcpy` and `memset` use `rep
//! movsb` / `rep stosb` from a few KiB up, and callgrind counts every
//! iteration of those as an instruction, one per byte. Whether a server's
//! buffered reader made one more 64 KiB copy (which depends on how the
//! bytes arrived) then moved its count by 65,536: the Rust server's
//! figure swung by 10-40 % from run to run, and copies outweighed
//! everything else ten to one (a 1 MiB copy counted 1M, about what all
//! the rest of a 1 MiB call costs). So the servers run with
//! [`GLIBC_TUNABLES`], which keeps glibc on its vector loops: a copy
//! counts the instructions that do it (about one per 10 bytes), and the
//! figures repeat to within a few percent (1 % at 1 MiB; up to about 10 %
//! at 128-256 KiB with `--quick`'s 3 counted calls).

use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use thrift_frame_demo::PingClient;
use thrift_frame_harness::CommandLine;
use thrift_frame_wire::{Protocol, Transport, WireConfig};

use crate::cpu;
use crate::measure::{self, ping_once};
use crate::peers::{PeerServer, Peers};
use crate::report::{size_label, Callgrind, InstructionsRow};
use crate::BenchError;

/// The servers counted: peer, model.
pub const SERVERS: [(&str, &str); 2] = [("rs", "threaded"), ("cpp", "threaded")];
/// The wires they are counted on: protocol, transport.
pub const WIRES: [(&str, &str); 2] = [("compact", "buffered"), ("binary", "framed")];

/// glibc's thresholds for `rep movsb` and `rep stosb` out of reach, for the
/// servers under callgrind (see the module's docs).
pub const GLIBC_TUNABLES: &str = "GLIBC_TUNABLES=glibc.cpu.x86_rep_movsb_threshold=4294967295:glibc.cpu.x86_rep_stosb_threshold=4294967295";

/// How long a server under valgrind may take to print `LISTENING` and
/// accept (it starts in about a second here).
const START_TIMEOUT: Duration = Duration::from_secs(60);
/// How long a vgdb command, or its dump file, may take.
const VGDB_TIMEOUT: Duration = Duration::from_secs(30);
/// How long the server may take to go idle after a call: under valgrind
/// its tail runs tens of times slower than natively.
const SETTLE_LIMIT: Duration = Duration::from_secs(2);

/// The instructions of a callgrind dump: its `totals:` line (the sum of
/// every cost in the file), else its `summary:` line; the first event,
/// which is `Ir` unless the `events:` line says otherwise (then `None`).
pub fn parse_totals(dump: &str) -> Option<u64> {
    if let Some(events) = dump.lines().find_map(|l| l.strip_prefix("events:")) {
        if events.split_whitespace().next() != Some("Ir") {
            return None;
        }
    }
    let first_number = |prefix: &str| {
        dump.lines()
            .find_map(|l| l.strip_prefix(prefix))
            .and_then(|rest| rest.split_whitespace().next())
            .and_then(|n| n.parse::<u64>().ok())
    };
    first_number("totals:").or_else(|| first_number("summary:"))
}

/// One server under callgrind and the Rust client calling it.
struct Counted {
    peer: &'static str,
    model: &'static str,
    wire: (&'static str, &'static str),
    server: PeerServer,
    client: PingClient,
    /// callgrind's `--callgrind-out-file`; dump n goes to `<out>.<n>`.
    out: PathBuf,
    dumps: usize,
}

impl Counted {
    fn name(&self) -> String {
        format!(
            "{} {}, {}+{}",
            self.peer, self.model, self.wire.0, self.wire.1
        )
    }

    /// Instructions over `calls` pings of `payload` after `warmup` ones.
    fn count(&mut self, payload: &str, warmup: usize, calls: usize) -> Result<u64, BenchError> {
        for _ in 0..warmup {
            ping_once(&mut self.client, payload)?;
        }
        self.settle()?;
        vgdb(self.server.pid(), &["zero"])?;
        for _ in 0..calls {
            ping_once(&mut self.client, payload)?;
        }
        self.settle()?;
        vgdb(self.server.pid(), &["dump"])?;
        self.dumps += 1;
        let file = PathBuf::from(format!("{}.{}", self.out.display(), self.dumps));
        read_dump(&file)
    }

    fn settle(&self) -> Result<(), BenchError> {
        let now = cpu::settled(self.server.pid(), SETTLE_LIMIT)?;
        if now.is_idle() {
            Ok(())
        } else {
            Err(BenchError::Invalid(format!(
                "still running {} s after its last call",
                SETTLE_LIMIT.as_secs()
            )))
        }
    }
}

/// Waits for callgrind's dump `file` to be complete (its `totals:` line is
/// the last one written) and returns its instructions.
fn read_dump(file: &Path) -> Result<u64, BenchError> {
    let until = Instant::now() + VGDB_TIMEOUT;
    loop {
        if let Ok(text) = fs::read_to_string(file) {
            if text.lines().any(|l| l.starts_with("totals:")) {
                return parse_totals(&text).ok_or_else(|| {
                    BenchError::Invalid(format!("{}: no instruction total", file.display()))
                });
            }
        }
        if Instant::now() >= until {
            return Err(BenchError::Invalid(format!(
                "{} not written within {} s",
                file.display(),
                VGDB_TIMEOUT.as_secs()
            )));
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// Runs `vgdb --pid <pid> <command>` (a callgrind monitor command) to
/// the end, within [`VGDB_TIMEOUT`]. Each takes about 0.1 s here, most of
/// it vgdb detaching after the answer.
fn vgdb(pid: u32, command: &[&str]) -> Result<(), BenchError> {
    let what = format!("vgdb --pid={pid} {}", command.join(" "));
    let mut child = Command::new("vgdb")
        .arg(format!("--pid={pid}"))
        // The server is blocked in a system call, so vgdb has to ptrace it
        // in anyway: at once rather than after the default 100 ms.
        .arg("--max-invoke-ms=10")
        .args(command)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| BenchError::io(format!("running {what}"), e))?;
    let until = Instant::now() + VGDB_TIMEOUT;
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if Instant::now() < until => std::thread::sleep(Duration::from_millis(2)),
            Ok(None) => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(BenchError::Invalid(format!(
                    "{what}: no answer within {} s",
                    VGDB_TIMEOUT.as_secs()
                )));
            }
            Err(e) => return Err(BenchError::io(format!("waiting for {what}"), e)),
        }
    };
    if status.success() {
        return Ok(());
    }
    let mut said = String::new();
    for pipe in [
        child.stdout.take().map(|p| Box::new(p) as Box<dyn Read>),
        child.stderr.take().map(|p| Box::new(p) as Box<dyn Read>),
    ]
    .into_iter()
    .flatten()
    {
        let mut text = String::new();
        let _ = pipe.take(4096).read_to_string(&mut text);
        said.push_str(text.trim());
        said.push(' ');
    }
    Err(BenchError::Invalid(format!(
        "{what}: {status}: {} (vgdb reaches a server blocked in a system call through ptrace: it needs root, or /proc/sys/kernel/yama/ptrace_scope 0)",
        said.trim()
    )))
}

/// Whether `valgrind` runs here; why not if it does not.
fn valgrind_version() -> Result<String, String> {
    match Command::new("valgrind").arg("--version").output() {
        Ok(out) if out.status.success() => {
            Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
        }
        Ok(out) => Err(format!("valgrind --version: {}", out.status)),
        Err(e) => Err(format!(
            "valgrind not found ({e}): `make bench` installs it (apt-get install valgrind)"
        )),
    }
}

fn wire_config(wire: (&str, &str)) -> Result<WireConfig, BenchError> {
    Ok(WireConfig {
        protocol: wire
            .0
            .parse::<Protocol>()
            .map_err(|e| BenchError::Invalid(e.to_string()))?,
        transport: wire
            .1
            .parse::<Transport>()
            .map_err(|e| BenchError::Invalid(e.to_string()))?,
        ..WireConfig::default()
    })
}

/// Starts `peer`'s `model` server for `wire` under callgrind, its dumps
/// going to `dir`, and connects a Rust client to it.
fn start(
    peers: &Peers,
    dir: &Path,
    (peer, model): (&'static str, &'static str),
    wire: (&'static str, &'static str),
) -> Result<Counted, BenchError> {
    let name = format!("callgrind-{peer}-{model}-{}-{}", wire.0, wire.1);
    let out = dir.join(format!("{name}.out"));
    // Dumps of an earlier run would pass for this one's.
    if let Ok(entries) = fs::read_dir(dir) {
        for entry in entries.flatten() {
            if entry.file_name().to_string_lossy().starts_with(&name) {
                let _ = fs::remove_file(entry.path());
            }
        }
    }
    let server = peers.server_command(
        peer,
        model,
        0,
        &["--protocol", wire.0, "--transport", wire.1],
    )?;
    // env execs valgrind, which runs the server in its own process: the
    // pid the harness holds is the server's.
    let mut args = vec![
        GLIBC_TUNABLES.to_string(),
        "valgrind".to_string(),
        "--tool=callgrind".to_string(),
        format!("--callgrind-out-file={}", out.display()),
        // Totals are all that is read: no per-line costs to write.
        "--dump-line=no".to_string(),
        server.program.display().to_string(),
    ];
    args.extend(server.args);
    let command = CommandLine {
        program: PathBuf::from("env"),
        args,
    };
    let server = peers.start_command(
        format!(
            "{peer} {model} server under callgrind, {}+{}",
            wire.0, wire.1
        ),
        &format!("{name}.log"),
        &command,
        START_TIMEOUT,
    )?;
    let client = measure::client(&server.addr(), &wire_config(wire)?)?;
    Ok(Counted {
        peer,
        model,
        wire,
        server,
        client,
        out,
        dumps: 0,
    })
}

/// The callgrind section: every server of [`SERVERS`] on every wire of
/// [`WIRES`], `warmup` + `calls` pings of each of `payloads` (size,
/// payload). Dumps and valgrind's logs go to `dir`. What fails (valgrind
/// missing, a server that will not start, vgdb refused) is a note and
/// leaves its cells without figures, not an error of the bench.
pub fn run(
    peers: &Peers,
    dir: &Path,
    payloads: &[(usize, &str)],
    warmup: usize,
    calls: usize,
    progress: &dyn Fn(String),
) -> Callgrind {
    let started = Instant::now();
    let mut section = Callgrind {
        warmup,
        calls,
        seconds: 0.0,
        rows: Vec::new(),
        notes: Vec::new(),
    };
    if let Err(why) = valgrind_version() {
        section.notes.push(format!("not run: {why}."));
        return section;
    }
    if let Err(e) = fs::create_dir_all(dir) {
        section
            .notes
            .push(format!("not run: creating {}: {e}.", dir.display()));
        return section;
    }
    let mut servers = Vec::new();
    for wire in WIRES {
        for server in SERVERS {
            progress(format!(
                "callgrind: starting {} {} under valgrind, {}+{}",
                server.0, server.1, wire.0, wire.1
            ));
            match start(peers, dir, server, wire) {
                Ok(counted) => servers.push(counted),
                Err(e) => section.notes.push(format!(
                    "{} {}, {}+{}: did not start: {e}.",
                    server.0, server.1, wire.0, wire.1
                )),
            }
        }
    }
    for counted in &mut servers {
        for &(size, payload) in payloads {
            progress(format!(
                "callgrind: {}, {}",
                counted.name(),
                size_label(size)
            ));
            match counted.count(payload, warmup, calls) {
                Ok(instructions) => section.rows.push(InstructionsRow {
                    server: counted.peer.into(),
                    model: counted.model.into(),
                    protocol: counted.wire.0.into(),
                    transport: counted.wire.1.into(),
                    size,
                    calls,
                    instructions,
                }),
                Err(e) => {
                    section.notes.push(format!(
                        "{} at {}: no figure: {e}.",
                        counted.name(),
                        size_label(size)
                    ));
                    // Its counters or its connection are in an unknown state.
                    break;
                }
            }
        }
    }
    drop(servers);
    section.seconds = started.elapsed().as_secs_f64();
    section
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The head and tail of a dump `vgdb --pid <pid> dump` made here
    /// (valgrind 3.19, `--dump-line=no`).
    const DUMP: &str = "# callgrind format
version: 1
creator: callgrind-3.19.0
pid: 31140
cmd:  /work/main/target/release/ping-server --port 0 --server threaded
part: 2

desc: Timerange: Basic block 144612 - 3279467
desc: Trigger: Client Request: dump

positions: line
events: Ir
summary: 12700453


ob=(3) /usr/lib/x86_64-linux-gnu/libc.so.6
fn=(2606) clone
0 12700505

totals: 12700505
";

    #[test]
    fn a_dumps_instructions_are_its_totals_line() {
        assert_eq!(parse_totals(DUMP), Some(12_700_505));
        // Without totals (an older format), the summary.
        let no_totals: String = DUMP
            .lines()
            .filter(|l| !l.starts_with("totals:"))
            .map(|l| format!("{l}\n"))
            .collect();
        assert_eq!(parse_totals(&no_totals), Some(12_700_453));
        // A zeroed counter with nothing run since.
        assert_eq!(parse_totals("events: Ir\nsummary: 0\ntotals: 0\n"), Some(0));
        // Several events: the first is Ir.
        assert_eq!(
            parse_totals("events: Ir Dr Dw\ntotals: 900 300 200\n"),
            Some(900)
        );
        // A dump that counts something else first, or nothing readable.
        assert_eq!(parse_totals("events: Dr Ir\ntotals: 1 2\n"), None);
        assert_eq!(parse_totals("events: Ir\ntotals: many\n"), None);
        assert_eq!(parse_totals(""), None);
    }

    #[test]
    fn every_counted_server_speaks_every_counted_wire() {
        for wire in WIRES {
            wire_config(wire).expect("a wire the Rust client speaks");
        }
        assert!(SERVERS.contains(&("rs", "threaded")));
        assert!(SERVERS.contains(&("cpp", "threaded")));
    }
}
