"""Write the TJSONProtocol test vectors of crates/thrift-frame-wire with the
Python library (thrift 0.25 in .venv), one file per case: <dir>/<case>.py.json.

Not part of `make`; after `make` has built .venv and gen-py/, from
interop/python:

    .venv/bin/python tools/json_vectors.py ../../crates/thrift-frame-wire/tests/vectors/json

The same cases, in the same order, are in ../../cpp/tools/json_vectors.cpp and
../../go/tools/json-vectors; see the vectors' README.
"""

import math
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "gen-py"))

from thrift.protocol.TJSONProtocol import TJSONProtocol  # noqa: E402
from thrift.Thrift import TMessageType, TType  # noqa: E402
from thrift.transport.TTransport import TMemoryBuffer  # noqa: E402

from ThriftTest.ThriftTest import testStruct_args  # noqa: E402
from ThriftTest.ttypes import Insanity, Numberz, Xception, Xtruct, Xtruct2  # noqa: E402

I64_MIN, I64_MAX = -(2**63), 2**63 - 1


def xtruct(s, b, i, l):
    return Xtruct(string_thing=s, byte_thing=b, i32_thing=i, i64_thing=l)


def message(p):
    p.writeMessageBegin("testStruct", TMessageType.CALL, 7)
    testStruct_args(thing=xtruct("Zero", 1, -3, -5)).write(p)
    p.writeMessageEnd()


def xtruct2(p):
    Xtruct2(byte_thing=1, struct_thing=xtruct("Zero", 1, -3, -5), i32_thing=5).write(p)


def insanity(p):
    Insanity(
        userMap={Numberz.FIVE: 5000},
        xtructs=[xtruct("Goodbye4", 4, 4, 4), xtruct("Hello2", 2, 2, 2)],
    ).write(p)


def xception(p):
    Xception(errorCode=1001, message="Xception").write(p)


def nested_map(p):
    p.writeMapBegin(TType.I32, TType.MAP, 2)
    for outer, inner in ((-4, range(-4, 0)), (4, range(1, 5))):
        p.writeI32(outer)
        p.writeMapBegin(TType.I32, TType.I32, 4)
        for i in inner:
            p.writeI32(i)
            p.writeI32(i)
        p.writeMapEnd()
    p.writeMapEnd()


def containers(p):
    values = [-1, 0, 1, 2**31 - 1, -(2**31)]
    p.writeListBegin(TType.I32, len(values))
    for i in values:
        p.writeI32(i)
    p.writeListEnd()
    p.writeSetBegin(TType.I32, 2)
    p.writeI32(-1)
    p.writeI32(1)
    p.writeSetEnd()
    p.writeMapBegin(TType.I32, TType.STRING, 2)
    p.writeI32(1)
    p.writeString("one")
    p.writeI32(-1)
    p.writeString("minus one")
    p.writeMapEnd()
    p.writeListBegin(TType.STRING, 0)
    p.writeListEnd()
    p.writeSetBegin(TType.I64, 0)
    p.writeSetEnd()
    p.writeMapBegin(TType.I32, TType.STRING, 0)
    p.writeMapEnd()
    p.writeListBegin(TType.LIST, 2)
    p.writeListBegin(TType.I16, 1)
    p.writeI16(7)
    p.writeListEnd()
    p.writeListBegin(TType.I16, 0)
    p.writeListEnd()
    p.writeListEnd()


def ints(p):
    for ttype, write, values in (
        (TType.BYTE, p.writeByte, [-128, 0, 127]),
        (TType.I16, p.writeI16, [-32768, 32767]),
        (TType.I32, p.writeI32, [-(2**31), 2**31 - 1]),
        (TType.I64, p.writeI64, [I64_MIN, I64_MAX, 2**53 + 1, -(2**53 + 1)]),
        (TType.BOOL, p.writeBool, [True, False]),
    ):
        p.writeListBegin(ttype, len(values))
        for v in values:
            write(v)
        p.writeListEnd()


DOUBLES = [0.0, -0.0, 1.0 / 3.0, 1e300, 5e-324, math.nan, math.inf, -math.inf, 0.1,
           -2.5, 1e21, 1e-7, 123456789012345678.0, 9007199254740993.0,
           1.7976931348623157e308]


def doubles(p):
    p.writeListBegin(TType.DOUBLE, len(DOUBLES))
    for d in DOUBLES:
        p.writeDouble(d)
    p.writeListEnd()


def map_keys(p):
    keys = [1.0 / 3.0, math.nan, math.inf, -math.inf, -0.0, 1e300]
    p.writeMapBegin(TType.DOUBLE, TType.I32, len(keys))
    for i, k in enumerate(keys):
        p.writeDouble(k)
        p.writeI32(i + 1)
    p.writeMapEnd()
    p.writeMapBegin(TType.I64, TType.STRING, 2)
    p.writeI64(I64_MIN)
    p.writeString("min")
    p.writeI64(2**53 + 1)
    p.writeString("2^53+1")
    p.writeMapEnd()
    p.writeMapBegin(TType.STRING, TType.BOOL, 2)
    p.writeString("")
    p.writeBool(True)
    p.writeString('k"ey')
    p.writeBool(False)
    p.writeMapEnd()
    p.writeMapBegin(TType.BOOL, TType.BYTE, 2)
    p.writeBool(True)
    p.writeByte(-1)
    p.writeBool(False)
    p.writeByte(0)
    p.writeMapEnd()


STRINGS = [
    "",
    "plain",
    'quote" backslash\\ slash/',
    "ctl \x01\x07\x08\t\n\x0b\x0c\r\x1b\x1f\x7f end",
    "\u00e9 \u00fc \u00df",
    "\u4e2d\u6587",
    "\U0001F600",
    "<tag>&amp;'",
    "\u2028\u2029",
    "nul \x00 end",
]


def strings(p):
    p.writeListBegin(TType.STRING, len(STRINGS))
    for s in STRINGS:
        p.writeString(s)
    p.writeListEnd()


def binary(p):
    values = [bytes(range(256)), b"", b"a", b"ab", b"abc"]
    p.writeListBegin(TType.STRING, len(values))
    for b in values:
        p.writeBinary(b)
    p.writeListEnd()


CASES = [
    ("message", message), ("xtruct2", xtruct2), ("insanity", insanity),
    ("xception", xception), ("nested_map", nested_map), ("containers", containers),
    ("ints", ints), ("doubles", doubles), ("map_keys", map_keys),
    ("strings", strings), ("binary", binary),
]


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: json_vectors.py <output directory>")
    for name, write in CASES:
        buffer = TMemoryBuffer()
        write(TJSONProtocol(buffer))
        path = os.path.join(sys.argv[1], name + ".py.json")
        with open(path, "wb") as f:
            f.write(buffer.getvalue())
        print(path)


if __name__ == "__main__":
    main()
