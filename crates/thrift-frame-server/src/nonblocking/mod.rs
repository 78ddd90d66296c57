//! The non-blocking model: event loops over non-blocking sockets, and a
//! pool of workers that run the processor on whole requests.
//!
//! How a request travels:
//! 1. The first I/O thread accepts, counts the connection against the
//!    limit, and hands it to an I/O thread (round robin), which registers
//!    it with its `mio::Poll`.
//! 2. When the socket is readable, the I/O thread reads into its own
//!    64 KiB scratch buffer; a small request that arrives whole is copied
//!    once, out of the scratch buffer, into its own allocation. A larger
//!    one gets a buffer of its frame's size (framed) or grows one as it
//!    arrives (buffered, whose end [`MessageBoundary`] finds), and later
//!    reads go straight into it. An idle connection holds no buffer.
//! 3. The complete request goes to a worker (or, with no workers, is
//!    processed on the I/O thread). The worker runs the processor over the
//!    bytes and writes the reply into one buffer, framed in place.
//! 4. The reply comes back to the connection's I/O thread through its
//!    mailbox and a `mio::Waker` (one wake-up for however many replies
//!    arrived meanwhile), which writes what the socket takes and the rest
//!    when it is writable again.
//! 5. Only then is the connection read again: one request in flight per
//!    connection, so a peer that never reads its replies stops being read.
//!
//! [`MessageBoundary`]: thrift_frame_wire::MessageBoundary

mod budget;
mod call;
mod conn;
mod io_loop;

use std::net::TcpListener;
use std::sync::Arc;
use std::thread::{self, JoinHandle};
use std::time::Instant;

use log::warn;

use crate::server::Shared;
use crate::ServerError;

pub(crate) use budget::Budget;
use io_loop::{IoLoop, Mailbox};

/// The model's threads and its memory bound.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Threads {
    pub io: usize,
    pub workers: usize,
    pub max_buffered_bytes: usize,
}

/// Serves on `listener` until shutdown: the first I/O thread runs on the
/// calling thread, the others and the workers on threads of their own.
pub(crate) fn serve(
    listener: &TcpListener,
    shared: &Arc<Shared>,
    limit: usize,
    threads: Threads,
) -> Result<(), ServerError> {
    listener
        .set_nonblocking(true)
        .map_err(|e| ServerError::io("making the listener non-blocking", e))?;
    let budget = Arc::new(Budget::new(
        threads.max_buffered_bytes,
        shared.stats.clone(),
    ));
    let mut loops = Vec::with_capacity(threads.io);
    for index in 0..threads.io {
        loops.push(IoLoop::new(index, shared.clone(), budget.clone())?);
    }
    let mailboxes: Vec<Mailbox> = loops.iter().map(IoLoop::mailbox).collect();

    let (jobs, job_queue) = crossbeam_channel::unbounded::<call::Job>();
    let mut workers = Vec::with_capacity(threads.workers);
    for n in 0..threads.workers {
        let (queue, shared, mailboxes) = (job_queue.clone(), shared.clone(), mailboxes.clone());
        let handle = thread::Builder::new()
            .name(format!("nb-worker-{n}"))
            .spawn(move || call::work(&queue, &shared, &mailboxes))
            .map_err(|e| ServerError::io("starting the non-blocking workers", e))?;
        workers.push(handle);
    }
    let jobs = (threads.workers > 0).then_some(jobs);

    let mut others: Vec<JoinHandle<()>> = Vec::new();
    let mut first = None;
    for io in loops {
        if first.is_none() {
            first = Some(io);
            continue;
        }
        let jobs = jobs.clone();
        let name = format!("nb-io-{}", others.len() + 1);
        let handle = thread::Builder::new()
            .name(name)
            .spawn(move || io.run(None, jobs))
            .map_err(|e| ServerError::io("starting the non-blocking I/O threads", e))?;
        others.push(handle);
    }
    let result = match first {
        Some(io) => {
            let acceptor = io_loop::Acceptor::new(listener, limit, mailboxes)?;
            io.run(Some(acceptor), jobs);
            Ok(())
        }
        None => Err(ServerError::InvalidConfig(
            "the non-blocking model needs at least one I/O thread".into(),
        )),
    };
    for handle in others {
        let _ = handle.join();
    }
    // Workers stop once the job queue is closed and empty; one stuck in a
    // handler that never returns is left behind, as the other models do.
    let deadline = Instant::now() + crate::server::CUT_CONNECTIONS_GRACE;
    for handle in workers {
        while !handle.is_finished() && Instant::now() < deadline {
            thread::sleep(std::time::Duration::from_millis(5));
        }
        if handle.is_finished() {
            let _ = handle.join();
        } else {
            warn!("a non-blocking worker is still in a handler after shutdown; not waiting for it");
        }
    }
    result
}
