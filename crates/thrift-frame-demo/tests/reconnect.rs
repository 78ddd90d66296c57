//! The reconnect and retry policy against real servers in this process: a
//! thrift-frame server that goes away and comes back, and two misbehaving
//! fakes (one that hangs up on every request, one that never answers).

use std::io::Read;
use std::net::{SocketAddr, TcpListener};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread::{self, JoinHandle};
use std::time::Duration;

use anyhow::{anyhow, ensure, Context, Result};
use thrift_frame_client::{Backoff, ClientConfig, ClientError};
use thrift_frame_demo::student::Student;
use thrift_frame_demo::{ping_client, student_client, PingCalls, Service, StudentCalls};
use thrift_frame_server::{serve, ServeReport, ServerConfig, ServerError, ShutdownSignal};

struct Server {
    shutdown: ShutdownSignal,
    handle: JoinHandle<Result<ServeReport, ServerError>>,
}

fn start_on(listener: TcpListener, service: Service) -> Server {
    let _ = env_logger::builder().is_test(true).try_init();
    let shutdown = ShutdownSignal::new();
    let signal = shutdown.clone();
    let config = ServerConfig::default();
    let handle = thread::spawn(move || {
        let processor = service.processor()?;
        serve(listener, processor, config, signal)
    });
    Server { shutdown, handle }
}

impl Server {
    fn stop(self) -> Result<ServeReport> {
        self.shutdown.trigger();
        self.handle
            .join()
            .map_err(|_| anyhow!("server panicked"))?
            .context("serve")
    }
}

fn quick_config(addr: SocketAddr) -> ClientConfig {
    let mut config = ClientConfig::new(addr.to_string());
    config.call_timeout = Duration::from_millis(300);
    config.backoff = Backoff {
        max_attempts: Some(5),
        ..Backoff::default()
    };
    config
}

/// A fake server that accepts connections, reads whatever arrives, and then
/// either hangs up (`reply_never = false`) or holds the connection without
/// answering. Counts the connections it accepted.
fn fake_server(hang: bool) -> Result<(SocketAddr, Arc<AtomicUsize>)> {
    let listener = TcpListener::bind("127.0.0.1:0")?;
    let addr = listener.local_addr()?;
    let accepted = Arc::new(AtomicUsize::new(0));
    let count = accepted.clone();
    thread::spawn(move || {
        for conn in listener.incoming() {
            let Ok(mut conn) = conn else { return };
            count.fetch_add(1, Ordering::SeqCst);
            thread::spawn(move || {
                let mut buf = [0u8; 1024];
                // Read the request's first bytes, then hang up or hold on.
                let _ = conn.read(&mut buf);
                if hang {
                    while matches!(conn.read(&mut buf), Ok(n) if n > 0) {}
                }
            });
        }
    });
    Ok((addr, accepted))
}

#[test]
fn ping_survives_a_server_restart_on_the_same_port() -> Result<()> {
    let listener = TcpListener::bind("127.0.0.1:0")?;
    let addr = listener.local_addr()?;
    let server = start_on(listener, Service::Ping);
    let mut client = ping_client(quick_config(addr), false)?;
    ensure!(client.ping("one")? == "receive len: 3");
    server.stop()?; // closes our idle connection

    // The same port again (std sets SO_REUSEADDR on Unix listeners).
    let server = start_on(TcpListener::bind(addr)?, Service::Ping);
    ensure!(client.ping("two!")? == "receive len: 4");
    let stats = client.stats();
    ensure!(stats.reconnects == 1, "{stats:?}");
    ensure!(stats.failures == 0, "{stats:?}");
    server.stop()?;
    Ok(())
}

#[test]
fn client_started_before_the_server_connects_once_it_is_up() -> Result<()> {
    // Reserve a free port, release it, and bring the server up on it later.
    let addr = TcpListener::bind("127.0.0.1:0")?.local_addr()?;
    let mut config = quick_config(addr);
    config.backoff.max_attempts = None;
    let mut client = ping_client(config, false)?;
    let late = thread::spawn(move || -> Result<Server> {
        thread::sleep(Duration::from_millis(300)); // the server is late: that is the test
        Ok(start_on(TcpListener::bind(addr)?, Service::Ping))
    });
    let reply = client.ping("early")?;
    let server = late.join().map_err(|_| anyhow!("starter panicked"))??;
    ensure!(reply == "receive len: 5");
    ensure!(client.stats().failed_attempts >= 1, "{:?}", client.stats());
    server.stop()?;
    Ok(())
}

#[test]
fn connecting_gives_up_when_the_backoff_budget_is_spent() -> Result<()> {
    let addr = TcpListener::bind("127.0.0.1:0")?.local_addr()?;
    let mut config = quick_config(addr);
    config.backoff.max_attempts = Some(3);
    let mut client = ping_client(config, false)?;
    match client.ping("anyone?") {
        Err(e @ ClientError::ConnectFailed { attempts: 3, .. }) => {
            ensure!(e.is_retryable());
            ensure!(e.to_string().contains("refused"), "unclear error: {e}");
        }
        other => {
            return Err(anyhow!(
                "expected ConnectFailed after 3 attempts, got {other:?}"
            ))
        }
    }
    ensure!(client.stats().failed_attempts == 3);
    Ok(())
}

#[test]
fn ping_is_retried_on_fresh_connections_then_reported_lost() -> Result<()> {
    let (addr, accepted) = fake_server(false)?;
    let mut client = ping_client(quick_config(addr), false)?;
    match client.ping("hello") {
        Err(e @ ClientError::ConnectionLost { attempts: 3, .. }) => ensure!(e.is_retryable()),
        other => {
            return Err(anyhow!(
                "expected ConnectionLost after 3 attempts, got {other:?}"
            ))
        }
    }
    // One connection per attempt: a used connection is never reused.
    ensure!(accepted.load(Ordering::SeqCst) == 3);
    Ok(())
}

#[test]
fn put_is_never_retried_and_reports_an_unknown_outcome() -> Result<()> {
    let (addr, accepted) = fake_server(false)?;
    let mut client = student_client(quick_config(addr), false)?;
    let student = Student::new(7, "s".to_string(), true, 20i16);
    match client.put(&student) {
        Err(e @ ClientError::OutcomeUnknown { .. }) => {
            ensure!(!e.is_retryable());
            ensure!(e.to_string().contains("outcome unknown"), "{e}");
        }
        other => return Err(anyhow!("expected OutcomeUnknown, got {other:?}")),
    }
    ensure!(accepted.load(Ordering::SeqCst) == 1, "put was sent twice");
    ensure!(!client.is_connected(), "the broken stack was kept");
    Ok(())
}

#[test]
fn a_server_that_never_answers_times_out_with_a_clear_error() -> Result<()> {
    let (addr, accepted) = fake_server(true)?;
    let mut client = ping_client(quick_config(addr), false)?;
    match client.ping("hello") {
        Err(e @ ClientError::ConnectionLost { .. }) => {
            ensure!(e.to_string().contains("timed out"), "unclear error: {e}");
        }
        other => return Err(anyhow!("expected a timeout, got {other:?}")),
    }
    ensure!(accepted.load(Ordering::SeqCst) == 3);
    Ok(())
}

#[test]
fn application_errors_are_not_retried_and_keep_the_connection() -> Result<()> {
    // A student client against a ping server: every put is an unknown method.
    let listener = TcpListener::bind("127.0.0.1:0")?;
    let addr = listener.local_addr()?;
    let server = start_on(listener, Service::Ping);
    let mut client = student_client(quick_config(addr), false)?;
    for _ in 0..2 {
        match client.put(&Student::new(1, "x".to_string(), true, 2i16)) {
            Err(e @ ClientError::Application { .. }) => {
                ensure!(!e.is_retryable());
                ensure!(e.to_string().contains("unknown method put"), "{e}");
            }
            other => return Err(anyhow!("expected an application error, got {other:?}")),
        }
        ensure!(client.is_connected());
    }
    let report = server.stop()?;
    ensure!(report.connections == 1, "{report:?}");
    ensure!(client.stats().reconnects == 0);
    Ok(())
}

/// An HTTP server that answers every request with `503 Service
/// Unavailable` and keeps the connection open. Counts connections.
fn unavailable_http_server() -> Result<(SocketAddr, Arc<AtomicUsize>)> {
    use std::io::Write;
    let listener = TcpListener::bind("127.0.0.1:0")?;
    let addr = listener.local_addr()?;
    let accepted = Arc::new(AtomicUsize::new(0));
    let count = accepted.clone();
    thread::spawn(move || {
        for conn in listener.incoming() {
            let Ok(mut conn) = conn else { return };
            count.fetch_add(1, Ordering::SeqCst);
            thread::spawn(move || {
                let mut buf = [0u8; 4096];
                // Each read holds (the start of) one small request.
                while matches!(conn.read(&mut buf), Ok(n) if n > 0) {
                    let answer =
                        "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 9\r\n\r\nbusy, sry";
                    if conn.write_all(answer.as_bytes()).is_err() {
                        return;
                    }
                }
            });
        }
    });
    Ok((addr, accepted))
}

fn http_config(addr: SocketAddr) -> ClientConfig {
    let mut config = quick_config(addr);
    config.wire.transport = thrift_frame_wire::Transport::Http;
    config
}

#[test]
fn over_http_a_failed_post_of_ping_is_retried_and_of_put_is_an_unknown_outcome() -> Result<()> {
    let (addr, accepted) = unavailable_http_server()?;
    let mut client = ping_client(http_config(addr), false)?;
    match client.ping("hello") {
        Err(e @ ClientError::ConnectionLost { attempts: 3, .. }) => {
            ensure!(e.is_retryable());
            let shown = format!("{e:#}");
            ensure!(
                shown.contains("HTTP 503"),
                "the status is not said: {shown}"
            );
        }
        other => return Err(anyhow!("expected ConnectionLost after 3, got {other:?}")),
    }
    ensure!(
        accepted.load(Ordering::SeqCst) == 3,
        "one connection per attempt"
    );

    let (addr, accepted) = unavailable_http_server()?;
    let mut client = student_client(http_config(addr), false)?;
    match client.put(&Student::new(7, "s".to_string(), true, 20i16)) {
        Err(e @ ClientError::OutcomeUnknown { .. }) => ensure!(!e.is_retryable()),
        other => return Err(anyhow!("expected OutcomeUnknown, got {other:?}")),
    }
    ensure!(accepted.load(Ordering::SeqCst) == 1, "put was sent twice");
    Ok(())
}

/// An HTTP/1.0 server as Python's THttpServer is: each connection answers
/// one request, with no Content-Length, then sends FIN, `close_after` the
/// response (Python closes once its handler has returned). Counts the
/// requests a client sent into a connection after the response.
fn http10_server(
    close_after: Duration,
    with_length: bool,
) -> Result<(SocketAddr, Arc<AtomicUsize>)> {
    use std::io::Write;
    use std::sync::Mutex;

    #[derive(Clone, Default)]
    struct Capture(Arc<Mutex<Vec<u8>>>);
    impl Write for Capture {
        fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
            self.0.lock().expect("capture").extend_from_slice(b);
            Ok(b.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    let listener = TcpListener::bind("127.0.0.1:0")?;
    let addr = listener.local_addr()?;
    let late = Arc::new(AtomicUsize::new(0));
    let count = late.clone();
    let processor = Service::Ping.processor()?;
    thread::spawn(move || {
        for conn in listener.incoming() {
            let Ok(mut conn) = conn else { return };
            let (count, processor) = (count.clone(), processor.clone());
            thread::spawn(move || -> Option<()> {
                let wire = thrift_frame_wire::WireConfig {
                    transport: thrift_frame_wire::Transport::Http,
                    ..Default::default()
                };
                let response = Capture::default();
                let mut stack = wire.server_stack(conn.try_clone().ok()?, response.clone());
                processor
                    .process(&mut stack.input, &mut stack.output)
                    .ok()?;
                let bytes = response.0.lock().ok()?.clone();
                let body_at = bytes.windows(4).position(|w| w == b"\r\n\r\n")? + 4;
                let body = &bytes[body_at..];
                let length = if with_length {
                    format!("Content-Length: {}\r\n", body.len())
                } else {
                    String::new()
                };
                let head = format!(
                    "HTTP/1.0 200 OK\r\nContent-Type: application/x-thrift\r\n{length}\r\n"
                );
                conn.write_all(head.as_bytes()).ok()?;
                conn.write_all(body).ok()?;
                // The client must read to the close, or it may send its
                // next call into this connection before the FIN comes.
                thread::sleep(close_after);
                conn.shutdown(std::net::Shutdown::Write).ok()?;
                conn.set_read_timeout(Some(Duration::from_secs(2))).ok()?;
                if matches!(conn.read(&mut [0u8; 64]), Ok(n) if n > 0) {
                    count.fetch_add(1, Ordering::SeqCst);
                }
                Some(())
            });
        }
    });
    Ok((addr, late))
}

#[test]
fn over_http_a_connection_the_server_closed_after_its_response_is_not_reused() -> Result<()> {
    let later = Duration::from_millis(100);
    for (close_after, with_length) in [(Duration::ZERO, false), (later, false), (later, true)] {
        http10_server_is_not_sent_into(close_after, with_length)?;
    }
    Ok(())
}

fn http10_server_is_not_sent_into(close_after: Duration, with_length: bool) -> Result<()> {
    let (addr, late) = http10_server(close_after, with_length)?;
    let mut client = ping_client(http_config(addr), false)?;
    for text in ["a", "bb", "ccc", "dddd"] {
        ensure!(client.ping(text)? == format!("receive len: {}", text.len()));
    }
    ensure!(
        late.load(Ordering::SeqCst) == 0,
        "{} requests were sent into connections the server had closed",
        late.load(Ordering::SeqCst)
    );
    ensure!(client.stats().reconnects == 3, "{:?}", client.stats());
    Ok(())
}
