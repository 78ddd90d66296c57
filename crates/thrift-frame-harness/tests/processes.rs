//! The harness against real child processes: processes are reaped on
//! drop, readiness and waits are bounded by the deadline, ports refuse
//! connections while reserved.

use std::fs;
use std::io;
use std::net::{SocketAddr, SocketAddrV4, TcpStream};
use std::path::Path;
use std::process::Stdio;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::{Duration, Instant};

use thrift_frame_harness::{
    accepts_tcp, last_line, run_shell, shorten, wait_for_tcp, CommandLine, Deadline, HarnessError,
    PortReservation, Process, ServerProcess, HOST,
};
fn never_interrupted() -> Arc<AtomicBool> {
    Arc::new(AtomicBool::new(false))
}

fn alive(pid: u32) -> bool {
    Path::new(&format!("/proc/{pid}")).exists()
}

#[test]
fn dropping_a_process_kills_and_reaps_it() {
    let dir = std::env::temp_dir().join(format!("harness-process-{}", std::process::id()));
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
    let dir = std::env::temp_dir().join(format!("harness-server-{}", std::process::id()));
    fs::create_dir_all(&dir).unwrap();
    let usage = CommandLine {
        program: "sh".into(),
        args: vec!["-c".into(), "echo 'no such model' >&2; exit 2".into()],
    };
    let deadline = Deadline::after(Duration::from_secs(10), never_interrupted());
    let log = dir.join("usage.log");
    match ServerProcess::start("server", &usage, &log, &deadline) {
        Err(HarnessError::Unsupported(why)) => assert!(why.contains("no such model"), "{why}"),
        other => panic!("expected Unsupported, got {:?}", other.err()),
    }

    let silent = CommandLine {
        program: "sleep".into(),
        args: vec!["30".into()],
    };
    let deadline = Deadline::after(Duration::from_millis(200), never_interrupted());
    let started = Instant::now();
    let result = ServerProcess::start("server", &silent, &dir.join("silent.log"), &deadline);
    assert!(matches!(result, Err(HarnessError::TimedOut(_))));
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
    assert!(matches!(result, Err(HarnessError::TimedOut(ref why)) if why.contains("nobody")));
    assert!(started.elapsed() < Duration::from_secs(5));
    reservation.release();
}

#[test]
fn shell_commands_log_their_output_and_report_their_status() {
    let dir = std::env::temp_dir().join(format!("harness-shell-{}", std::process::id()));
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
    let dir = std::env::temp_dir().join(format!("harness-lastline-{}", std::process::id()));
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

#[test]
fn restartable_ports_are_below_the_ephemeral_range_and_never_repeat() {
    let range = fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range").unwrap();
    let low: u16 = range.split_whitespace().next().unwrap().parse().unwrap();
    let ports: Vec<u16> = (0..50)
        .map(|_| thrift_frame_harness::restartable_port().unwrap())
        .collect();
    assert!(
        ports.iter().all(|&p| (10_000..low).contains(&p)),
        "{ports:?}"
    );
    let distinct: std::collections::HashSet<u16> = ports.iter().copied().collect();
    assert_eq!(distinct.len(), ports.len(), "{ports:?}");
}
