"""ping-client: a reconnecting Thrift client (interop/SPEC.md, "Reconnect behaviour").

ThriftClient owns one connection stack: TSocket -> transport -> protocol
(-> TMultiplexedProtocol) -> generated client, or for --transport http
THttpClient -> protocol -> ... (THttpClient makes a TCP connection per call).
For --transport header the protocol is THeaderProtocol, which puts its own
THeaderTransport on the TSocket. After a transport error the whole stack is
thrown away and a new one is built; a used transport is never re-opened.
"""

import argparse
import collections
import contextlib
import http.client
import itertools
import json
import logging
import os
import random
import signal
import socket
import string
import struct
import sys
import time
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from typing import Any

from thrift.protocol.TMultiplexedProtocol import TMultiplexedProtocol
from thrift.protocol.TProtocol import TProtocolException
from thrift.Thrift import TApplicationException, TException
from thrift.transport import THttpClient, TSocket
from thrift.transport.TTransport import TTransportException

from . import _gen, cli

BACKOFF_INITIAL_S = 0.010
BACKOFF_FACTOR = 2.0
BACKOFF_MAX_S = 0.200
RECONNECT_DEADLINE_S = 30.0
CALL_ATTEMPTS = 3  # as the Rust client's --call-attempts default

# Transport errors that say something about the data on the wire rather than
# the connection (a frame size no peer would send, say): reconnecting would only
# repeat them.
_NOT_RETRIABLE_TRANSPORT = {
    TTransportException.SIZE_LIMIT,
    TTransportException.NEGATIVE_SIZE,
    TTransportException.INVALID_CLIENT_TYPE,
}


# What a failed call can raise below the protocol: the socket transports raise
# TTransportException (wrapping the OSError); THttpClient lets http.client's
# errors through as they are: OSError (refused, reset, timeout; RemoteDisconnected
# is a ConnectionResetError), http.client.HTTPException (IncompleteRead, a bad
# status line), and TTransportBase.readAll raises EOFError on a short body.
TRANSPORT_ERRORS = (TTransportException, OSError, EOFError, http.client.HTTPException)


# The program name log lines start with; thrifttest-client sets its own.
PROG = "ping-client"

# --transport header: every call's info header, `py-<pid>-<n>`, n counted per
# process (every endpoint and every thrifttest loop) from 1.
REQUEST_ID_HEADER = b"x-request-id"
_call_numbers = itertools.count(1)


def log(message: str) -> None:
    sys.stderr.write(f"{PROG}: {message}\n")
    sys.stderr.flush()


class CallError(Exception):
    """A call that did not produce a correct reply; str() is the reported error,
    `timed_out` whether the (last) transport error was a timeout, `outcome_unknown`
    whether a call that is never retried broke while it was sent."""

    def __init__(self, message: str, timed_out: bool = False, outcome_unknown: bool = False) -> None:
        super().__init__(message)
        self.timed_out = timed_out
        self.outcome_unknown = outcome_unknown


class Stop(BaseException):
    """SIGTERM/SIGINT: BaseException so no `except Exception` on the way swallows it."""


def describe(exc: BaseException, phase: str, timeout_ms: int) -> str:
    """One readable phrase for a transport-level failure; `phase` is "connect"
    or "call", `timeout_ms` the timeout that applied to it."""
    # TSocket wraps socket errors in TTransportException(inner=...).
    inner = getattr(exc, "inner", None)
    if inner is None and isinstance(exc, OSError):
        inner = exc
    if isinstance(inner, ConnectionRefusedError):
        return "connection refused"
    if isinstance(exc, http.client.RemoteDisconnected):
        return "the server closed the connection without an HTTP response"
    if isinstance(exc, EOFError):
        return "end of file (the HTTP reply body ended early)"
    if isinstance(exc, http.client.HTTPException):
        return f"HTTP error: {type(exc).__name__}: {exc}"
    if isinstance(inner, BrokenPipeError):
        return "broken pipe (the server closed the connection while we were sending)"
    if isinstance(inner, ConnectionResetError):
        return "connection reset by peer"
    if isinstance(inner, ConnectionAbortedError):
        return "connection aborted"
    if isinstance(inner, TimeoutError) or getattr(exc, "type", None) == TTransportException.TIMED_OUT:
        which = "--connect-timeout-ms" if phase == "connect" else "--timeout-ms"
        return f"{phase} timed out after {timeout_ms} ms ({which})"
    if isinstance(exc, TTransportException):
        if exc.type == TTransportException.END_OF_FILE:
            return "end of file (the server closed the connection)"
        if exc.type == TTransportException.NOT_OPEN:
            if isinstance(inner, socket.gaierror):
                return f"cannot resolve host: {inner.strerror or inner}"
            if isinstance(inner, OSError):
                return f"cannot connect: {inner.strerror or inner}"
            return f"not connected: {exc.message}"
        if exc.type in _NOT_RETRIABLE_TRANSPORT:
            return f"bad frame or size: {exc.message}"
    if isinstance(inner, OSError):
        return f"socket error: {inner.strerror or inner}"
    return f"transport error: {getattr(exc, 'message', None) or exc}"


def is_timeout(exc: BaseException) -> bool:
    """Whether a transport-level failure was a timeout (TSocket wraps socket errors)."""
    if isinstance(exc, TimeoutError) or isinstance(getattr(exc, "inner", None), TimeoutError):
        return True
    return getattr(exc, "type", None) == TTransportException.TIMED_OUT


def _retriable(exc: BaseException) -> bool:
    return not (isinstance(exc, TTransportException) and exc.type in _NOT_RETRIABLE_TRANSPORT)


@dataclass
class Backoff:
    """Exponential backoff with jitter: 10 ms, doubling, capped at 200 ms; each
    pause is drawn uniformly from [delay/2, delay] so that many clients cut off
    by the same restart do not reconnect in lockstep."""

    initial_s: float = BACKOFF_INITIAL_S
    factor: float = BACKOFF_FACTOR
    max_s: float = BACKOFF_MAX_S
    delay_s: float = field(init=False)

    def __post_init__(self) -> None:
        self.delay_s = self.initial_s

    def next_pause(self) -> float:
        pause = random.uniform(self.delay_s / 2, self.delay_s)
        self.delay_s = min(self.delay_s * self.factor, self.max_s)
        return pause


@dataclass(frozen=True)
class ClientSettings:
    protocol: str = "compact"
    transport: str = "buffered"
    service: str = "ping"
    multiplexed: bool = False
    connect_timeout_ms: int = 2000
    timeout_ms: int = 2000
    reconnect_deadline_s: float = RECONNECT_DEADLINE_S
    call_attempts: int = CALL_ATTEMPTS  # per ping/output, the first included


def format_endpoint(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


class ThriftClient:
    """One server, one connection stack, bounded reconnects.

    call() sends one request over the generated client; with retry=True it is
    sent again on a fresh connection after a transport error, up to
    call_attempts attempts within the reconnect deadline, with retry=False never
    (its outcome is unknown once the connection broke). Application errors are
    never retried. send_ping / send_output retry, send_put does not. Each returns
    the server's reply or raises CallError.

    The generated client class and the multiplexed service name come from
    `settings.service` / `settings.multiplexed` unless given (thrifttest-client
    passes ThriftTest's and SecondService's).
    """

    def __init__(
        self,
        host: str,
        port: int,
        settings: ClientSettings = ClientSettings(),
        client_class: type | None = None,
        mux_name: str | None = None,
    ) -> None:
        self.host = host
        self.port = port
        self.endpoint = format_endpoint(host, port)
        self.settings = settings
        self._pfactory = cli.protocol_factory(settings.protocol, settings.transport)
        self.http = settings.transport == "http"
        self._tfactory = None if self.http else cli.transport_factory(settings.transport, settings.protocol)
        if client_class is None:
            if settings.service == "ping":
                client_class = _gen.ping_service().Client
            else:
                client_class = _gen.student_modules()[0].Client
            mux_name = cli.MULTIPLEXED_NAMES[settings.service] if settings.multiplexed else None
        self._client_class = client_class
        self._mux_name = mux_name
        self.socket: TSocket.TSocket | None = None
        self.transport: Any = None
        self.protocol: Any = None
        self.header: Any = None  # the stack's THeaderProtocol (header only)
        self.client: Any = None
        # header only: the last call's x-request-id and whether its reply carried it back
        self.request_id: str | None = None
        self.request_id_echoed: bool | None = None
        self.reconnects = 0  # fresh stacks opened after a broken one
        self._lost = False  # a stack was discarded after an error and not replaced yet

    # --- the stack --------------------------------------------------------------

    def init_client(self) -> None:
        """Build a complete new stack and open it; on failure nothing is kept."""
        if self.http:
            self._init_http_client()
            return
        sock = TSocket.TSocket(self.host, self.port)
        sock.setTimeout(self.settings.connect_timeout_ms)
        transport = self._tfactory.getTransport(sock)
        protocol = self._pfactory.getProtocol(transport)
        header = protocol if self.settings.transport == "header" else None
        if self._mux_name:
            protocol = TMultiplexedProtocol(protocol, self._mux_name)
        client = self._client_class(protocol)
        try:
            transport.open()
            sock.setTimeout(self.settings.timeout_ms)  # from now on: per send/receive
            sock.handle.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except BaseException:
            sock.close()
            raise
        self.socket, self.transport, self.protocol, self.client = sock, transport, protocol, client
        self.header = header

    def _init_http_client(self) -> None:
        """THttpClient's open() only creates an http.client.HTTPConnection; its
        flush() (one per call) closes the last one and connects anew. So the
        stack's "connect" is a TCP connect with --connect-timeout-ms, closed at
        once: a server that refuses is retried with backoff here, as on the
        other transports, not by spending call attempts. setTimeout applies
        --timeout-ms to each call's connect and to each send and receive."""
        with socket.create_connection((self.host, self.port), timeout=self.settings.connect_timeout_ms / 1000.0):
            pass
        transport = THttpClient.THttpClient(f"http://{self.endpoint}/")
        transport.setTimeout(self.settings.timeout_ms)
        protocol = self._pfactory.getProtocol(transport)
        if self._mux_name:
            protocol = TMultiplexedProtocol(protocol, self._mux_name)
        client = self._client_class(protocol)
        transport.open()
        self.socket, self.transport, self.protocol, self.client = None, transport, protocol, client

    def close(self, abort: bool = False) -> None:
        """Drop the stack. abort=True (after a failed call) makes the close an
        RST: the request may still sit unsent in the kernel's send queue, and an
        ordinary close would keep retransmitting it, so a put reported as
        "outcome unknown" could reach a restarted (or reachable-again) server
        seconds later, after newer calls. SO_LINGER {on, 0 s} discards it."""
        sock, transport = self.socket, self.transport
        self.socket = self.transport = self.protocol = self.header = self.client = None
        handle = sock.handle if sock is not None else _http_socket(transport)
        if abort and handle is not None:
            # Best effort: if it fails the close below is an ordinary one.
            with contextlib.suppress(OSError):
                handle.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        if transport is not None:
            # It is being thrown away; nothing to do about a failing close.
            with contextlib.suppress(Exception):
                transport.close()

    def _discard_broken(self, abort: bool = True) -> None:
        self.close(abort)
        self._lost = True

    def reconnect(self) -> None:
        """Throw the whole stack away and build a new one (one attempt)."""
        self.close()
        self.init_client()
        if self._lost:
            self._lost = False
            self.reconnects += 1

    def retry_transport(self, deadline: float, backoff: Backoff | None = None, quiet: bool = False) -> None:
        """reconnect() with exponential backoff and jitter until it succeeds or
        `deadline` (time.monotonic()) passes, then CallError. One log line per
        attempt (quiet: none for a success at the first attempt)."""
        backoff = backoff or Backoff()
        for attempt in itertools.count(1):
            try:
                self.reconnect()
            except (TTransportException, OSError) as exc:
                why = describe(exc, "connect", self.settings.connect_timeout_ms)
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    log(f"{self.endpoint}: connect attempt {attempt} failed: {why}; giving up")
                    raise CallError(
                        f"{why} (gave up after {attempt} connect attempts in {self.settings.reconnect_deadline_s:g} s)",
                        timed_out=is_timeout(exc),
                    ) from None
                pause = min(remaining, backoff.next_pause())
                log(f"{self.endpoint}: connect attempt {attempt} failed: {why}; next in {pause * 1000:.0f} ms")
                time.sleep(pause)
            else:
                if not (quiet and attempt == 1):
                    log(f"{self.endpoint}: connected (attempt {attempt}, reconnects {self.reconnects})")
                return

    def open(self, deadline: float) -> None:
        """Open the first stack of a fresh client, retrying with backoff until
        `deadline` (then CallError); logs only failed attempts. Not a reconnect."""
        self.retry_transport(deadline, quiet=True)

    def connect(self) -> bool:
        """Open the first stack before any call is timed: one attempt, no retries.
        On failure the first call reconnects within its deadline (and reports it)."""
        try:
            self.init_client()
        except (TTransportException, OSError) as exc:
            why = describe(exc, "connect", self.settings.connect_timeout_ms)
            log(f"{self.endpoint}: initial connect failed: {why}")
            return False
        log(f"{self.endpoint}: connected")
        return True

    def _still_open(self) -> bool:
        """Cheap check (a non-blocking MSG_PEEK) that the server has not closed
        the connection since the last call, e.g. because it was restarted: then
        even a put can go to the new server instead of failing as "unknown"."""
        if self.http:
            return True  # THttpClient keeps no connection between calls
        try:
            return self.socket is not None and self.socket.isOpen()
        except OSError:
            return False

    # --- calls ------------------------------------------------------------------

    def call(self, method: str, *args: Any, retry: bool, raises: tuple[type[BaseException], ...] = ()) -> Any:
        """`method(*args)` on the generated client. Exceptions of the types in
        `raises` (declared exceptions a caller checks) pass through unchanged and
        leave the connection in use; any other failure is a CallError."""
        # One deadline and one backoff per call, shared by its reconnects and
        # retries, so a server that accepts and then drops every call is not hammered.
        # The attempt limit is what makes a hung server (connects fine, never
        # answers) cost one failed call of a few timeouts, not the whole deadline.
        deadline: float | None = None
        backoff = Backoff()
        attempts = 0
        if self.settings.transport == "header":  # one id per call, kept by its retries
            self.request_id = f"py-{os.getpid()}-{next(_call_numbers)}"
            self.request_id_echoed = False
        while True:
            if self.client is not None and not self._still_open():
                log(f"{self.endpoint}: connection closed by the server since the last call; reconnecting")
                self._discard_broken(abort=False)  # idle: nothing of ours in flight
            if self.client is None:
                if deadline is None:
                    deadline = time.monotonic() + self.settings.reconnect_deadline_s
                self.retry_transport(deadline, backoff)
            try:
                if self.header is not None:
                    # THeaderTransport sends its write headers with the next
                    # flush (this call's request) and then forgets them.
                    self.header.set_header(REQUEST_ID_HEADER, self.request_id.encode())
                reply = getattr(self.client, method)(*args)
            except raises:
                self._check_echo(method)
                raise
            except TRANSPORT_ERRORS as exc:
                why = describe(exc, "call", self.settings.timeout_ms)
                if self.http and isinstance(exc, ConnectionRefusedError):
                    # THttpClient connects in each call's flush(): refused, it
                    # sent nothing, so even a put goes again, after the
                    # reconnect's backoff, without spending an attempt.
                    log(f"{self.endpoint}: {method} not sent: {why}; reconnecting")
                    self._discard_broken(abort=False)
                    if deadline is None:
                        deadline = time.monotonic() + self.settings.reconnect_deadline_s
                    remaining = deadline - time.monotonic()
                    if remaining <= 0:
                        raise CallError(f"{why} (gave up after {self.settings.reconnect_deadline_s:g} s)") from None
                    time.sleep(min(remaining, backoff.next_pause()))
                    continue
                timed_out = is_timeout(exc)
                self._discard_broken()
                attempts += 1
                if not retry:
                    log(f"{self.endpoint}: {method} failed: {why}; outcome unknown, not retried")
                    raise CallError(
                        f"outcome unknown: connection broke during {method} ({why}); not retried",
                        timed_out,
                        outcome_unknown=True,
                    ) from None
                if not _retriable(exc):
                    raise CallError(why) from None
                if attempts >= self.settings.call_attempts:
                    log(f"{self.endpoint}: {method} failed: {why}; giving up after {attempts} attempts")
                    raise CallError(f"{why} (gave up after {attempts} attempts)", timed_out) from None
                if deadline is None:
                    deadline = time.monotonic() + self.settings.reconnect_deadline_s
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise CallError(
                        f"{why} (gave up retrying after {self.settings.reconnect_deadline_s:g} s)", timed_out
                    ) from None
                # The first failure reconnects at once; repeated ones back off.
                pause = min(remaining, backoff.next_pause()) if attempts > 1 else 0.0
                log(f"{self.endpoint}: {method} failed: {why}; reconnecting to retry in {pause * 1000:.0f} ms")
                time.sleep(pause)
            except Stop:
                # SIGTERM/SIGINT mid-call: the request may be half sent, so the
                # connection is abandoned like after a failed call.
                self._discard_broken()
                raise
            except TApplicationException as exc:
                # A well-formed error reply: the connection is still in step.
                self._check_echo(method)
                raise CallError(f"application error: {exc.message or exc}") from None
            except TProtocolException as exc:
                self._discard_broken()  # the stream is out of step
                raise CallError(f"protocol error: {exc.message or exc}") from None
            except TException as exc:
                self._discard_broken()
                raise CallError(f"thrift error: {getattr(exc, 'message', None) or exc}") from None
            except Exception as exc:
                # fastbinary raises plain Python errors on some garbage (a
                # UnicodeDecodeError, say): report the call, keep the client going.
                self._discard_broken()
                raise CallError(f"unexpected error: {type(exc).__name__}: {exc}") from None
            else:
                self._check_echo(method)
                return reply

    def _check_echo(self, method: str) -> None:
        """header only, after a reply: did it carry our x-request-id back? A
        different one fails the call. THeaderTransport replaces its read headers
        with each THeader frame it reads (none: an empty dict), so they are this
        reply's. A oneway call (no recv_ method) reads no reply: the headers are
        still the previous reply's, and there is nothing to check."""
        if self.header is None or not hasattr(self.client, f"recv_{method}"):
            return
        got = self.header.get_headers().get(REQUEST_ID_HEADER)
        sent = self.request_id.encode()
        self.request_id_echoed = got == sent
        if got is not None and got != sent:
            raise CallError(f"x-request-id mismatch: sent {self.request_id}, got {got.decode(errors='replace')}")

    def send_ping(self, msg: str) -> str:
        return self.call("ping", msg, retry=True)

    def send_output(self, msg: str) -> str:
        return self.call("output", msg, retry=True)

    def send_put(self, student: Any) -> int:
        return self.call("put", student, retry=False)


def _http_socket(transport: Any) -> socket.socket | None:
    """The socket of a THttpClient's current http.client.HTTPConnection, for
    SO_LINGER (the library keeps it private: _THttpClient__http)."""
    if not isinstance(transport, THttpClient.THttpClient):
        return None
    return getattr(getattr(transport, "_THttpClient__http", None), "sock", None)


# --- payloads -------------------------------------------------------------------

ALNUM = string.ascii_letters + string.digits
# Code points by UTF-8 width; the 3-byte range skips the surrogates (see _chars).
_TWO_BYTE = range(0xA0, 0x800)
_THREE_BYTE = range(0x800, 0xF7FE)  # 0xD800.. shifted past the surrogates to 0xE000..0xFFFD
_FOUR_BYTE = range(0x10000, 0x110000)


def _chars(width: int, count: int, rng: random.Random) -> Iterable[str]:
    if width == 1:
        return rng.choices(ALNUM, k=count)
    if width == 2:
        return map(chr, rng.choices(_TWO_BYTE, k=count))
    if width == 3:
        return (chr(cp + 0x800 if cp >= 0xD800 else cp) for cp in rng.choices(_THREE_BYTE, k=count))
    return map(chr, rng.choices(_FOUR_BYTE, k=count))


def alnum_payload(size: int, rng: random.Random) -> str:
    return "".join(rng.choices(ALNUM, k=size))


def utf8_payload(size: int, rng: random.Random) -> str:
    """A random mix of 1-, 2-, 3- and 4-byte characters, exactly `size` UTF-8 bytes."""
    widths: list[int] = []
    total = 0
    while total < size:
        for width in rng.choices((1, 2, 3, 4), k=max(16, (size - total) // 2)):
            width = min(width, size - total)  # the last character fits exactly
            widths.append(width)
            total += width
            if total == size:
                break
    # Draw the characters per width in bulk (much faster than one at a time).
    counts = collections.Counter(widths)
    pools = {w: iter(_chars(w, n, rng)) for w, n in counts.items()}
    text = "".join([next(pools[w]) for w in widths])
    assert len(text.encode("utf-8")) == size
    return text


def make_payloads(sizes: list[int], kind: str, rng: random.Random) -> list[tuple[int, str]]:
    build = utf8_payload if kind == "utf8" else alnum_payload
    return [(size, build(size, rng)) for size in sizes]


def make_student(Student: type, sno: int) -> Any:
    sname = f"student-{sno}"
    if sno % 3 == 0:
        sname += "-学生-Ærø-🎓"  # 2-, 3- and 4-byte characters
    return Student(sno=sno, sname=sname, ssex=sno % 2 == 1, sage=sno % 100)


def _short(value: object, limit: int = 48) -> str:
    text = repr(value)
    if len(text) <= limit:
        return text
    length = f"{len(value)} chars" if isinstance(value, str) else type(value).__name__
    return f"{text[:limit]}... ({length})"


def check_reply(call: str, reply: object, expected: object) -> None:
    if reply != expected:
        raise CallError(f"wrong reply to {call}: expected {_short(expected)}, got {_short(reply)}")


# --- reporting --------------------------------------------------------------------


@dataclass(frozen=True)
class CallRecord:
    """One line per call; the fields and their order are the SPEC.md contract."""

    endpoint: str
    round: int
    call: str
    size: int
    latency_ns: int
    cpu_ns: int  # process CPU time (user + system, all threads), latency_ns's span
    ok: bool
    error: str | None
    reconnects: int
    request_id: str | None = None  # these two on --transport header only
    request_id_echoed: bool | None = None

    def to_json(self) -> str:
        fields = asdict(self)
        if self.request_id is None:
            del fields["request_id"], fields["request_id_echoed"]
        # Compact separators: the same bytes layout as the Rust client's lines.
        return json.dumps(fields, separators=(",", ":"))

    def to_text(self) -> str:
        status = "ok" if self.error is None else f"FAILED: {self.error}"
        if self.request_id is not None:
            status += f" (x-request-id {self.request_id}, {'echoed' if self.request_id_echoed else 'not echoed'})"
        return (
            f"{self.endpoint} round {self.round} {self.call} {self.size} B: "
            f"{self.latency_ns / 1e6:.3f} ms, reconnects {self.reconnects}: {status}"
        )


@dataclass
class Reporter:
    as_json: bool
    calls: collections.Counter = field(default_factory=collections.Counter)  # per endpoint
    failed: collections.Counter = field(default_factory=collections.Counter)

    def report(self, record: CallRecord) -> None:
        self.calls[record.endpoint] += 1
        if not record.ok:
            self.failed[record.endpoint] += 1
        print(record.to_json() if self.as_json else record.to_text(), flush=True)

    def summary(self, clients: list[ThriftClient]) -> None:
        for client in clients:
            ep = client.endpoint
            log(f"{ep}: {self.calls[ep]} calls, {self.failed[ep]} failed, {client.reconnects} reconnects")


def timed_call(
    reporter: Reporter,
    client: ThriftClient,
    round_no: int,
    call: str,
    size: int,
    send: Callable[[Any], Any],
    arg: Any,
    expected: Any,
) -> None:
    """One call, timed as the caller sees it (reconnects and retries included),
    with the process's CPU time over the same span, its reply checked and
    reported."""
    start = time.perf_counter_ns()
    cpu_start = time.process_time_ns()  # CLOCK_PROCESS_CPUTIME_ID
    try:
        check_reply(call, send(arg), expected)
        error = None
    except CallError as exc:
        error = str(exc)
    cpu_ns = time.process_time_ns() - cpu_start
    latency_ns = time.perf_counter_ns() - start
    reporter.report(
        CallRecord(
            client.endpoint,
            round_no,
            call,
            size,
            latency_ns,
            cpu_ns,
            error is None,
            error,
            client.reconnects,
            client.request_id,
            client.request_id_echoed,
        )
    )


def run_rounds(args: argparse.Namespace, clients: list[ThriftClient], reporter: Reporter) -> None:
    rng = random.Random()
    # Generated once and reused every round (SPEC.md), so rounds compare alike.
    payloads = make_payloads(args.sizes, args.payload, rng) if args.service == "ping" else []
    Student = _gen.student_modules()[1] if args.service == "student" else None
    sno = itertools.count(1)
    for client in clients:
        client.connect()
    for round_no in itertools.count(1):
        if args.rounds and round_no > args.rounds:
            return
        if round_no > 1 and args.interval_ms:
            time.sleep(args.interval_ms / 1000.0)
        for client in clients:
            if Student is not None:
                student = make_student(Student, next(sno))
                size = len(student.sname.encode("utf-8"))
                timed_call(reporter, client, round_no, "put", size, client.send_put, student, student.sno)
                continue
            for size, msg in payloads:
                if args.call == "ping":
                    send, expected = client.send_ping, f"receive len: {size}"
                else:
                    send, expected = client.send_output, f"You said: {msg}"
                timed_call(reporter, client, round_no, args.call, size, send, msg, expected)


# --- main -------------------------------------------------------------------------


def _on_signal(signum: int, _frame: object) -> None:
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    raise Stop(signum)


def main(argv: list[str] | None = None) -> int:
    args = cli.client_parser().parse_args(argv)
    # TSocket logs every failed connect itself (with a traceback); this client
    # reports its own one-line messages.
    logging.getLogger("thrift").addHandler(logging.NullHandler())
    logging.getLogger("thrift").propagate = False

    settings = ClientSettings(
        protocol=args.protocol,
        transport=args.transport,
        service=args.service,
        multiplexed=args.multiplexed,
        connect_timeout_ms=args.connect_timeout_ms,
        timeout_ms=args.timeout_ms,
        reconnect_deadline_s=args.reconnect_deadline_ms / 1000.0,
        call_attempts=args.call_attempts,
    )
    clients: list[ThriftClient] = []
    reporter = Reporter(args.json)
    try:
        signal.signal(signal.SIGTERM, _on_signal)
        signal.signal(signal.SIGINT, _on_signal)
        cli.require_fastbinary()
        for host, port in args.endpoints or [(args.host, args.port)]:
            clients.append(ThriftClient(host, port, settings))
        run_rounds(args, clients, reporter)
    except Stop as stop:
        log(f"{signal.Signals(stop.args[0]).name} received, stopping")
    except cli.UsageError as exc:
        cli.usage_exit("ping-client", str(exc))
    except (RuntimeError, _gen.MissingBuild) as exc:
        log(str(exc))
        return cli.EXIT_FAILURE
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        for client in clients:
            client.close()
    reporter.summary(clients)
    # Stopped by a signal: success if every call made so far was correct.
    return cli.EXIT_FAILURE if sum(reporter.failed.values()) else cli.EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
