//! Hands accepted connections to the threads of the chosen model.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{self, TrySendError};
use std::sync::{Arc, Mutex};
use std::thread::{self, JoinHandle};

use log::{info, warn};

use crate::connection::Connection;
use crate::server::Shared;
use crate::{ServerError, ServerModel};

pub(crate) enum Dispatcher {
    Simple(Arc<Shared>),
    Threaded {
        shared: Arc<Shared>,
        threads: Vec<JoinHandle<()>>,
    },
    Pool {
        shared: Arc<Shared>,
        sender: Option<mpsc::SyncSender<Connection>>,
        workers: Vec<JoinHandle<()>>,
        busy: Arc<AtomicUsize>,
        queued: Arc<AtomicUsize>,
        size: usize,
        queue: usize,
    },
}

impl Dispatcher {
    pub(crate) fn new(shared: &Arc<Shared>) -> Result<Self, ServerError> {
        Ok(match shared.config.model {
            ServerModel::Simple => Dispatcher::Simple(shared.clone()),
            ServerModel::Threaded => Dispatcher::Threaded {
                shared: shared.clone(),
                threads: Vec::new(),
            },
            ServerModel::Nonblocking { .. } => {
                return Err(ServerError::InvalidConfig(
                    "the non-blocking model has no connection dispatcher".into(),
                ))
            }
            ServerModel::Pool { workers, queue } => {
                // A rendezvous channel (queue 0) hands over only to an idle worker.
                let (sender, receiver) = mpsc::sync_channel::<Connection>(queue);
                let receiver = Arc::new(Mutex::new(receiver));
                let busy = Arc::new(AtomicUsize::new(0));
                let queued = Arc::new(AtomicUsize::new(0));
                let mut handles = Vec::with_capacity(workers);
                for n in 0..workers {
                    let (shared, receiver, busy, queued) = (
                        shared.clone(),
                        receiver.clone(),
                        busy.clone(),
                        queued.clone(),
                    );
                    let handle = thread::Builder::new()
                        .name(format!("pool-worker-{n}"))
                        .spawn(move || loop {
                            let next = receiver.lock().unwrap_or_else(|p| p.into_inner()).recv();
                            let Ok(conn) = next else { return };
                            queued.fetch_sub(1, Ordering::SeqCst);
                            busy.fetch_add(1, Ordering::SeqCst);
                            shared.run(conn);
                            busy.fetch_sub(1, Ordering::SeqCst);
                        })
                        .map_err(|e| ServerError::io("starting pool workers", e))?;
                    handles.push(handle);
                }
                Dispatcher::Pool {
                    shared: shared.clone(),
                    sender: Some(sender),
                    workers: handles,
                    busy,
                    queued,
                    size: workers,
                    queue,
                }
            }
        })
    }

    pub(crate) fn dispatch(&mut self, conn: Connection) {
        match self {
            Dispatcher::Simple(shared) => shared.run(conn),
            Dispatcher::Threaded { shared, threads } => {
                threads.retain(|t| !t.is_finished());
                let (id, peer) = (conn.id, conn.peer);
                let worker = shared.clone();
                // The connection moves into the closure; if the thread cannot
                // start, the closure (and with it the connection and its
                // registration) is dropped, which closes it.
                let spawned = thread::Builder::new()
                    .name(format!("conn-{id}"))
                    .spawn(move || worker.run(conn));
                match spawned {
                    Ok(t) => threads.push(t),
                    Err(e) => {
                        shared.stats.refused.fetch_add(1, Ordering::Relaxed);
                        warn!("conn#{id} {peer}: refused: cannot start a thread: {e}");
                    }
                }
            }
            Dispatcher::Pool {
                shared,
                sender,
                busy,
                queued,
                size,
                queue,
                ..
            } => {
                let Some(sender) = sender else { return };
                let (id, peer) = (conn.id, conn.peer);
                queued.fetch_add(1, Ordering::SeqCst);
                match sender.try_send(conn) {
                    Ok(()) => {
                        if busy.load(Ordering::SeqCst) >= *size {
                            info!(
                                "conn#{id} {peer}: all {size} workers busy; queued ({} waiting, queue limit {queue})",
                                queued.load(Ordering::SeqCst)
                            );
                        }
                    }
                    Err(TrySendError::Full(conn)) | Err(TrySendError::Disconnected(conn)) => {
                        queued.fetch_sub(1, Ordering::SeqCst);
                        shared.stats.refused.fetch_add(1, Ordering::Relaxed);
                        warn!(
                            "conn#{id} {peer}: refused: all {size} workers busy and {queue} \
                             connections queued (raise --workers or --queue)"
                        );
                        conn.refuse();
                    }
                }
            }
        }
    }

    /// Waits for the threads of every connection that has ended; when
    /// `all_ended` is false (connections were cut but a handler is still
    /// running), threads still running are left behind instead of joined.
    pub(crate) fn finish(self, all_ended: bool) {
        let join = |handles: Vec<JoinHandle<()>>| {
            for h in handles {
                if all_ended || h.is_finished() {
                    let _ = h.join();
                }
            }
        };
        match self {
            Dispatcher::Simple(_) => {}
            Dispatcher::Threaded { threads, .. } => join(threads),
            Dispatcher::Pool {
                mut sender,
                workers,
                ..
            } => {
                // Closing the channel lets workers drain the queue and exit.
                sender.take();
                join(workers);
            }
        }
    }
}
