//! An I/O thread: one `mio::Poll` over its connections (and, for the
//! first, the listener), its mailbox, and the sweep of its timers.

use std::io;
use std::net::{SocketAddr, TcpListener};
use std::os::fd::AsRawFd;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc};
use std::time::{Duration, Instant};

use log::{debug, error, warn};
use mio::unix::SourceFd;
use mio::{Events, Interest, Poll, Token, Waker};
use slab::Slab;
use thrift_frame_wire::SharedSocket;

use super::call::{self, Completion, Job};
use super::conn::{Conn, Phase, Progress, DIRECT_READ_MIN};
use super::Budget;
use crate::connection::Ending;
use crate::descriptors::{self, SpareDescriptor};
use crate::registry::{ConnectionState, Registration};
use crate::server::EXHAUSTED_BACKOFF;
use crate::server::{is_resource_shortage, is_transient, RateLimitedWarning, Shared};

const LISTENER: Token = Token(usize::MAX);
const WAKER: Token = Token(usize::MAX - 1);
/// Connections accepted per turn of the loop before the others get theirs.
const ACCEPT_BATCH: usize = 256;
/// How often timers are swept, at most; shorter timeouts sweep more often.
const SWEEP_EVERY: Duration = Duration::from_millis(100);
/// How soon connections waiting for the budget look again.
const BUDGET_RETRY: Duration = Duration::from_millis(5);

/// An accepted connection on its way to its I/O thread.
pub(crate) struct Accepted {
    id: u64,
    peer: SocketAddr,
    socket: SharedSocket,
    state: Arc<ConnectionState>,
    registration: Registration,
}

enum Mail {
    Accepted(Accepted),
    Done(Completion),
}

/// How other threads reach an I/O thread: a queue, and one wake-up for
/// however many letters arrive before it looks.
#[derive(Clone)]
pub(crate) struct Mailbox {
    sender: mpsc::Sender<Mail>,
    waker: Arc<Waker>,
    pending: Arc<AtomicBool>,
}

impl Mailbox {
    fn deliver(&self, mail: Mail) {
        if self.sender.send(mail).is_ok() && !self.pending.swap(true, Ordering::AcqRel) {
            if let Err(e) = self.waker.wake() {
                warn!("could not wake an I/O thread: {e}");
            }
        }
    }

    pub(crate) fn deliver_completion(&self, completion: Completion) {
        self.deliver(Mail::Done(completion));
    }
}

pub(crate) struct IoLoop {
    index: usize,
    poll: Poll,
    shared: Arc<Shared>,
    budget: Arc<Budget>,
    mailbox: Mailbox,
    letters: mpsc::Receiver<Mail>,
    conns: Slab<Conn>,
    scratch: Vec<u8>,
    paused: Vec<usize>,
}

impl IoLoop {
    pub(crate) fn new(
        index: usize,
        shared: Arc<Shared>,
        budget: Arc<Budget>,
    ) -> Result<IoLoop, crate::ServerError> {
        let poll = Poll::new().map_err(|e| crate::ServerError::io("creating an event loop", e))?;
        let waker = Waker::new(poll.registry(), WAKER)
            .map_err(|e| crate::ServerError::io("creating an event loop's waker", e))?;
        let (sender, letters) = mpsc::channel();
        Ok(IoLoop {
            index,
            poll,
            shared,
            budget,
            mailbox: Mailbox {
                sender,
                waker: Arc::new(waker),
                pending: Arc::new(AtomicBool::new(false)),
            },
            letters,
            conns: Slab::new(),
            scratch: vec![0; DIRECT_READ_MIN],
            paused: Vec::new(),
        })
    }

    pub(crate) fn mailbox(&self) -> Mailbox {
        self.mailbox.clone()
    }

    /// Serves until shutdown and every connection is closed.
    pub(crate) fn run(
        mut self,
        mut acceptor: Option<Acceptor<'_>>,
        jobs: Option<crossbeam_channel::Sender<Job>>,
    ) {
        if let Some(a) = &acceptor {
            let fd = a.listener.as_raw_fd();
            if let Err(e) =
                self.poll
                    .registry()
                    .register(&mut SourceFd(&fd), LISTENER, Interest::READABLE)
            {
                error!("cannot watch the listener: {e}; not accepting");
                acceptor = None;
            }
        }
        let sweep_every = sweep_interval(&self.shared.config);
        let mut next_sweep = Instant::now() + sweep_every;
        let mut shutdown_since: Option<Instant> = None;
        let mut events = Events::with_capacity(1024);
        loop {
            let now = Instant::now();
            if shutdown_since.is_none() && self.shared.shutdown.is_triggered() {
                shutdown_since = Some(now);
                if let Some(a) = acceptor.take() {
                    let fd = a.listener.as_raw_fd();
                    let _ = self.poll.registry().deregister(&mut SourceFd(&fd));
                }
                self.close_where(
                    |c| matches!(c.phase, Phase::Idle { .. }),
                    || Ending::Shutdown,
                );
            }
            if let Some(since) = shutdown_since {
                self.read_mail(&jobs, true);
                if self.conns.is_empty() {
                    return;
                }
                let grace = self.shared.config.shutdown_grace;
                if now.saturating_duration_since(since) > grace {
                    let cut = self.conns.len();
                    self.shared
                        .stats
                        .cut_at_shutdown
                        .fetch_add(cut as u64, Ordering::Relaxed);
                    warn!(
                        "shutdown grace period of {} ms is over: cut {cut} connection(s) still in a call",
                        grace.as_millis()
                    );
                    self.close_where(
                        |_| true,
                        || Ending::Cut(" after the shutdown grace period".into()),
                    );
                    return;
                }
            }
            let mut timeout = next_sweep.saturating_duration_since(now);
            if shutdown_since.is_some() {
                timeout = timeout.min(SWEEP_EVERY / 10);
            }
            if !self.paused.is_empty() {
                timeout = timeout.min(BUDGET_RETRY);
            }
            if let Some(a) = &acceptor {
                if a.pending {
                    timeout = Duration::ZERO;
                } else if let Some(at) = a.retry_at {
                    timeout = timeout.min(at.saturating_duration_since(now));
                }
            }
            if let Err(e) = self.poll.poll(&mut events, Some(timeout)) {
                if e.kind() != io::ErrorKind::Interrupted {
                    error!("event loop {} failed: {e}; stopping it", self.index);
                    self.close_where(|_| true, || Ending::Problem("the event loop failed".into()));
                    return;
                }
            }
            for event in events.iter() {
                match event.token() {
                    LISTENER => {
                        if let Some(a) = &mut acceptor {
                            a.pending = true;
                        }
                    }
                    WAKER => {}
                    Token(key) => self.drive(key, &jobs),
                }
            }
            if let Some(a) = &mut acceptor {
                let due = a.retry_at.is_some_and(|at| Instant::now() >= at);
                if a.pending || due {
                    a.accept_some(&mut self);
                }
            }
            self.read_mail(&jobs, false);
            if !self.paused.is_empty() && self.budget.has_room() {
                for key in std::mem::take(&mut self.paused) {
                    // Its turn: it reads again (and pauses again if the
                    // room is not enough for it).
                    if let Some(conn) = self.conns.get_mut(key) {
                        conn.paused = false;
                    }
                    self.drive(key, &jobs);
                }
            }
            let now = Instant::now();
            if now >= next_sweep {
                next_sweep = now + sweep_every;
                let config = &self.shared.config;
                let expired: Vec<(usize, Ending)> = self
                    .conns
                    .iter()
                    .filter_map(|(key, c)| c.expired(now, config).map(|e| (key, e)))
                    .collect();
                for (key, ending) in expired {
                    self.close(key, ending);
                }
            }
        }
    }

    /// Takes what other threads sent: new connections and processed requests.
    fn read_mail(&mut self, jobs: &Option<crossbeam_channel::Sender<Job>>, shutting_down: bool) {
        self.mailbox.pending.store(false, Ordering::SeqCst);
        while let Ok(mail) = self.letters.try_recv() {
            match mail {
                Mail::Accepted(accepted) if shutting_down => {
                    let conn = self.conn_for(accepted);
                    Ending::Shutdown.log(
                        conn.id,
                        conn.peer,
                        None,
                        0,
                        &self.shared.config,
                        &self.shared.stats,
                    );
                }
                Mail::Accepted(accepted) => self.add(accepted),
                Mail::Done(completion) => self.complete(completion, jobs),
            }
        }
    }

    fn conn_for(&self, a: Accepted) -> Conn {
        Conn::new(
            a.id,
            a.peer,
            a.socket,
            a.state,
            a.registration,
            &self.shared.config,
        )
    }

    fn add(&mut self, accepted: Accepted) {
        let conn = self.conn_for(accepted);
        let fd = conn.socket.stream().as_raw_fd();
        let (id, peer) = (conn.id, conn.peer);
        let entry = self.conns.vacant_entry();
        let key = entry.key();
        if key >= WAKER.0 {
            warn!("conn#{id} {peer}: refused: no event-loop slot left");
            return;
        }
        match self.poll.registry().register(
            &mut SourceFd(&fd),
            Token(key),
            Interest::READABLE | Interest::WRITABLE,
        ) {
            Ok(()) => {
                entry.insert(conn);
            }
            Err(e) => warn!("conn#{id} {peer}: refused: cannot watch its socket: {e}"),
        }
    }

    /// Moves a connection on as far as it can go now.
    fn drive(&mut self, key: usize, jobs: &Option<crossbeam_channel::Sender<Job>>) {
        loop {
            let Some(conn) = self.conns.get_mut(key) else {
                return;
            };
            match conn.phase {
                Phase::Processing => return,
                Phase::Writing { .. } => match conn.write_reply(&self.budget) {
                    Ok(true) if self.shared.shutdown.is_triggered() => {
                        self.close(key, Ending::Shutdown);
                        return;
                    }
                    Ok(true) => {}
                    Ok(false) => return,
                    Err(ending) => {
                        self.close(key, ending);
                        return;
                    }
                },
                Phase::Idle { .. } | Phase::Reading { .. } => {
                    if conn.paused {
                        return;
                    }
                    let config = &self.shared.config;
                    match conn.read_request(&mut self.scratch, config, &self.budget) {
                        Progress::Blocked => return,
                        Progress::Paused => {
                            self.paused.push(key);
                            return;
                        }
                        Progress::Ended(ending) => {
                            self.close(key, ending);
                            return;
                        }
                        Progress::Request(request) => {
                            conn.phase = Phase::Processing;
                            let (id, peer) = (conn.id, conn.peer);
                            match jobs {
                                Some(jobs) => {
                                    let job = Job {
                                        io: self.index,
                                        key,
                                        id,
                                        peer,
                                        request,
                                    };
                                    if jobs.send(job).is_err() {
                                        self.close(
                                            key,
                                            Ending::Problem("the workers have stopped".into()),
                                        );
                                    }
                                    return;
                                }
                                None => {
                                    let done = call::run(&self.shared, key, id, peer, request);
                                    if !self.apply(done) {
                                        return;
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    /// A processed request back from a worker.
    fn complete(&mut self, completion: Completion, jobs: &Option<crossbeam_channel::Sender<Job>>) {
        let key = completion.key;
        if self.apply(completion) {
            self.drive(key, jobs);
        }
    }

    /// Hands a completion to its connection; false if the connection is gone
    /// or ends with it.
    fn apply(&mut self, completion: Completion) -> bool {
        let key = completion.key;
        let Some(conn) = self.conns.get_mut(key).filter(|c| c.id == completion.id) else {
            // The connection ended while its request was processed.
            self.budget.give_back(completion.request_charged);
            return false;
        };
        match conn.complete(completion, &self.budget) {
            None => true,
            Some(ending) => {
                self.close(key, ending);
                false
            }
        }
    }

    fn close_where(&mut self, which: impl Fn(&Conn) -> bool, ending: impl Fn() -> Ending) {
        let keys: Vec<usize> = self
            .conns
            .iter()
            .filter(|(_, c)| which(c))
            .map(|(key, _)| key)
            .collect();
        for key in keys {
            self.close(key, ending());
        }
    }

    fn close(&mut self, key: usize, ending: Ending) {
        if !self.conns.contains(key) {
            return;
        }
        let mut conn = self.conns.remove(key);
        self.paused.retain(|k| *k != key);
        let fd = conn.socket.stream().as_raw_fd();
        let _ = self.poll.registry().deregister(&mut SourceFd(&fd));
        conn.release(&self.budget);
        ending.log(
            conn.id,
            conn.peer,
            None,
            conn.calls,
            &self.shared.config,
            &self.shared.stats,
        );
        let _ = conn.socket.stream().shutdown(std::net::Shutdown::Both);
    }
}

/// The sweep interval: a quarter of the shortest timeout, within 5-100 ms.
fn sweep_interval(config: &crate::ServerConfig) -> Duration {
    [
        config.idle_timeout,
        config.stall_timeout,
        config.request_timeout,
        config.write_timeout,
    ]
    .into_iter()
    .flatten()
    .map(|t| t / 4)
    .fold(SWEEP_EVERY, Duration::min)
    .max(Duration::from_millis(5))
}

/// The first I/O thread's listener and what accepting needs.
pub(crate) struct Acceptor<'a> {
    listener: &'a TcpListener,
    limit: usize,
    mailboxes: Vec<Mailbox>,
    next_io: usize,
    next_id: u64,
    spare: SpareDescriptor,
    over_limit: RateLimitedWarning,
    exhausted: RateLimitedWarning,
    /// Connections may be waiting: the listener reported readiness and the
    /// backlog was not emptied yet.
    pending: bool,
    /// Out of descriptors: when to try again.
    retry_at: Option<Instant>,
    backoff: Duration,
}

impl<'a> Acceptor<'a> {
    pub(crate) fn new(
        listener: &'a TcpListener,
        limit: usize,
        mailboxes: Vec<Mailbox>,
    ) -> Result<Acceptor<'a>, crate::ServerError> {
        Ok(Acceptor {
            listener,
            limit,
            mailboxes,
            next_io: 0,
            next_id: 0,
            spare: SpareDescriptor::new(),
            over_limit: RateLimitedWarning::new(Duration::from_secs(1)),
            exhausted: RateLimitedWarning::new(Duration::from_secs(1)),
            pending: true,
            retry_at: None,
            backoff: EXHAUSTED_BACKOFF.0,
        })
    }

    /// Accepts up to a batch of connections and hands each to an I/O thread.
    fn accept_some(&mut self, io: &mut IoLoop) {
        self.retry_at = None;
        for _ in 0..ACCEPT_BATCH {
            let shared = io.shared.clone();
            match self.listener.accept() {
                Ok((stream, peer)) => {
                    if shared.shutdown.is_triggered() {
                        return;
                    }
                    self.backoff = EXHAUSTED_BACKOFF.0;
                    let open = shared.registry.len();
                    if open >= self.limit {
                        shared.stats.refused.fetch_add(1, Ordering::Relaxed);
                        let limit = self.limit;
                        self.over_limit.warn(|| {
                            format!(
                                "{peer}: refused: {open} connections open, the limit \
                                 (--max-connections) is {limit}"
                            )
                        });
                        continue;
                    }
                    let setup = stream
                        .set_nonblocking(true)
                        .and_then(|()| stream.set_nodelay(true));
                    if let Err(e) = setup {
                        warn!("{peer}: could not set up the socket: {e}");
                        continue;
                    }
                    self.next_id += 1;
                    let id = self.next_id;
                    shared.stats.connections.fetch_add(1, Ordering::Relaxed);
                    debug!("conn#{id} {peer}: accepted");
                    let socket = SharedSocket::new(stream);
                    let state = Arc::new(ConnectionState::default());
                    let registration = shared.registry.add(id, &socket, &state);
                    let accepted = Accepted {
                        id,
                        peer,
                        socket,
                        state,
                        registration,
                    };
                    let target = self.next_io % self.mailboxes.len().max(1);
                    self.next_io = self.next_io.wrapping_add(1);
                    if target == io.index {
                        io.add(accepted);
                    } else if let Some(mailbox) = self.mailboxes.get(target) {
                        mailbox.deliver(Mail::Accepted(accepted));
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    self.pending = false;
                    return;
                }
                Err(_) if shared.shutdown.is_triggered() => return,
                Err(e) if descriptors::is_exhausted(&e) => {
                    let open = shared.registry.len();
                    let listener = self.listener;
                    match self
                        .spare
                        .release_for(|| listener.accept().map(|(_stream, peer)| peer))
                    {
                        Some(Ok(peer)) => {
                            shared.stats.refused.fetch_add(1, Ordering::Relaxed);
                            self.exhausted.warn(|| {
                                format!(
                                    "{peer}: refused: out of file descriptors ({e}) with {open} \
                                     connections open; lower --max-connections or raise the limit"
                                )
                            });
                        }
                        _ => {
                            self.exhausted.warn(|| {
                                format!(
                                    "cannot accept: out of file descriptors ({e}) with {open} \
                                     connections open; waiting for one to close"
                                )
                            });
                            self.wait_a_while();
                            return;
                        }
                    }
                }
                Err(e) if is_transient(&e) => {
                    self.exhausted
                        .warn(|| format!("accept failed, continuing: {e}"));
                    if is_resource_shortage(&e) {
                        self.wait_a_while();
                        return;
                    }
                }
                Err(e) => {
                    error!("accepting connections failed: {e}; trying again shortly");
                    self.wait_a_while();
                    return;
                }
            }
        }
    }

    fn wait_a_while(&mut self) {
        self.retry_at = Some(Instant::now() + self.backoff);
        self.backoff = (self.backoff * 2).min(EXHAUSTED_BACKOFF.1);
    }
}
