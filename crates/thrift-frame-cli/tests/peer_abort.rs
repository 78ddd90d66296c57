//! Each reference peer's client aborts (RST) a connection it abandons after a
//! failed call, instead of closing it normally (issue 11, item 3).
//!
//! An ordinary close leaves the unsent rest of the request in the kernel's
//! send queue and keeps retransmitting it, so a call the client already
//! reported as failed ("outcome unknown" for a put) can still reach the
//! server later. Here the "server" is a bare listener that accepts and does
//! not read until the client has given up and exited; then it reads what is
//! left. An ordinary close shows up as the rest of the request followed by
//! EOF, an abort as ECONNRESET.

mod support;

use std::io::{ErrorKind, Read};
use std::net::TcpListener;
use std::process::{Command, Stdio};
use std::time::Duration;

use anyhow::{bail, ensure, Context, Result};
use support::{peer_bin, peer_built};

/// Far more than the socket buffers of both ends hold while the server does
/// not read, so the send is cut short by `--timeout-ms` with bytes unsent.
const PAYLOAD: &str = "4M";

fn client_aborts_abandoned_connection(lang: &str) -> Result<()> {
    if !peer_built(lang)? {
        return Ok(());
    }
    let listener = TcpListener::bind("127.0.0.1:0")?;
    let port = listener.local_addr()?.port().to_string();
    // The client's retries connect again; those connections wait in the
    // backlog, unread, and are aborted the same way. Only the first is read.
    let client = Command::new(peer_bin(lang, "ping-client")?)
        .args(["--port", &port, "--sizes", PAYLOAD, "--timeout-ms", "300"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()?;
    let (mut conn, _) = listener.accept()?;
    let out = client.wait_with_output()?;
    let log = String::from_utf8_lossy(&out.stderr);
    ensure!(
        !out.status.success(),
        "{lang}: the client should have timed out against a server that does not read\n{log}"
    );

    conn.set_read_timeout(Some(Duration::from_secs(10)))?;
    let mut received = 0usize;
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        match conn.read(&mut buf) {
            Ok(0) => bail!(
                "{lang}: the abandoned connection was closed normally: {received} more request \
                 bytes arrived after the client had given up, then EOF\n{log}"
            ),
            Ok(n) => received += n,
            Err(e) if e.kind() == ErrorKind::ConnectionReset => return Ok(()),
            Err(e) => return Err(e).context(format!("{lang}: reading after {received} bytes")),
        }
    }
}

// Before the fix the C++ client already passed: libthrift's TSocket sets
// SO_LINGER {on, 0} by default (on every close, orderly ones too); Go and
// Python delivered the rest of the request (2.8 MB of 4 MiB here) and EOF.

#[test]
fn cpp_client_aborts_abandoned_connection() -> Result<()> {
    client_aborts_abandoned_connection("cpp")
}

#[test]
fn go_client_aborts_abandoned_connection() -> Result<()> {
    client_aborts_abandoned_connection("go")
}

#[test]
fn python_client_aborts_abandoned_connection() -> Result<()> {
    client_aborts_abandoned_connection("python")
}
