//! The Rust binaries against each reference peer (interop/cpp, go, python;
//! built by `make peers`), both directions, in binary/compact x
//! buffered/framed: 1 MiB ping, UTF-8 output echo, student put. And each
//! peer's client surviving its own server being SIGKILLed and restarted.

mod support;

use std::path::Path;
use std::thread;
use std::time::Duration;

use anyhow::{ensure, Context, Result};
use support::{
    ok, peer_bin, peer_built, restartable_port, ClientProcess, ServerProcess, CLIENT, SERVER,
};
use tempfile::TempDir;

const WIRES: [(&str, &str); 4] = [
    ("binary", "buffered"),
    ("binary", "framed"),
    ("compact", "buffered"),
    ("compact", "framed"),
];

/// Runs one client against one server with the given extra client flags and
/// checks that every one of `expected_calls` calls came back correct.
fn run_case(
    dir: &TempDir,
    (server, client): (&Path, &Path),
    wire: &[&str],
    server_args: &[&str],
    client_args: &[&str],
    expected_calls: usize,
) -> Result<()> {
    let srv = ServerProcess::start_bin(server, dir, 0, &[wire, server_args].concat())?;
    let port = srv.port.to_string();
    let proc = ClientProcess::start_bin(
        client,
        dir,
        &[wire, &["--port", &port], client_args].concat(),
    )?;
    let log = proc.log();
    let (calls, status) = proc.finish()?;
    let what = format!(
        "{} -> {} {wire:?} {client_args:?}",
        client.display(),
        server.display()
    );
    ensure!(
        status.success(),
        "{what}: client exited {status}: {calls:?}\n{log}"
    );
    ensure!(
        calls.len() == expected_calls,
        "{what}: {} calls: {calls:?}",
        calls.len()
    );
    for call in &calls {
        ensure!(ok(call), "{what}: {call}");
    }
    Ok(())
}

/// Every case of this issue for one server/client pair, in all four wires.
fn check_pair(server: &Path, client: &Path) -> Result<()> {
    let dir = TempDir::new()?;
    for (protocol, transport) in WIRES {
        let wire = ["--protocol", protocol, "--transport", transport];
        let pair = (server, client);
        run_case(&dir, pair, &wire, &[], &["--sizes", "1M"], 1)?;
        run_case(
            &dir,
            pair,
            &wire,
            &[],
            &["--call", "output", "--payload", "utf8", "--sizes", "0,5,1M"],
            3,
        )?;
        run_case(
            &dir,
            pair,
            &wire,
            &["--service", "student"],
            &["--service", "student", "--rounds", "20"],
            20,
        )?;
    }
    Ok(())
}

fn rust_client_against(lang: &str) -> Result<()> {
    if !peer_built(lang)? {
        return Ok(());
    }
    check_pair(&peer_bin(lang, "ping-server")?, Path::new(CLIENT))
}

fn client_against_rust_server(lang: &str) -> Result<()> {
    if !peer_built(lang)? {
        return Ok(());
    }
    check_pair(Path::new(SERVER), &peer_bin(lang, "ping-client")?)
}

/// The Rust client's SIGKILL test, run on a peer's own client and server.
fn client_survives_restart(lang: &str) -> Result<()> {
    if !peer_built(lang)? {
        return Ok(());
    }
    let dir = TempDir::new()?;
    let server_bin = peer_bin(lang, "ping-server")?;
    let mut server = ServerProcess::start_bin(&server_bin, &dir, restartable_port()?, &[])?;
    let port = server.port.to_string();
    let mut client = ClientProcess::start_bin(
        &peer_bin(lang, "ping-client")?,
        &dir,
        &[
            "--port",
            &port,
            "--rounds",
            "30",
            "--interval-ms",
            "40",
            "--sizes",
            "1K",
        ],
    )?;
    for _ in 0..5 {
        let call = client.next_call()?.context("client exited early")?;
        ensure!(ok(&call), "before the kill: {call}");
    }
    server.kill();
    thread::sleep(Duration::from_secs(1)); // the outage under test
    let _server = ServerProcess::start_bin(&server_bin, &dir, server.port, &[])?;
    let log = client.log();
    let (calls, status) = client.finish()?;
    ensure!(
        calls.len() == 25,
        "{lang}: {} calls after the kill",
        calls.len()
    );
    for call in &calls {
        ensure!(ok(call), "{lang}: {call}\n{log}");
    }
    let reconnects = calls[24]["reconnects"].as_u64().unwrap_or(0);
    ensure!(reconnects >= 1, "{lang}: no reconnect: {}", calls[24]);
    ensure!(status.success(), "{lang}: client exited {status}");
    Ok(())
}

#[test]
fn rust_client_against_cpp_server() -> Result<()> {
    rust_client_against("cpp")
}

#[test]
fn rust_client_against_go_server() -> Result<()> {
    rust_client_against("go")
}

#[test]
fn rust_client_against_python_server() -> Result<()> {
    rust_client_against("python")
}

#[test]
fn cpp_client_against_rust_server() -> Result<()> {
    client_against_rust_server("cpp")
}

#[test]
fn go_client_against_rust_server() -> Result<()> {
    client_against_rust_server("go")
}

#[test]
fn python_client_against_rust_server() -> Result<()> {
    client_against_rust_server("python")
}

#[test]
fn cpp_client_survives_server_restart() -> Result<()> {
    client_survives_restart("cpp")
}

#[test]
fn go_client_survives_server_restart() -> Result<()> {
    client_survives_restart("go")
}

#[test]
fn python_client_survives_server_restart() -> Result<()> {
    client_survives_restart("python")
}

/// One `ping-server --transport auto` process, and every client of every
/// peer in every wire auto detects started against it before any has
/// finished: each must get all its calls right, and over header have its
/// `x-request-id` sent back.
#[test]
fn one_auto_server_process_serves_every_peers_clients_at_once() -> Result<()> {
    let mut clients = vec![("rust", std::path::PathBuf::from(CLIENT))];
    for lang in ["cpp", "go", "python"] {
        if peer_built(lang)? {
            clients.push((lang, peer_bin(lang, "ping-client")?));
        }
    }
    let dir = TempDir::new()?;
    let server = ServerProcess::start(&dir, 0, &["--transport", "auto", "--protocol", "json"])?;
    let port = server.port.to_string();
    let mut running = Vec::new();
    for (lang, client) in &clients {
        for protocol in ["binary", "compact", "json"] {
            for transport in ["buffered", "framed", "header"] {
                if (protocol, transport) == ("json", "header") {
                    continue;
                }
                let args = [
                    "--port",
                    &port,
                    "--protocol",
                    protocol,
                    "--transport",
                    transport,
                    "--sizes",
                    "1K,64K",
                    "--rounds",
                    "3",
                    "--timeout-ms",
                    "10000",
                ];
                let what = format!("{lang} {protocol} {transport}");
                running.push((
                    what,
                    transport,
                    ClientProcess::start_bin(client, &dir, &args)?,
                ));
            }
        }
    }
    ensure!(running.len() >= 8, "only {} clients", running.len());
    for (what, transport, client) in running {
        let log = client.log();
        let (calls, status) = client.finish()?;
        ensure!(
            status.success(),
            "{what}: exited {status}: {calls:?}\n{log}"
        );
        ensure!(calls.len() == 6, "{what}: {} calls", calls.len());
        for call in &calls {
            ensure!(ok(call), "{what}: {call}");
            if transport == "header" {
                ensure!(
                    call["request_id_echoed"] == true,
                    "{what}: not echoed: {call}"
                );
            }
        }
    }
    let log = server.log();
    ensure!(!log.contains("WARN"), "the server complained:\n{log}");
    Ok(())
}

/// The Rust client's zlib-transformed THeader frames, read by the Rust,
/// Go and Python header servers (Go and Python answer without the
/// transform): every call right, 1 MiB included, in binary and compact.
/// Not C++: libthrift 0.17 answers a zlib request through zlib and its
/// deflate fails ("Error while zlib deflate"; SPEC, Header transport).
#[test]
fn the_rust_go_and_python_header_servers_read_our_zlib_frames() -> Result<()> {
    let dir = TempDir::new()?;
    let mut servers = vec![std::path::PathBuf::from(SERVER)];
    for lang in ["go", "python"] {
        if peer_built(lang)? {
            servers.push(peer_bin(lang, "ping-server")?);
        }
    }
    for server in &servers {
        for protocol in ["binary", "compact"] {
            let wire = ["--protocol", protocol, "--transport", "header"];
            let pair = (server.as_path(), Path::new(CLIENT));
            let zlib = ["--header-zlib", "--call", "output", "--payload", "utf8"];
            run_case(
                &dir,
                pair,
                &wire,
                &[],
                &[&zlib[..], &["--sizes", "0,1K,1M"]].concat(),
                3,
            )?;
            let student = ["--header-zlib", "--service", "student", "--rounds", "5"];
            run_case(&dir, pair, &wire, &["--service", "student"], &student, 5)?;
        }
    }
    Ok(())
}

/// Every peer's client gives each `--json` call record `cpu_ns` (SPEC,
/// JSON lines): the process's CPU time over the call's `latency_ns` span.
/// A 1 MiB ping costs some CPU, and at most every CPU busy for the whole
/// call (plus slack: the process clock counts other running threads' time
/// only up to their last scheduler tick).
#[test]
fn every_peers_client_reports_cpu_ns_per_call() -> Result<()> {
    const SLACK_NS: u64 = 50_000_000;
    let mut clients = vec![("rust", std::path::PathBuf::from(CLIENT))];
    for lang in ["cpp", "go", "python"] {
        if peer_built(lang)? {
            clients.push((lang, peer_bin(lang, "ping-client")?));
        }
    }
    let cpus = thread::available_parallelism().map_or(1, |n| n.get()) as u64;
    let dir = TempDir::new()?;
    let server = ServerProcess::start(&dir, 0, &[])?;
    let port = server.port.to_string();
    for (lang, client) in &clients {
        let args = ["--port", &port, "--sizes", "1M", "--rounds", "2"];
        let proc = ClientProcess::start_bin(client, &dir, &args)?;
        let log = proc.log();
        let (calls, status) = proc.finish()?;
        ensure!(
            status.success(),
            "{lang}: exited {status}: {calls:?}\n{log}"
        );
        ensure!(calls.len() == 2, "{lang}: {} calls", calls.len());
        for call in &calls {
            ensure!(ok(call), "{lang}: {call}");
            let cpu = call["cpu_ns"]
                .as_u64()
                .with_context(|| format!("{lang}: no integer cpu_ns: {call}"))?;
            let latency = call["latency_ns"]
                .as_u64()
                .with_context(|| format!("{lang}: no integer latency_ns: {call}"))?;
            ensure!(cpu > 0, "{lang}: cpu_ns 0 for a 1 MiB ping: {call}");
            ensure!(
                cpu <= latency * cpus + SLACK_NS,
                "{lang}: cpu_ns over {cpus} CPUs x latency_ns: {call}"
            );
        }
    }
    Ok(())
}
