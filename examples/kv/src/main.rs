#[allow(clippy::all)]
mod kv; // generated: thrift -out src --gen rs kv.thrift

use std::{collections::HashMap, net::TcpListener, sync::Mutex};

use kv::*; // KvStoreSyncProcessor, KvStoreSyncClient, KeyNotFound, ...
use thrift_frame_client::{ClientConfig, ReconnectingClient, RetryPolicy};
use thrift_frame_server::{Server, ShutdownSignal};

#[derive(Default)]
struct Store(Mutex<HashMap<String, String>>);

impl KvStoreSyncHandler for Store {
    fn handle_get(&self, key: String) -> thrift::Result<String> {
        let found = self.0.lock().map_err(|_| "poisoned")?.get(&key).cloned();
        found.ok_or_else(|| KeyNotFound::new(key).into())
    }
    fn handle_put(&self, key: String, value: String) -> thrift::Result<()> {
        self.0.lock().map_err(|_| "poisoned")?.insert(key, value);
        Ok(())
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let listener = TcpListener::bind("127.0.0.1:0")?;
    let mut config = ClientConfig::new(listener.local_addr()?.to_string());
    let processor = KvStoreSyncProcessor::new(Store::default());
    let server = Server::builder().processor(processor).build(listener)?;
    let shutdown = ShutdownSignal::new();
    let serving = server.spawn(shutdown.clone())?;

    config.retry_policy = RetryPolicy::idempotent(["get"]); // never `put`
    let mut kv = ReconnectingClient::new(config, KvStoreSyncClient::new)?;
    kv.call_declared("put", |c| c.put("lang".into(), "rust".into()))?;
    let lang = kv.call_declared("get", |c| c.get("lang".into()))?;
    println!("lang = {lang}");
    if let Err(e) = kv.call_declared("get", |c| c.get("nope".into())) {
        println!("nope: {:?}", e.exception::<KeyNotFound>()); // declared: connection kept
    }
    shutdown.trigger();
    serving.join().map_err(|_| "server thread panicked")??;
    Ok(())
}
