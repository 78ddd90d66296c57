"""thrifttest-client: the ThriftTest client suite (interop/SPEC.md, "ThriftTest"),
the same checks as the Rust client (crates/thrift-frame-thrifttest/src/suite.rs),
on the ping client's reconnecting ThriftClient.

Every check is recorded, never fatal: one bad method costs its group's bit only.
stdout: a `loop <n>: ...` line after each loop, then one line per method;
stderr: one `FAILED [<group>] <call>: <why>` line per failed check, as it fails.
"""

import logging
import operator
import signal
import struct
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from thrift.Thrift import TApplicationException

from . import _gen, cli, client
from .client import CallError, ClientSettings, ThriftClient
from .thrifttest import (
    SECOND_SERVICE_NAME,
    THRIFT_TEST_NAME,
    insanity_answer,
    map_map_answer,
    multi_answer,
    multi_xception,
    multi_xception2,
    second_test_string_answer,
    types,
    xception_for,
)

PROG = "thrifttest-client"

# Exit-code bits, upstream's.
GROUP_BITS = {"basetypes": 1, "structs": 2, "containers": 4, "exceptions": 8}
EXIT_UNKNOWN = 64
EXIT_TIMEOUT = 128

# testOneway(1) must not wait for the server's one-second sleep.
ONEWAY_MAX_RETURN_S = 0.5
MAX_SHOWN = 160  # longest rendering of a value in a FAILED line

I8_MIN, I8_MAX = -(2**7), 2**7 - 1
I32_MIN, I32_MAX = -(2**31), 2**31 - 1
I64_MIN, I64_MAX = -(2**63), 2**63 - 1
BIG_53 = 2**53 + 1  # the first integer a double cannot hold


def shorten(text: str) -> str:
    return text if len(text) <= MAX_SHOWN else f"{text[:MAX_SHOWN]}... ({len(text)} chars)"


def same_bits(a: float, b: float) -> bool:
    # Bit for bit: -0.0 == 0.0 numerically, not on the wire.
    return isinstance(b, float) and struct.pack("<d", a) == struct.pack("<d", b)


@dataclass
class Report:
    methods: dict[str, list[int]] = field(default_factory=dict)  # method -> [checks, failed]
    bits: int = 0
    aborted: list[str] = field(default_factory=list)
    unknown: list[str] = field(default_factory=list)
    reconnects: int = 0

    def record(self, group: str, method: str, args: tuple, why: str | None, timed_out: bool = False) -> None:
        """One check of `method(*args)`; `why` says what was wrong, None if nothing."""
        tally = self.methods.setdefault(method, [0, 0])
        tally[0] += 1
        if why is None:
            return
        tally[1] += 1
        self.bits |= GROUP_BITS[group] | (EXIT_TIMEOUT if timed_out else 0)
        call = shorten(f"{method}({', '.join(map(repr, args))})")
        client.log(f"FAILED [{group}] {call}: {why}")

    def totals(self) -> tuple[int, int]:
        return sum(t[0] for t in self.methods.values()), sum(t[1] for t in self.methods.values())

    def exit_code(self) -> int:
        if self.aborted:  # tests not run count as failed, as upstream counts them
            return self.bits | EXIT_UNKNOWN | sum(GROUP_BITS.values())
        return self.bits


class Checks:
    """The suite's calls on one connection; each reply is checked for equality."""

    def __init__(self, conn: ThriftClient, report: Report) -> None:
        self.conn = conn
        self.report = report

    def _call(self, method: str, args: tuple, raises: tuple[type[BaseException], ...] = ()) -> tuple[Any, Any]:
        """(reply, None), or (None, the CallError or declared exception)."""
        try:
            return self.conn.call(method, *args, retry=True, raises=raises), None
        except CallError as exc:
            return None, exc
        except raises as exc:
            return None, exc

    def expect(
        self,
        group: str,
        method: str,
        args: tuple,
        expected: Any,
        same: Callable[[Any, Any], bool] = operator.eq,
        normalize: Callable[[Any], Any] = lambda reply: reply,
    ) -> None:
        got, error = self._call(method, args)
        if error is not None:
            why, timed_out = f"expected {shorten(repr(expected))}, got error: {error}", error.timed_out
        elif not same(expected, normalize(got)):
            why, timed_out = f"expected {shorten(repr(expected))}, got {shorten(repr(got))}", False
        else:
            why, timed_out = None, False
        self.report.record(group, method, args, why, timed_out)

    def echo(self, group: str, method: str, value: Any, same: Callable[[Any, Any], bool] = operator.eq) -> None:
        self.expect(group, method, (value,), value, same)

    def expect_raise(
        self, group: str, method: str, args: tuple, exc_type: type, matches: Callable[[Any], bool], what: str
    ) -> None:
        got, error = self._call(method, args, raises=(exc_type,))
        if isinstance(error, exc_type):
            why = None if matches(error) else f"expected {what}, got {error!r}"
        elif error is not None:
            why = f"expected {what}, got: {error}"
        else:
            why = f"expected {what}, got a normal return {got!r}"
        self.report.record(group, method, args, why, getattr(error, "timed_out", False))

    def base_types(self) -> None:
        b = "basetypes"
        self.expect(b, "testVoid", (), None)
        for s in [
            "Test",
            "",
            "Iñtërnâtiônàlizætiøn: ☃ 日本語 Ελληνικά русский עברית 🦀",
            "with \0 nul, \t tab and \n newline",
            "x" * (64 * 1024),
        ]:
            self.echo(b, "testString", s)
        for flag in [True, False]:
            self.echo(b, "testBool", flag)
        for i in [1, 0, -1, I8_MIN, I8_MAX]:
            self.echo(b, "testByte", i)
        for i in [-1, 0, 1, I32_MIN, I32_MAX]:
            self.echo(b, "testI32", i)
        for i in [-34_359_738_368, 0, BIG_53, -BIG_53, I64_MIN, I64_MAX]:
            self.echo(b, "testI64", i)
        max_double = sys.float_info.max
        for d in [-5.2098523, 0.0, -0.0, 1 / 3, 5e-324, sys.float_info.min, 1e-300, -1e300,
                  max_double, -max_double, float("inf"), float("-inf")]:  # fmt: skip
            self.echo(b, "testDouble", d, same_bits)
        every_byte = bytes(range(256))
        large = bytes(i * 7 % 251 for i in range(256 * 1024))
        for data in [every_byte, b"", large]:
            self.echo(b, "testBinary", data)

    def structs(self) -> None:
        s, t = "structs", types()
        zero = t.Xtruct(string_thing="Zero", byte_thing=1, i32_thing=-3, i64_thing=-5)
        edges = t.Xtruct(string_thing="", byte_thing=I8_MIN, i32_thing=I32_MIN, i64_thing=BIG_53)
        unicode = t.Xtruct(string_thing="Ünïcödé 🦀", byte_thing=I8_MAX, i32_thing=I32_MAX, i64_thing=I64_MIN)
        for x in [zero, edges, unicode]:
            self.echo(s, "testStruct", x)
        for n in [
            t.Xtruct2(byte_thing=1, struct_thing=zero, i32_thing=5),
            t.Xtruct2(byte_thing=-1, struct_thing=edges, i32_thing=I32_MIN),
        ]:
            self.echo(s, "testNest", n)
        for e in sorted(t.Numberz._VALUES_TO_NAMES):
            self.echo(s, "testEnum", e)
        for i in [309_858_235_082_523, -1, 0, I64_MIN, I64_MAX]:
            self.echo(s, "testTypedef", i)

        argument = t.Insanity(
            userMap={t.Numberz.FIVE: 5, t.Numberz.EIGHT: 8},
            xtructs=[
                t.Xtruct(string_thing="Goodbye4", byte_thing=4, i32_thing=4, i64_thing=4),
                t.Xtruct(string_thing="Hello2", byte_thing=2, i32_thing=2, i64_thing=2),
            ],
        )
        self.expect(s, "testInsanity", (argument,), insanity_answer(argument), normalize=normalize_insanity)

        for a0, a1, a2, a3, a4, a5 in [
            (9, 11, 12, {1: "2", 2: "3"}, t.Numberz.FIVE, 13),
            (I8_MIN, I32_MIN, I64_MAX, {}, t.Numberz.EIGHT, -1),
        ]:
            self.expect(s, "testMulti", (a0, a1, a2, a3, a4, a5), multi_answer(a0, a1, a2))

    def containers(self) -> None:
        c = "containers"
        for m in [{i: i - 10 for i in range(5)}, {}, {I32_MIN: I32_MAX, -1: 0, I32_MAX: I32_MIN}]:
            self.echo(c, "testMap", m)
        for m in [
            {"a": "2", "b": "blah", "some": "thing"},
            {},
            {"": "", "日本": "🦀", "key with spaces": "nul \0 inside"},
        ]:
            self.echo(c, "testStringMap", m)
        for st in [set(range(-2, 3)), set(), {I32_MIN, I32_MAX}]:
            self.echo(c, "testSet", st)
        for lst in [list(range(-2, 3)), [], [3, 3, 1, -7, 3, I32_MIN]]:
            self.echo(c, "testList", lst)
        for hello in [1, -1]:
            self.expect(c, "testMapMap", (hello,), map_map_answer())

    def exceptions(self) -> None:
        e, t = "exceptions", types()
        expected = xception_for("Xception")
        self.expect_raise(e, "testException", ("Xception",), t.Xception, expected.__eq__, repr(expected))
        self.expect_raise(
            e, "testException", ("TException",), TApplicationException, lambda _: True, "a TApplicationException"
        )
        self.expect(e, "testException", ("success",), None)

        expected = multi_xception()
        self.expect_raise(e, "testMultiException", ("Xception", "test 1"), t.Xception, expected.__eq__, repr(expected))
        # Xception2: only errorCode and struct_thing.string_thing are specified.
        expected2 = multi_xception2()

        def key(x: Any) -> tuple:
            return x.errorCode, x.struct_thing and x.struct_thing.string_thing

        self.expect_raise(
            e,
            "testMultiException",
            ("Xception2", "test 2"),
            t.Xception2,
            lambda got: key(got) == key(expected2),
            repr(expected2),
        )
        # Peers whose fields are never absent send byte_thing etc. as zero: only
        # string_thing is specified.
        self.expect(
            e,
            "testMultiException",
            ("success", "test 3"),
            "test 3",
            normalize=lambda x: getattr(x, "string_thing", x),
        )
        self.echo(e, "testI32", 7)  # exceptions leave the connection in step

    def oneway(self) -> None:
        started, reconnects = time.monotonic(), self.conn.reconnects
        why, timed_out = None, False
        try:
            self.conn.call("testOneway", 1, retry=False)  # never retried: the server may have run it
        except CallError as exc:
            if exc.outcome_unknown:  # not a failed check; the testI32 below is
                self.report.unknown.append(f"UNKNOWN [basetypes] testOneway(1): {exc}")
                client.log(self.report.unknown[-1])
                why = ""
            else:
                why, timed_out = f"got error: {exc}", exc.timed_out
        elapsed = time.monotonic() - started
        # A call that had to reconnect first cannot be judged by its time.
        if why is None and self.conn.reconnects == reconnects and elapsed > ONEWAY_MAX_RETURN_S:
            limit = ONEWAY_MAX_RETURN_S * 1000
            why = f"returned after {elapsed * 1000:.0f} ms, more than {limit:.0f} ms: did it wait for a reply?"
        if why != "":
            self.report.record("basetypes", "testOneway", (1,), why, timed_out)
        self.echo("basetypes", "testI32", -1)  # usable once the server has slept


def second_service(conn: ThriftClient, report: Report) -> None:
    checks = Checks(conn, report)
    for s in ["Test", "SecondService: ☃ 日本語 🦀"]:
        checks.expect("basetypes", "secondtestString", (s,), second_test_string_answer(s))


def normalize_insanity(answer: Any) -> Any:
    """An empty Insanity may come with its containers absent or empty, depending
    on the server's language: both mean the same."""
    if not isinstance(answer, dict):
        return answer
    t = types()
    return {
        user: {n: t.Insanity(userMap=i.userMap or {}, xtructs=i.xtructs or []) for n, i in inner.items()}
        for user, inner in answer.items()
    }


# --- the run ------------------------------------------------------------------------


def run_loop(args: Any, settings: ClientSettings, multiplexed: bool, report: Report) -> None:
    """The whole suite on fresh connections; CallError if the first cannot be opened."""
    ThriftTest, SecondService, _ = _gen.thrift_test()
    conn = ThriftClient(args.host, args.port, settings, ThriftTest.Client, THRIFT_TEST_NAME if multiplexed else None)
    try:
        conn.open(time.monotonic() + settings.reconnect_deadline_s)
        checks = Checks(conn, report)
        checks.base_types()
        checks.structs()
        checks.containers()
        checks.exceptions()
        checks.oneway()
    finally:
        conn.close()  # before the next connection: a simple server serves one at a time
        report.reconnects += conn.reconnects
    if multiplexed:
        second = ThriftClient(args.host, args.port, settings, SecondService.Client, SECOND_SERVICE_NAME)
        try:
            second_service(second, report)  # its first call connects
        finally:
            second.close()
            report.reconnects += second.reconnects


def run(args: Any, report: Report) -> None:
    protocol, multiplexed = cli.THRIFTTEST_PROTOCOLS[args.protocol]
    settings = ClientSettings(
        protocol=protocol,
        transport=args.transport,
        multiplexed=multiplexed or args.multiplexed,
        timeout_ms=args.timeout_ms,
        reconnect_deadline_s=args.reconnect_deadline_ms / 1000.0,
    )
    for number in range(1, max(args.testloops, 1) + 1):
        checks, failed = report.totals()
        try:
            run_loop(args, settings, settings.multiplexed, report)
        except CallError as exc:
            report.aborted.append(f"loop {number}: {exc}")
            return
        checks_after, failed_after = report.totals()
        print(
            f"loop {number}: {checks_after - checks} checks, {failed_after - failed} failed, "
            f"{report.reconnects} reconnects",
            flush=True,
        )


def _on_signal(signum: int, _frame: object) -> None:
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    raise client.Stop(signum)


def main(argv: list[str] | None = None) -> int:
    client.PROG = PROG
    args = cli.thrifttest_client_parser().parse_args(argv)
    # TSocket logs every failed connect itself (with a traceback); ThriftClient
    # reports its own one-line messages.
    logging.getLogger("thrift").addHandler(logging.NullHandler())
    logging.getLogger("thrift").propagate = False
    report = Report()
    try:
        signal.signal(signal.SIGTERM, _on_signal)
        signal.signal(signal.SIGINT, _on_signal)
        cli.require_fastbinary()
        run(args, report)
    except client.Stop as stop:
        client.log(f"{signal.Signals(stop.args[0]).name} received, stopping")
    except cli.UsageError as exc:  # raised by the first ThriftClient, before any output
        cli.usage_exit(PROG, str(exc))
    except (RuntimeError, _gen.MissingBuild) as exc:
        client.log(str(exc))
        return EXIT_UNKNOWN | sum(GROUP_BITS.values())
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        signal.signal(signal.SIGINT, signal.SIG_IGN)
    for method, (checks, failed) in sorted(report.methods.items()):
        print(f"{method}: {checks} checks, {failed} failed: {'FAILED' if failed else 'ok'}")
    sys.stdout.flush()
    for why in report.aborted:
        client.log(f"could not run the suite: {why}")
    return report.exit_code()


if __name__ == "__main__":
    sys.exit(main())
