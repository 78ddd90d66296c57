"""Command line and wire settings of ping-server / ping-client and of
thrifttest-server / thrifttest-client (interop/SPEC.md)."""

import argparse
import re
import sys
import zlib
from collections.abc import Callable
from typing import NoReturn

from thrift.protocol import TBinaryProtocol, TCompactProtocol, THeaderProtocol, TJSONProtocol, TProtocol
from thrift.transport import TTransport, TZlibTransport
from thrift.transport.THeaderTransport import THeaderClientType, THeaderSubprotocolID

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 9093  # the Python peer's port
DEFAULT_SIZES = "128K,256K,512K,1M"

EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_USAGE = 2

# Names a multiplexed server registers its processors under.
MULTIPLEXED_NAMES = {"ping": "PingService", "student": "Serv"}

PROTOCOLS = ("binary", "compact", "json")
TRANSPORTS = ("buffered", "framed", "zlib", "http", "header")
SERVICES = ("ping", "student")
SERVER_MODELS = ("threaded", "simple", "pool")  # default first
CALLS = ("ping", "output")
PAYLOADS = ("alnum", "utf8")


class UsageError(Exception):
    """A value or a combination this peer cannot serve: exit 2 with one line."""


class OneLineParser(argparse.ArgumentParser):
    """argparse that reports a usage error as one line on stderr and exits 2
    (the stock error() prints the whole usage block first)."""

    def error(self, message: str) -> NoReturn:
        sys.stderr.write(f"{self.prog}: {message} (see --help)\n")
        sys.exit(EXIT_USAGE)


def usage_exit(prog: str, message: str) -> NoReturn:
    sys.stderr.write(f"{prog}: {message}\n")
    sys.exit(EXIT_USAGE)


# --- value parsers --------------------------------------------------------------


def _int_in(lo: int, hi: int | None, what: str) -> Callable[[str], int]:
    def parse(text: str) -> int:
        try:
            value = int(text, 10)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{what} must be an integer, got {text!r}") from None
        if value < lo or (hi is not None and value > hi):
            bound = f"{lo}..{hi}" if hi is not None else f">= {lo}"
            raise argparse.ArgumentTypeError(f"{what} must be {bound}, got {value}")
        return value

    return parse


server_port = _int_in(0, 65535, "port")
client_port = _int_in(1, 65535, "port")
positive = _int_in(1, None, "value")
non_negative = _int_in(0, None, "value")

_SIZE_RE = re.compile(r"^(\d+)([KkMm]?)$")
_SUFFIX = {"": 1, "k": 1024, "m": 1024 * 1024}


def parse_size(text: str) -> int:
    """`128K` -> 131072, `1M` -> 1048576, `0` -> 0 (bytes)."""
    match = _SIZE_RE.match(text.strip())
    if not match:
        raise argparse.ArgumentTypeError(f"bad size {text!r}: expected N, NK or NM")
    return int(match.group(1)) * _SUFFIX[match.group(2).lower()]


def parse_sizes(text: str) -> list[int]:
    parts = text.split(",")
    if not text.strip() or any(not p.strip() for p in parts):
        raise argparse.ArgumentTypeError(f"bad size list {text!r}: expected e.g. 128K,256K,1M")
    return [parse_size(p) for p in parts]


def parse_endpoint(text: str) -> tuple[str, int]:
    """`host:port` or `[v6]:port` -> (host, port)."""
    host, sep, port = text.strip().rpartition(":")
    if not sep or not host:
        raise argparse.ArgumentTypeError(f"bad endpoint {text!r}: expected HOST:PORT")
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    return host, client_port(port)


def parse_endpoints(text: str) -> list[tuple[str, int]]:
    parts = text.split(",")
    if any(not p.strip() for p in parts):
        raise argparse.ArgumentTypeError(f"bad endpoint list {text!r}: expected HOST:PORT,HOST:PORT")
    return [parse_endpoint(p) for p in parts]


# --- parsers ----------------------------------------------------------------------


def _common(parser: argparse.ArgumentParser, port_type: Callable[[str], int]) -> None:
    parser.add_argument("--host", default=DEFAULT_HOST, help="default %(default)s")
    parser.add_argument("--port", type=port_type, default=DEFAULT_PORT, help="default %(default)s")
    parser.add_argument("--protocol", choices=PROTOCOLS, default="compact", help="default %(default)s")
    parser.add_argument("--transport", choices=TRANSPORTS, default="buffered", help="default %(default)s")
    parser.add_argument("--service", choices=SERVICES, default="ping", help="default %(default)s")
    parser.add_argument(
        "--multiplexed",
        action="store_true",
        help='PingService and Serv on one port, registered as "PingService" and "Serv"',
    )


def server_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(
        prog="ping-server",
        description="Thrift ping server, Python peer (interop/SPEC.md). "
        "Prints `LISTENING <port>` on stdout once it accepts connections.",
        allow_abbrev=False,  # the contract's flags are exact; `--mult` is a usage error
    )
    _common(parser, server_port)
    parser.add_argument("--server", choices=SERVER_MODELS, default="threaded", help="default %(default)s")
    parser.add_argument("--workers", type=positive, default=4, help="threads of the pool model, default %(default)s")
    return parser


def client_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(
        prog="ping-client",
        description="Reconnecting Thrift ping client, Python peer (interop/SPEC.md).",
        allow_abbrev=False,
    )
    _common(parser, client_port)
    parser.add_argument("--endpoints", type=parse_endpoints, default=None, help="H:P,H:P (overrides --host/--port)")
    parser.add_argument("--call", choices=CALLS, default="ping", help="default %(default)s")
    parser.add_argument(
        "--sizes", type=parse_sizes, default=parse_sizes(DEFAULT_SIZES), help=f"bytes, default {DEFAULT_SIZES}"
    )
    parser.add_argument("--payload", choices=PAYLOADS, default="alnum", help="default %(default)s")
    parser.add_argument("--rounds", type=non_negative, default=1, help="0 = forever, default %(default)s")
    parser.add_argument("--interval-ms", type=non_negative, default=0, help="pause between rounds")
    parser.add_argument("--json", action="store_true", help="one JSON object per call on stdout")
    parser.add_argument("--connect-timeout-ms", type=positive, default=2000, help="default %(default)s")
    parser.add_argument("--timeout-ms", type=positive, default=2000, help="send/receive timeout, default %(default)s")
    # Same name as the Rust client's flag; --reconnect-budget-ms kept as an alias.
    parser.add_argument(
        "--reconnect-deadline-ms",
        "--reconnect-budget-ms",
        dest="reconnect_deadline_ms",
        type=positive,
        default=30000,
        help="Python peer extra: how long one call may spend reconnecting and retrying, default %(default)s",
    )
    parser.add_argument(
        "--call-attempts",
        type=positive,
        default=3,
        help="Python peer extra, as in the Rust client: attempts per ping/output call, the first included, "
        "default %(default)s",
    )
    return parser


# --- thrifttest-server / thrifttest-client (SPEC.md, "ThriftTest") -----------------

THRIFTTEST_PORT = 9090  # upstream's cross-test port
# upstream's names: multi / multic / multij = binary / compact / json, multiplexed
THRIFTTEST_PROTOCOLS = {
    "binary": ("binary", False),
    "compact": ("compact", False),
    "json": ("json", False),
    "multi": ("binary", True),
    "multic": ("compact", True),
    "multij": ("json", True),
}
# upstream's --server-type names -> the models of build_server (server.py)
THRIFTTEST_SERVER_TYPES = {"simple": "simple", "threaded": "threaded", "thread-pool": "pool"}


def _thrifttest_common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--protocol",
        choices=THRIFTTEST_PROTOCOLS,
        default="binary",
        help="multi / multic / multij: binary / compact / json, multiplexed; default %(default)s",
    )
    parser.add_argument("--transport", choices=TRANSPORTS, default="buffered", help="default %(default)s")
    parser.add_argument(
        "--multiplexed", action="store_true", help="ThriftTest and SecondService on one port, under those names"
    )


def thrifttest_server_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(
        prog="thrifttest-server",
        description="ThriftTest server of the Apache Thrift cross test, Python peer (interop/SPEC.md). "
        "Prints `LISTENING <port>` on stdout once it accepts connections.",
        allow_abbrev=False,
    )
    parser.add_argument("--host", default=DEFAULT_HOST, help="default %(default)s")
    parser.add_argument("--port", type=server_port, default=THRIFTTEST_PORT, help="0 = ephemeral, default %(default)s")
    _thrifttest_common(parser)
    parser.add_argument("--server-type", choices=THRIFTTEST_SERVER_TYPES, default="simple", help="default %(default)s")
    parser.add_argument("-n", "--workers", type=positive, default=4, help="thread-pool workers, default %(default)s")
    return parser


def thrifttest_client_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(
        prog="thrifttest-client",
        description="ThriftTest client of the Apache Thrift cross test, Python peer (interop/SPEC.md). "
        "Exit code: upstream's bitmask (1 base types, 2 structs, 4 containers, 8 exceptions, "
        "64 unknown, 128 timeout).",
        allow_abbrev=False,
    )
    parser.add_argument("--host", default="localhost", help="default %(default)s")
    parser.add_argument("--port", type=client_port, default=THRIFTTEST_PORT, help="default %(default)s")
    _thrifttest_common(parser)
    parser.add_argument(
        "-n",
        "--testloops",
        type=non_negative,
        default=1,
        help="runs of the whole suite, each on a fresh connection (0 = 1), default %(default)s",
    )
    parser.add_argument(
        "--timeout-ms",
        type=_int_in(1001, None, "value"),
        default=5000,
        help="per call, more than 1000 (the call after testOneway(1) waits for the server's sleep), "
        "default %(default)s",
    )
    parser.add_argument(
        "--reconnect-deadline-ms",
        type=positive,
        default=30000,
        help="how long to keep trying to connect, default %(default)s",
    )
    return parser


# --- wire settings ----------------------------------------------------------------


def require_fastbinary() -> None:
    """The accelerated factories below refuse to work without thrift's C extension;
    check once at start-up so a broken install fails loudly, not per connection."""
    try:
        from thrift.protocol import fastbinary  # noqa: F401
    except ImportError as exc:
        raise RuntimeError(f"thrift's C extension fastbinary is missing ({exc}): rebuild with make") from exc


class StrictBinaryAcceleratedFactory(TProtocol.TProtocolFactory):
    """TBinaryProtocolAcceleratedFactory always reads leniently (it does not pass
    strictRead on); SPEC.md's binary is strict on read and write, like the Rust peer."""

    def getProtocol(self, trans):
        return TBinaryProtocol.TBinaryProtocolAccelerated(trans, strictRead=True, strictWrite=True, fallback=False)


# --transport header: the protocol inside the frames, by its THeader protocol id
HEADER_PROTOCOL_IDS = {"binary": THeaderSubprotocolID.BINARY, "compact": THeaderSubprotocolID.COMPACT}
# What a header server also takes, each answered in kind (README): every client
# type the library knows; its factory's default is HEADERS alone.
HEADER_SERVER_CLIENT_TYPES = (
    THeaderClientType.HEADERS,
    THeaderClientType.FRAMED_BINARY,
    THeaderClientType.UNFRAMED_BINARY,
    THeaderClientType.FRAMED_COMPACT,
    THeaderClientType.UNFRAMED_COMPACT,
)


def header_protocol_factory(name: str, server: bool) -> THeaderProtocol.THeaderProtocolFactory:
    """THeaderProtocol, which wraps the socket in its own THeaderTransport (so no
    transport factory goes beneath it) and writes with the accelerated binary or
    compact protocol (fastbinary: require_fastbinary() makes sure it is there).
    A client writes `name`'s protocol id and reads only THeader replies; a server
    answers every frame in the protocol of its request."""
    if name not in HEADER_PROTOCOL_IDS:
        raise UsageError(f"--transport header takes --protocol binary or compact, not {name!r}")
    client_types = HEADER_SERVER_CLIENT_TYPES if server else (THeaderClientType.HEADERS,)
    return THeaderProtocol.THeaderProtocolFactory(client_types, default_protocol=HEADER_PROTOCOL_IDS[name])


def protocol_factory(name: str, transport: str, server: bool = False) -> TProtocol.TProtocolFactory:
    """Accelerated (fastbinary) protocol factory; fallback=False so a missing
    extension is an error, not a silent slowdown. Except on zlib: the
    accelerated protocols read TZlibTransport through its cstringio_refill,
    which drops the inflated bytes its read() left over (thrift 0.25), so a
    message of more than 4 KiB stalls; the pure-Python protocols read it whole.
    JSON has no accelerated form: the library's pure-Python TJSONProtocol.
    (On an http client the accelerated protocols still write accelerated, but
    the generated code decodes in Python: THttpClient is no CReadableTransport.)
    header: header_protocol_factory()."""
    if transport == "header":
        return header_protocol_factory(name, server)
    if name == "json":
        return TJSONProtocol.TJSONProtocolFactory()
    if transport == "zlib":
        if name == "binary":
            return TBinaryProtocol.TBinaryProtocolFactory(strictRead=True, strictWrite=True)
        if name == "compact":
            return TCompactProtocol.TCompactProtocolFactory()
    if name == "binary":
        return StrictBinaryAcceleratedFactory()
    if name == "compact":
        return TCompactProtocol.TCompactProtocolAcceleratedFactory(fallback=False)
    raise UsageError(f"unsupported protocol {name!r}")


class ZlibTransportFactory(TZlibTransport.TZlibTransportFactory):
    """The library's factory (TZlibTransport straight on the socket; flush() ends
    every message with Z_SYNC_FLUSH) at zlib's default level 6, as in C++,
    instead of its 9: level 9 took 2.5 s to deflate the Rust client's 1 MiB
    utf8 payload, past the 2 s call timeout; level 6 takes 0.2 s. The servers
    call getTransport(trans) alone, so the level is set here."""

    def getTransport(self, trans):
        return super().getTransport(trans, compresslevel=zlib.Z_DEFAULT_COMPRESSION)


class BufferedZlibTransportFactory(ZlibTransportFactory):
    """json on zlib: the same TZlibTransport, over a TBufferedTransport on the
    socket (the bytes on the wire are the same). TZlibTransport.readComp(sz)
    reads sz compressed bytes from the transport beneath when its inflated
    buffer runs dry, and TJSONProtocol reads one byte at a time: straight on
    the socket that is one recv() per compressed byte, 3.5 s for a 1 MiB ping
    (past the 2 s call timeout). The buffer beneath turns them into 4 KiB
    reads. Binary and compact read whole strings at once and stay on the socket."""

    def getTransport(self, trans):
        return super().getTransport(TTransport.TBufferedTransport(trans))


def transport_factory(name: str, protocol: str = "") -> TTransport.TTransportFactoryBase:
    """The socket transport's factory; http has none (THttpClient on the client,
    THttpServer on the server: server.py and client.py build those). header gets
    the socket itself: THeaderProtocol puts its THeaderTransport on it."""
    if name == "header":
        return TTransport.TTransportFactoryBase()
    if name == "buffered":
        return TTransport.TBufferedTransportFactory()
    if name == "framed":
        return TTransport.TFramedTransportFactory()
    if name == "zlib":
        return BufferedZlibTransportFactory() if protocol == "json" else ZlibTransportFactory()
    raise UsageError(f"unsupported transport {name!r}")
