//! A call the client gave up on must not reach the server later: the client
//! aborts the connection (RST, unsent bytes discarded) instead of closing it
//! in order, which would let the kernel deliver the rest of the request
//! once the server reads again (issue 11, item 3).

use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::{bail, ensure, Result};
use socket2::{Domain, Socket, Type};
use thrift_frame_client::{ClientConfig, ClientError};
use thrift_frame_demo::student::{ServSyncClient, Student, TServSyncClient};
use thrift_frame_demo::{student_client, StudentCalls};
use thrift_frame_wire::WireConfig;

/// A `Write` whose bytes the test can read back.
#[derive(Clone, Default)]
struct Sink(Arc<Mutex<Vec<u8>>>);

impl Write for Sink {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.0.lock().expect("sink").extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// The bytes of `put(student)` as the client sends them.
fn encoded_put(student: &Student) -> Vec<u8> {
    let wire = WireConfig::default();
    let sink = Sink::default();
    let mut client = ServSyncClient::new(
        wire.input_protocol(std::io::empty()),
        wire.output_protocol(sink.clone()),
    );
    // The reply cannot be read from an empty input; the request is written.
    let _ = client.put(student.clone());
    let bytes = sink.0.lock().expect("sink").clone();
    bytes
}

/// A listener whose connections take in little: with a tiny receive
/// buffer, most of a request stays queued in the client's kernel.
fn tight_listener() -> Result<(Socket, SocketAddr)> {
    let socket = Socket::new(Domain::IPV4, Type::STREAM, None)?;
    socket.set_recv_buffer_size(2048)?;
    let addr: SocketAddr = "127.0.0.1:0".parse()?;
    socket.bind(&addr.into())?;
    socket.listen(4)?;
    let addr = socket
        .local_addr()?
        .as_socket()
        .ok_or_else(|| anyhow::anyhow!("no address"))?;
    Ok((socket, addr))
}

#[test]
fn a_put_given_up_on_never_arrives_later() -> Result<()> {
    let (listener, addr) = tight_listener()?;
    let student = Student::new(7, "x".repeat(12 * 1024), true, 20);
    let request = encoded_put(&student);

    let mut config = ClientConfig::new(addr.to_string());
    config.call_timeout = Duration::from_millis(300);
    let mut client = student_client(config, false)?;
    client.connect()?;
    let (server_side, _) = listener.accept()?;
    let mut server_side: TcpStream = server_side.into();

    // The server reads nothing while the client waits for its reply.
    match client.put(&student) {
        Err(ClientError::OutcomeUnknown { .. }) => {}
        other => bail!("expected OutcomeUnknown, got {other:?}"),
    }
    drop(client);

    // Now the server reads: it must not find the whole request.
    server_side.set_read_timeout(Some(Duration::from_secs(5)))?;
    let mut received = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match server_side.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => received.extend_from_slice(&buf[..n]),
            Err(e) if e.kind() == ErrorKind::ConnectionReset => break,
            Err(e) => bail!("reading what the client sent: {e}"),
        }
    }
    ensure!(
        received.len() < request.len(),
        "the abandoned put arrived whole ({} of {} bytes) after the client reported it failed",
        received.len(),
        request.len()
    );
    Ok(())
}
