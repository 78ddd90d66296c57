//! THeader info headers end to end, and `--transport auto`: the reconnecting
//! client's request id and deadline reach the handler through
//! `CallContext`, the handler's reply headers reach the client, and one
//! auto server serves every kind of client at once.

mod support;

use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use anyhow::{ensure, Context, Result};
use support::TestServer;
use thrift_frame_client::{ClientConfig, REQUEST_ID_HEADER};
use thrift_frame_demo::{ping_client, PingCalls};
use thrift_frame_idl::ping::{PingServiceSyncHandler, PingServiceSyncProcessor};
use thrift_frame_server::{CallContext, Limits, Protocol, ServerConfig, ServerModel, Transport};
use thrift_frame_wire::WireConfig;

/// What the handler saw of each call.
#[derive(Debug, Clone)]
struct Seen {
    headers: Vec<(String, String)>,
    request_id: Option<String>,
    deadline_in: Option<Duration>,
}

/// Records every call's context and answers with a header of its own.
#[derive(Clone, Default)]
struct Recording(Arc<Mutex<Vec<Seen>>>);

impl PingServiceSyncHandler for Recording {
    fn handle_ping(&self, msg: String) -> thrift::Result<String> {
        let call = CallContext::current().ok_or("no call context in a handler")?;
        self.0.lock().map_err(|_| "poisoned")?.push(Seen {
            headers: call.headers(),
            request_id: call.request_id(),
            deadline_in: call
                .deadline()
                .map(|d| d.saturating_duration_since(Instant::now())),
        });
        call.set_response_header("x-handled-by", "recording");
        call.set_response_header("x-handled-by", format!("recording-{}", msg.len()));
        Ok(format!("receive len: {}", msg.len()))
    }

    fn handle_output(&self, msg: String) -> thrift::Result<String> {
        Ok(format!("You said: {msg}"))
    }
}

fn config(protocol: Protocol, transport: Transport) -> ServerConfig {
    ServerConfig {
        wire: WireConfig {
            protocol,
            transport,
            limits: Limits::default(),
        },
        ..ServerConfig::default()
    }
}

fn nonblocking(protocol: Protocol, transport: Transport) -> ServerConfig {
    ServerConfig {
        model: ServerModel::Nonblocking {
            io_threads: 1,
            workers: 2,
            max_buffered_bytes: 64 << 20,
        },
        ..config(protocol, transport)
    }
}

#[test]
fn request_id_deadline_and_headers_reach_the_handler_and_reply_headers_come_back() -> Result<()> {
    for (server_config, protocol) in [
        (
            config(Protocol::Compact, Transport::Header),
            Protocol::Compact,
        ),
        (
            config(Protocol::Binary, Transport::Header),
            Protocol::Binary,
        ),
        (config(Protocol::Binary, Transport::Auto), Protocol::Binary),
        (
            nonblocking(Protocol::Binary, Transport::Header),
            Protocol::Compact,
        ),
    ] {
        let server_transport = server_config.wire.transport;
        let recording = Recording::default();
        let processor = Arc::new(PingServiceSyncProcessor::new(recording.clone()));
        let server = TestServer::start_with(server_config, processor)?;
        let mut client_config = ClientConfig::new(server.addr.to_string());
        client_config.wire.protocol = protocol;
        client_config.wire.transport = Transport::Header;
        client_config.call_timeout = Duration::from_millis(1500);
        client_config.request_id_prefix = "test".into();
        let mut client = ping_client(client_config, false)?;

        client.ping("one")?;
        ensure!(client.last_request_id() == Some("test-1"));
        ensure!(
            client.reply_header("x-handled-by") == Some("recording-3"),
            "{server_transport}: reply headers {:?}",
            client.reply_headers()
        );
        client.set_header("x-tenant", "blue");
        client.set_header(REQUEST_ID_HEADER, "chosen-by-caller");
        client.ping("two!")?;
        // Headers set for one call are not sent with the next.
        client.ping("three")?;

        let seen = recording
            .0
            .lock()
            .map_err(|_| anyhow::anyhow!("poisoned"))?
            .clone();
        ensure!(seen.len() == 3, "{seen:?}");
        let ids: Vec<_> = seen.iter().map(|s| s.request_id.clone()).collect();
        ensure!(
            ids == [
                Some("test-1".to_string()),
                Some("chosen-by-caller".to_string()),
                Some("test-3".to_string())
            ],
            "{server_transport}: {ids:?}"
        );
        let tenant = |s: &Seen| {
            s.headers
                .iter()
                .any(|(k, v)| k == "x-tenant" && v == "blue")
        };
        ensure!(tenant(&seen[1]) && !tenant(&seen[2]), "{seen:?}");
        for s in &seen {
            let left = s.deadline_in.context("no deadline")?;
            ensure!(
                left <= Duration::from_millis(1500) && left > Duration::from_millis(500),
                "deadline {left:?} from a 1500 ms call timeout"
            );
        }
        server.stop()?;
    }
    Ok(())
}

#[test]
fn over_other_transports_a_handler_has_a_context_without_headers() -> Result<()> {
    let recording = Recording::default();
    let processor = Arc::new(PingServiceSyncProcessor::new(recording.clone()));
    let server = TestServer::start_with(config(Protocol::Compact, Transport::Framed), processor)?;
    let mut client_config = ClientConfig::new(server.addr.to_string());
    client_config.wire.transport = Transport::Framed;
    let mut client = ping_client(client_config, false)?;
    client.set_header("x-tenant", "blue"); // no header transport: not sent
    client.ping("x")?;
    ensure!(client.last_request_id().is_none());
    ensure!(client.reply_headers().is_empty());
    let seen = recording
        .0
        .lock()
        .map_err(|_| anyhow::anyhow!("poisoned"))?
        .clone();
    ensure!(seen.len() == 1 && seen[0].headers.is_empty() && seen[0].request_id.is_none());
    server.stop()?;
    Ok(())
}

#[test]
fn one_auto_server_serves_every_kind_of_client_at_once() -> Result<()> {
    let server = TestServer::start(config(Protocol::Compact, Transport::Auto))?;
    let mut kinds = Vec::new();
    for protocol in [Protocol::Binary, Protocol::Compact, Protocol::Json] {
        for transport in [Transport::Buffered, Transport::Framed, Transport::Header] {
            if protocol == Protocol::Json && transport == Transport::Header {
                continue;
            }
            kinds.push((protocol, transport));
        }
    }
    // Every client connects before any calls, so all are open at once.
    let clients = kinds
        .iter()
        .map(|&(protocol, transport)| {
            let mut config = ClientConfig::new(server.addr.to_string());
            config.wire.protocol = protocol;
            config.wire.transport = transport;
            let mut client = ping_client(config, false)?;
            client.connect()?;
            Ok((protocol, transport, client))
        })
        .collect::<Result<Vec<_>>>()?;
    let threads: Vec<_> = clients
        .into_iter()
        .map(|(protocol, transport, mut client)| {
            thread::spawn(move || -> Result<()> {
                for size in [0, 100, 70_000, 1 << 20] {
                    let msg = "é".repeat(size / 2);
                    let reply = client
                        .ping(&msg)
                        .with_context(|| format!("{protocol} {transport} ping of {size}"))?;
                    ensure!(reply == format!("receive len: {}", msg.len()));
                    // The demo handler echoes the request id over THeader.
                    let echoed = client.reply_header(REQUEST_ID_HEADER);
                    ensure!(
                        echoed == client.last_request_id(),
                        "{protocol} {transport}: sent {:?}, got {echoed:?}",
                        client.last_request_id()
                    );
                    ensure!((transport == Transport::Header) == echoed.is_some());
                }
                ensure!(client.stats().reconnects == 0);
                Ok(())
            })
        })
        .collect();
    for t in threads {
        t.join().map_err(|_| anyhow::anyhow!("client panicked"))??;
    }
    let report = server.stop()?;
    ensure!(report.calls == 4 * kinds.len() as u64, "{report:?}");
    ensure!(report.bad_connections == 0, "{report:?}");
    Ok(())
}
