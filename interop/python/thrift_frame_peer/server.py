"""ping-server: PingService / Serv on TSimpleServer, TThreadedServer or TThreadPoolServer,
or for --transport http on THttpServer (simple: http.server.HTTPServer, threaded:
http.server.ThreadingHTTPServer). --transport header is THeaderProtocol on the
socket itself, on the same three models.

serve() is the part thrifttest-server shares: it takes a ready processor.

Start-up: bind and listen here (not in serve()), print `LISTENING <port>` on
stdout, then hand the already-listening socket to the library's server loop.

Shutdown: the library's serve() loops never return and catch `Exception` around
accept and around each connection. So the SIGTERM/SIGINT handler raises a
BaseException in the main thread (the one running serve(), and for the simple
model also the one serving the current connection); it unwinds serve() wherever
it is blocked, we close the listening socket and exit 0. Connection threads are
daemons and do not hold the exit up.
"""

import argparse
import contextlib
import errno
import http.server
import logging
import signal
import socket
import sys
import time
from collections.abc import Callable

from thrift.server import THttpServer, TServer
from thrift.Thrift import TException, TProcessor
from thrift.TMultiplexedProcessor import TMultiplexedProcessor
from thrift.transport import TSocket

from . import _gen, cli
from .handlers import PingHandler, StudentHandler

log = logging.getLogger("thrift_frame_peer.server")

# accept() errors that concern one connection or a momentary shortage, not the
# listening socket: log, pause briefly (resource shortages), keep accepting.
_TRANSIENT_ACCEPT_ERRNOS = {
    errno.ECONNABORTED,
    errno.EINTR,
    errno.EPROTO,
    errno.EMFILE,
    errno.ENFILE,
    errno.ENOBUFS,
    errno.ENOMEM,
}


class Stop(BaseException):
    """Raised by the signal handler; BaseException so the library's
    `except Exception` blocks in its server loops let it through."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


class AcceptFailed(BaseException):
    """The listening socket itself failed. TThreadedServer and TThreadPoolServer
    log an `Exception` from accept() and loop again, which would spin forever on a
    dead socket; a BaseException gets out of serve() so the server exits 1."""


class ServerSocket(TSocket.TServerSocket):
    """TServerSocket whose listen() is idempotent (we listen before serve(), and
    every library server calls listen() again first thing in serve()), that
    reports its bound port and sets TCP_NODELAY on accepted connections."""

    def listen(self) -> None:
        if self.handle is None:
            super().listen()

    @property
    def bound_port(self) -> int:
        return self.handle.getsockname()[1]

    def accept(self) -> TSocket.TSocket | None:
        try:
            client = super().accept()
        except OSError as exc:
            if exc.errno in _TRANSIENT_ACCEPT_ERRNOS:
                log.warning("accept failed: %s", exc)
                time.sleep(0.05)
                return None  # every library loop skips a None client
            raise AcceptFailed(exc) from exc
        # OSError: already reset by the peer; the connection loop will notice.
        with contextlib.suppress(OSError):
            client.handle.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return client


class OneLineThriftErrors(logging.Filter):
    """The library logs a full traceback for every connection that sends
    something it cannot decode (e.g. a client with the wrong protocol), and the
    generated processors one for every TApplicationException a handler raises;
    one line says enough for a Thrift error, other exceptions keep their traceback."""

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        if isinstance(exc, TException):
            why = (type(exc).__name__, getattr(exc, "message", None) or exc)
            if record.msg is exc:  # TServer's logger.exception(x): the connection is gone
                record.msg, record.args = "connection closed after %s: %s", why
            else:
                record.msg, record.args = record.getMessage().replace("%", "%%") + ": %s: %s", why
            record.exc_info = None
        return True


def build_processor(args: argparse.Namespace) -> tuple[TProcessor, str]:
    if args.multiplexed:
        PingService = _gen.ping_service()
        Serv, _ = _gen.student_modules()
        processor = TMultiplexedProcessor()
        processor.registerProcessor(cli.MULTIPLEXED_NAMES["ping"], PingService.Processor(PingHandler()))
        processor.registerProcessor(cli.MULTIPLEXED_NAMES["student"], Serv.Processor(StudentHandler()))
        return processor, "PingService+Serv (multiplexed)"
    if args.service == "ping":
        return _gen.ping_service().Processor(PingHandler()), "PingService"
    Serv, _ = _gen.student_modules()
    return Serv.Processor(StudentHandler()), "Serv"


def build_server(
    model: str, workers: int, protocol: str, transport: str, processor: TProcessor, server_socket: ServerSocket
) -> TServer.TServer:
    # One transport factory for input and one for output: TZlibTransportFactory
    # hands out its last transport again when asked for the same socket, from a
    # single slot that concurrent connection threads would otherwise share.
    # For header the library's servers use one THeaderProtocol per connection
    # for input and output, so each reply goes out in its request's dialect.
    factories = (cli.transport_factory(transport, protocol), cli.transport_factory(transport, protocol))
    pfactory = cli.protocol_factory(protocol, transport, server=True)
    stack = (*factories, pfactory, pfactory)
    if model == "simple":
        return TServer.TSimpleServer(processor, server_socket, *stack)
    if model == "threaded":
        return TServer.TThreadedServer(processor, server_socket, *stack, daemon=True)
    if model == "pool":
        server = TServer.TThreadPoolServer(processor, server_socket, *stack, daemon=True)
        server.setNumThreads(workers)
        return server
    raise cli.UsageError(f"unsupported server model {model!r}")


class _NoDelayAccept:
    """For THttpServer's server_class: TCP_NODELAY on accepted connections, and
    a pause after a momentary accept failure (socketserver ignores the OSError
    and would otherwise retry at once, spinning while no descriptor is free)."""

    def get_request(self):
        try:
            conn, addr = super().get_request()
        except OSError as exc:
            if exc.errno in _TRANSIENT_ACCEPT_ERRNOS:
                log.warning("accept failed: %s", exc)
                time.sleep(0.05)
            raise
        with contextlib.suppress(OSError):
            conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return conn, addr


class _HTTPServer(_NoDelayAccept, http.server.HTTPServer):
    pass


class _ThreadingHTTPServer(_NoDelayAccept, http.server.ThreadingHTTPServer):
    pass  # daemon_threads = True: connection threads do not hold the exit up


HTTP_SERVER_CLASSES = {"simple": _HTTPServer, "threaded": _ThreadingHTTPServer}


def http_server_class(model: str, host: str, port: int) -> type:
    """THttpServer's server_class for `model` (simple, threaded; others exit 2),
    of the address family `host` resolves to (socketserver binds AF_INET unless told)."""
    if model not in HTTP_SERVER_CLASSES:
        raise cli.UsageError(f"server model {model!r} is not supported with --transport http (simple or threaded)")
    try:
        family = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0][0]
    except OSError:
        family = socket.AF_INET  # the bind reports it
    base = HTTP_SERVER_CLASSES[model]
    return base if family == socket.AF_INET else type(base.__name__, (base,), {"address_family": family})


def build_http_server(
    server_class: type, protocol: str, processor: TProcessor, host: str, port: int
) -> THttpServer.THttpServer:
    """The library's THttpServer; its constructor binds and listens (OSError).
    It answers each POST after processing it, except a message typed ONEWAY,
    answered before (a 200 head without Content-Length, no body), and speaks
    HTTP/1.0: the connection is closed after each response (README)."""
    pfactory = cli.protocol_factory(protocol, "http")
    return THttpServer.THttpServer(processor, (host, port), pfactory, pfactory, server_class=server_class)


def _on_signal(signum: int, _frame: object) -> None:
    # A second signal during shutdown must not interrupt the cleanup.
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    raise Stop(signum)


def _setup_logging(prog: str) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter(f"{prog}: %(levelname)s %(message)s"))
    handler.addFilter(OneLineThriftErrors())
    logging.basicConfig(level=logging.INFO, handlers=[handler])


def serve(
    prog: str,
    build_processor: Callable[[], tuple[TProcessor, str]],
    host: str,
    port: int,
    protocol: str,
    transport: str,
    model: str,
    workers: int,
) -> int:
    """Build the processor (build_processor() returns it and what it serves, for
    the log) and the server, listen, print `LISTENING <port>` and serve until
    SIGTERM/SIGINT (0) or a failure (1); usage errors exit 2."""
    _setup_logging(prog)
    server_socket: ServerSocket | None = None
    server: TServer.TServer | None = None
    server_class: type | None = None
    try:
        cli.require_fastbinary()
        if transport == "http":
            server_class = http_server_class(model, host, port)
        processor, served = build_processor()
        if transport != "http":
            server_socket = ServerSocket(host=host, port=port)
            server = build_server(model, workers, protocol, transport, processor, server_socket)
    except cli.UsageError as exc:
        cli.usage_exit(prog, str(exc))
    except (RuntimeError, _gen.MissingBuild) as exc:
        log.error("%s", exc)
        return cli.EXIT_FAILURE

    try:
        # Installed before listen() and inside the try: from the first accepted
        # connection on, a signal always means a clean stop.
        signal.signal(signal.SIGTERM, _on_signal)
        signal.signal(signal.SIGINT, _on_signal)
        try:
            if server_class is not None:
                server = build_http_server(server_class, protocol, processor, host, port)
                bound = server.httpd.socket.getsockname()[1]
            else:
                server_socket.listen()
                bound = server_socket.bound_port
        except OSError as exc:
            log.error("cannot listen on %s:%s: %s", host, port, exc)
            return cli.EXIT_FAILURE
        pool = f", {workers} workers" if model == "pool" else ""
        log.info("serving %s on %s:%d (%s, %s, %s%s)", served, host, bound, protocol, transport, model, pool)
        print(f"LISTENING {bound}", flush=True)
        server.serve()  # returns only by an exception
        log.error("server loop ended unexpectedly")
        return cli.EXIT_FAILURE
    except Stop as stop:
        log.info("%s received, stopping", signal.Signals(stop.signum).name)
        return cli.EXIT_OK
    except AcceptFailed as exc:
        log.error("listening socket failed: %s", exc)
        return cli.EXIT_FAILURE
    except Exception as exc:  # the simple model's loop died outside a connection
        log.error("server failed: %s", exc)
        return cli.EXIT_FAILURE
    finally:
        if server_socket is not None:
            server_socket.close()
        elif isinstance(server, THttpServer.THttpServer):
            server.httpd.server_close()


def main(argv: list[str] | None = None) -> int:
    args = cli.server_parser().parse_args(argv)
    return serve(
        "ping-server",
        lambda: build_processor(args),
        args.host,
        args.port,
        args.protocol,
        args.transport,
        args.server,
        args.workers,
    )


if __name__ == "__main__":
    sys.exit(main())
