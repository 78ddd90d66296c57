//! thrifttest-client against thrift-frame's thrifttest-server, as
//! processes: every protocol x transport, the server types, multiplexing,
//! usage errors and SIGTERM. Readiness is the server's `LISTENING` line.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Output, Stdio};

use anyhow::{bail, Context};
use thrift_frame_thrifttest::{SECOND_SERVICE_METHODS, THRIFT_TEST_METHODS};

const SERVER: &str = env!("CARGO_BIN_EXE_thrifttest-server");
const CLIENT: &str = env!("CARGO_BIN_EXE_thrifttest-client");

/// A running thrifttest-server, killed when dropped.
struct ServerProcess {
    child: Child,
    port: u16,
}

impl ServerProcess {
    fn start(args: &[&str]) -> anyhow::Result<ServerProcess> {
        let mut child = Command::new(SERVER)
            .args(["--port", "0"])
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .context("starting thrifttest-server")?;
        let stdout = child.stdout.take().context("server stdout")?;
        let mut line = String::new();
        BufReader::new(stdout)
            .read_line(&mut line)
            .context("reading the LISTENING line")?;
        let port = match line.trim().strip_prefix("LISTENING ") {
            Some(port) => port.parse().context("parsing the port")?,
            None => {
                let _ = child.kill();
                let _ = child.wait();
                bail!("server {args:?} printed {line:?} instead of LISTENING <port>");
            }
        };
        Ok(ServerProcess { child, port })
    }

    /// SIGTERM, then the exit status.
    fn terminate(mut self) -> anyhow::Result<std::process::ExitStatus> {
        let status = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .context("running kill")?;
        anyhow::ensure!(status.success(), "kill -TERM failed");
        self.child.wait().context("waiting for the server")
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn client(port: u16, args: &[&str]) -> anyhow::Result<Output> {
    Command::new(CLIENT)
        .args(["--host", "127.0.0.1", "--port", &port.to_string()])
        .args(args)
        .output()
        .context("running thrifttest-client")
}

/// The client exited 0 and reported every method in `methods` as passed.
fn assert_passed(output: &Output, methods: &[&str], what: &str) {
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(
        output.status.code(),
        Some(0),
        "{what}: client failed\nstdout:\n{stdout}\nstderr:\n{stderr}"
    );
    for method in methods {
        let line = stdout
            .lines()
            .find(|l| l.starts_with(&format!("{method}: ")))
            .unwrap_or_else(|| panic!("{what}: {method} was not exercised\n{stdout}"));
        assert!(line.ends_with(": ok"), "{what}: {line}");
    }
}

fn run_pair(server_args: &[&str], client_args: &[&str], methods: &[&str]) -> anyhow::Result<()> {
    let server = ServerProcess::start(server_args)?;
    let output = client(server.port, client_args)?;
    let what = format!("server {server_args:?}, client {client_args:?}");
    assert_passed(&output, methods, &what);
    let status = server.terminate()?;
    assert_eq!(status.code(), Some(0), "{what}: server exit after SIGTERM");
    Ok(())
}

fn wire(protocol: &str, transport: &str) -> anyhow::Result<()> {
    let args = ["--protocol", protocol, "--transport", transport];
    run_pair(&args, &args, &THRIFT_TEST_METHODS)
}

#[test]
fn binary_buffered() -> anyhow::Result<()> {
    wire("binary", "buffered")
}

#[test]
fn binary_framed() -> anyhow::Result<()> {
    wire("binary", "framed")
}

#[test]
fn compact_buffered() -> anyhow::Result<()> {
    wire("compact", "buffered")
}

#[test]
fn compact_framed() -> anyhow::Result<()> {
    wire("compact", "framed")
}

fn all_methods() -> Vec<&'static str> {
    THRIFT_TEST_METHODS
        .iter()
        .chain(SECOND_SERVICE_METHODS.iter())
        .copied()
        .collect()
}

#[test]
fn multiplexed_on_a_simple_server() -> anyhow::Result<()> {
    let args = [
        "--protocol",
        "compact",
        "--transport",
        "framed",
        "--multiplexed",
    ];
    run_pair(&args, &args, &all_methods())
}

#[test]
fn multiplexed_as_upstream_spells_it() -> anyhow::Result<()> {
    // `--protocol multi` is binary + multiplexed in upstream's cross test.
    let args = ["--protocol", "multi", "--transport", "buffered"];
    run_pair(&args, &args, &all_methods())
}

#[test]
fn threaded_thread_pool_and_nonblocking_servers_with_test_loops() -> anyhow::Result<()> {
    for server_type in ["threaded", "thread-pool", "nonblocking"] {
        run_pair(
            &["--server-type", server_type, "--multiplexed"],
            &["--testloops", "2", "--multiplexed"],
            &all_methods(),
        )?;
    }
    Ok(())
}

#[test]
fn a_non_multiplexed_client_reaches_thrift_test_on_a_multiplexed_server() -> anyhow::Result<()> {
    // ThriftTest is also the multiplexed processor's default service.
    run_pair(&["--multiplexed"], &[], &THRIFT_TEST_METHODS)
}

fn assert_usage_error(program: &str, args: &[&str]) -> anyhow::Result<()> {
    let output = Command::new(program)
        .args(args)
        .output()
        .context("running")?;
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{args:?}: {stderr}");
    assert_eq!(stderr.lines().count(), 1, "{args:?}: one line: {stderr}");
    Ok(())
}

#[test]
fn usage_errors_exit_2_with_one_line() -> anyhow::Result<()> {
    assert_usage_error(
        SERVER,
        &["--server-type", "nonblocking", "--transport", "http"],
    )?;
    assert_usage_error(SERVER, &["--protocol", "header"])?;
    assert_usage_error(SERVER, &["--transport", "sctp"])?;
    assert_usage_error(SERVER, &["--ssl"])?;
    assert_usage_error(SERVER, &["--server-type", "thread-pool", "--workers", "0"])?;
    assert_usage_error(CLIENT, &["--domain-socket", "/tmp/x"])?;
    assert_usage_error(CLIENT, &["--protocol", "header"])?;
    assert_usage_error(CLIENT, &["--testloops", "many"])?;
    Ok(())
}

#[test]
fn a_client_with_no_server_fails_with_the_unknown_bit() -> anyhow::Result<()> {
    // A port nobody listens on: bind one, learn it, close it.
    let port = std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port();
    let output = client(port, &["--reconnect-deadline-ms", "200"])?;
    let code = output.status.code().context("exit code")?;
    assert_eq!(code & 64, 64, "unknown bit: {code}");
    Ok(())
}
