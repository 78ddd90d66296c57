"""ThriftTest and SecondService (idl/ThriftTest.thrift) with the upstream cross
test's server semantics (interop/SPEC.md, "ThriftTest"), and the answers the
client suite expects from any server, so both sides say them once.

Python's generated code maps i8/i16/i32/i64 and enums to int, double to float,
string to str, binary to bytes, map to dict, set to set and list to list.
"""

import logging
import time
from typing import Any

from thrift.Thrift import TApplicationException

from . import _gen

log = logging.getLogger("thrift_frame_peer.thrifttest")

# Names a multiplexed server registers its processors under (and clients call).
THRIFT_TEST_NAME = "ThriftTest"
SECOND_SERVICE_NAME = "SecondService"

# The message of the TApplicationException that testException("TException") answers.
TEXCEPTION_MESSAGE = "This is a TException"
# Longest sleep testOneway takes, whatever it is asked for.
MAX_ONEWAY_SLEEP_S = 60


def types() -> Any:
    """The generated `ThriftTest.ttypes` module."""
    return _gen.thrift_test()[2]


def map_map_answer() -> dict[int, dict[int, int]]:
    return {-4: {i: i for i in range(-4, 0)}, 4: {i: i for i in range(1, 5)}}


def insanity_answer(argument: Any) -> dict[int, dict[int, Any]]:
    t = types()
    empty = t.Insanity(userMap={}, xtructs=[])  # containers present and empty, as C++, Go and Java write it
    return {1: {t.Numberz.TWO: argument, t.Numberz.THREE: argument}, 2: {t.Numberz.SIX: empty}}


def multi_answer(arg0: int, arg1: int, arg2: int) -> Any:
    return types().Xtruct(string_thing="Hello2", byte_thing=arg0, i32_thing=arg1, i64_thing=arg2)


def xception_for(arg: str) -> Any:
    return types().Xception(errorCode=1001, message=arg)


def multi_xception() -> Any:
    return xception_for("This is an Xception")


def multi_xception2() -> Any:
    t = types()
    return t.Xception2(errorCode=2002, struct_thing=t.Xtruct(string_thing="This is an Xception2"))


def second_test_string_answer(thing: str) -> str:
    """As upstream's C++, Go and Python servers answer secondtestString."""
    return f'testString("{thing}")'


def _echo(self: Any, thing: Any) -> Any:
    return thing


class ThriftTestHandler:
    """Every method echoes its argument, except the ones defined below."""

    testString = testBool = testByte = testI32 = testI64 = testDouble = testBinary = _echo
    testStruct = testNest = testMap = testStringMap = testSet = testList = testEnum = testTypedef = _echo

    def testVoid(self) -> None:
        return None

    def testMapMap(self, hello: int) -> dict[int, dict[int, int]]:
        return map_map_answer()

    def testInsanity(self, argument: Any) -> dict[int, dict[int, Any]]:
        return insanity_answer(argument)

    def testMulti(self, arg0: int, arg1: int, arg2: int, arg3: Any, arg4: int, arg5: int) -> Any:
        return multi_answer(arg0, arg1, arg2)

    def testException(self, arg: str) -> None:
        if arg == "Xception":
            raise xception_for(arg)
        if arg == "TException":
            raise TApplicationException(TApplicationException.UNKNOWN, TEXCEPTION_MESSAGE)

    def testMultiException(self, arg0: str, arg1: str) -> Any:
        if arg0 == "Xception":
            raise multi_xception()
        if arg0 == "Xception2":
            raise multi_xception2()
        return types().Xtruct(string_thing=arg1)

    def testOneway(self, secondsToSleep: int | None) -> None:
        # On the connection's thread (the simple model: the only one), as upstream.
        seconds = max(0, min(secondsToSleep or 0, MAX_ONEWAY_SLEEP_S))
        log.debug("testOneway(%s): sleeping %d s", secondsToSleep, seconds)
        time.sleep(seconds)


class SecondServiceHandler:
    def secondtestString(self, thing: str) -> str:
        return second_test_string_answer(thing)
