//! A client that many threads share: a bounded pool of reconnecting
//! connections.

use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use crate::reconnecting::BuildClient;
use crate::{
    ClientConfig, ClientError, ClientStats, Idempotency, InputProtocol, OutputProtocol,
    ReconnectingClient,
};

struct Pool<G> {
    idle: Vec<ReconnectingClient<G>>,
    /// Clients in existence: idle plus lent out.
    total: usize,
    /// Counters of the clients that were returned to the pool or dropped.
    stats: ClientStats,
}

/// A `Send + Sync` client for one service, shared by any number of threads.
///
/// Each call borrows one [`ReconnectingClient`] from a pool of at most
/// `max_connections` (creating one if none is idle and the pool is not
/// full, waiting for one otherwise), runs it with the same reconnect and
/// retry policy as a single client, and gives it back. A client whose
/// connection broke is returned without one and reconnects on its next call.
///
/// ```no_run
/// use std::sync::Arc;
/// use thrift_frame_client::{ClientConfig, Idempotency, SharedClient};
/// # use thrift_frame_client::{InputProtocol, OutputProtocol};
/// # // Stands in for a client `thrift --gen rs` generates from a user's IDL.
/// # struct KvSyncClient { _i: InputProtocol, _o: OutputProtocol }
/// # impl KvSyncClient {
/// #     fn new(i: InputProtocol, o: OutputProtocol) -> Self { KvSyncClient { _i: i, _o: o } }
/// #     fn get(&mut self, _k: String) -> thrift::Result<String> { Ok(String::new()) }
/// # }
///
/// let config = ClientConfig::new("127.0.0.1:9090");
/// let client = Arc::new(SharedClient::new(config, 8, KvSyncClient::new)?);
/// let threads: Vec<_> = (0..16)
///     .map(|i| {
///         let client = client.clone();
///         std::thread::spawn(move || {
///             client.call("get", Idempotency::Idempotent, |c| c.get(format!("key-{i}")))
///         })
///     })
///     .collect();
/// for t in threads {
///     println!("{}", t.join().expect("thread")?);
/// }
/// # Ok::<(), thrift_frame_client::ClientError>(())
/// ```
pub struct SharedClient<G> {
    config: ClientConfig,
    build: BuildClient<G>,
    max_connections: usize,
    pool: Mutex<Pool<G>>,
    returned: Condvar,
}

/// A client borrowed from the pool; goes back when dropped, also when the
/// call panicked (then without its connection, which may be mid-call).
struct Lease<'a, G> {
    owner: &'a SharedClient<G>,
    client: Option<ReconnectingClient<G>>,
}

impl<G> Drop for Lease<'_, G> {
    fn drop(&mut self) {
        let Some(mut client) = self.client.take() else {
            return;
        };
        if std::thread::panicking() {
            client.abandon();
        }
        let mut pool = self.owner.lock();
        pool.idle.push(client);
        drop(pool);
        self.owner.returned.notify_one();
    }
}

impl<G> SharedClient<G> {
    fn lock(&self) -> MutexGuard<'_, Pool<G>> {
        self.pool.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl<G> SharedClient<G> {
    /// A shared client opening at most `max_connections` connections, each
    /// with a generated client made by `build` (the generated `new`).
    pub fn new(
        config: ClientConfig,
        max_connections: usize,
        build: impl Fn(InputProtocol, OutputProtocol) -> G + Send + Sync + 'static,
    ) -> Result<Self, ClientError> {
        if max_connections == 0 {
            return Err(ClientError::InvalidConfig(
                "a shared client needs at least one connection".into(),
            ));
        }
        // Validates the configuration once, before any thread calls.
        config.validate()?;
        Ok(SharedClient {
            config,
            build: Arc::new(build),
            max_connections,
            pool: Mutex::new(Pool {
                idle: Vec::new(),
                total: 0,
                stats: ClientStats::default(),
            }),
            returned: Condvar::new(),
        })
    }

    /// Borrows an idle client, makes one, or waits for one to come back;
    /// gives up after `wait` (then every connection was busy all along).
    fn lease(&self, wait: Duration) -> Result<Lease<'_, G>, ClientError> {
        let deadline = Instant::now() + wait;
        let mut pool = self.lock();
        loop {
            if let Some(client) = pool.idle.pop() {
                return Ok(Lease {
                    owner: self,
                    client: Some(client),
                });
            }
            if pool.total < self.max_connections {
                pool.total += 1;
                drop(pool);
                let client =
                    ReconnectingClient::with_builder(self.config.clone(), self.build.clone());
                return match client {
                    Ok(client) => Ok(Lease {
                        owner: self,
                        client: Some(client),
                    }),
                    Err(e) => {
                        self.lock().total -= 1;
                        Err(e)
                    }
                };
            }
            let now = Instant::now();
            if now >= deadline {
                return Err(ClientError::Busy {
                    endpoint: self.config.endpoint.clone(),
                    connections: self.max_connections,
                    waited: wait,
                });
            }
            pool = self
                .returned
                .wait_timeout(pool, deadline - now)
                .unwrap_or_else(|p| p.into_inner())
                .0;
        }
    }

    /// [`ReconnectingClient::call`] on a pooled connection. Waits for a
    /// free connection at most the connect timeout plus the call timeout
    /// times the attempts per call: as long as one call on it may take.
    pub fn call<T>(
        &self,
        method: &'static str,
        idempotency: Idempotency,
        op: impl FnMut(&mut G) -> thrift::Result<T>,
    ) -> Result<T, ClientError> {
        let wait =
            self.config.connect_timeout + self.config.call_timeout * self.config.max_call_attempts;
        let mut lease = self.lease(wait)?;
        let client = lease
            .client
            .as_mut()
            .ok_or_else(|| ClientError::InvalidConfig("lease without a client".into()))?;
        let before = client.stats();
        let result = client.call(method, idempotency, op);
        let after = client.stats();
        self.lock().stats.add_difference(&before, &after);
        result
    }

    /// [`call`](Self::call) with the idempotency the configuration's
    /// `retry_policy` declares for `method`.
    pub fn call_declared<T>(
        &self,
        method: &'static str,
        op: impl FnMut(&mut G) -> thrift::Result<T>,
    ) -> Result<T, ClientError> {
        let idempotency = self.config.retry_policy.of(method);
        self.call(method, idempotency, op)
    }

    /// Counters summed over every pooled connection.
    pub fn stats(&self) -> ClientStats {
        self.lock().stats
    }

    /// Connections the pool holds now (idle or lent out).
    pub fn connections(&self) -> usize {
        self.lock().total
    }
}
