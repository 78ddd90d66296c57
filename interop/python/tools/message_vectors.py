"""Write the whole-message test vectors of crates/thrift-frame-wire with the
Python library (thrift 0.25 in .venv): one message per file, unframed, in
TBinaryProtocol (strict) and TCompactProtocol:
<dir>/<case>.py.binary and <dir>/<case>.py.compact.

Not part of `make`; after `make` has built .venv and gen-py/, from
interop/python:

    .venv/bin/python tools/message_vectors.py ../../crates/thrift-frame-wire/tests/vectors/messages

The files are written by the pure-Python protocols; every message is also
written by the accelerated ones (fastbinary, which the Python peer uses) and
the program stops if a byte differs.

The same cases, in the same order, are in ../../cpp/tools/message_vectors.cpp
and ../../go/tools/message-vectors; see the vectors' README.
"""

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "gen-py"))

from thrift.protocol.TBinaryProtocol import (  # noqa: E402
    TBinaryProtocol,
    TBinaryProtocolAccelerated,
)
from thrift.protocol.TCompactProtocol import (  # noqa: E402
    TCompactProtocol,
    TCompactProtocolAccelerated,
)
from thrift.protocol.TMultiplexedProtocol import TMultiplexedProtocol  # noqa: E402
from thrift.Thrift import TApplicationException, TMessageType  # noqa: E402
from thrift.transport.TTransport import TMemoryBuffer  # noqa: E402

from ThriftTest.ThriftTest import (  # noqa: E402
    Client,
    testException_result,
    testInsanity_result,
    testMapMap_result,
)
from ThriftTest.ttypes import Insanity, Numberz, Xception, Xtruct, Xtruct2  # noqa: E402


def client(p, seqid=1):
    """The generated client, whose send_X writes the call with its _seqid
    (which it never changes itself: every call is seqid 0)."""
    c = Client(p)
    c._seqid = seqid
    return c


def reply(p, method, result):
    """What the generated Processor writes after a handler returned: the
    result struct as a REPLY."""
    p.writeMessageBegin(method, TMessageType.REPLY, 1)
    result.write(p)
    p.writeMessageEnd()
    p.trans.flush()


def xtruct(s, b, i, l):
    return Xtruct(string_thing=s, byte_thing=b, i32_thing=i, i64_thing=l)


def insanity():
    return Insanity(userMap={Numberz.FIVE: 5000}, xtructs=[xtruct("Goodbye4", 4, 4, 4)])


def call_void(p):
    client(p).send_testVoid()


def call_string(p):
    client(p).send_testString("Hello, \u4e16\u754c")


def call_bool(p):
    client(p).send_testBool(True)


def call_struct(p):
    client(p).send_testStruct(xtruct("Zero", 1, -3, -5))


def call_nest(p):
    client(p).send_testNest(
        Xtruct2(byte_thing=1, struct_thing=xtruct("Zero", 1, -3, -5), i32_thing=5))


def call_map(p):
    client(p).send_testMap({1: 10})


def call_string_map(p):
    client(p).send_testStringMap({"a": "b"})


def call_list(p):
    client(p).send_testList([-2, -1, 0, 1, 2])


def call_list_long(p):
    client(p).send_testList(list(range(1, 21)))


def call_set(p):
    client(p).send_testSet({3})


def call_insanity(p):
    client(p).send_testInsanity(insanity())


def call_binary(p):
    client(p).send_testBinary(bytes(range(256)))


def call_double(p):
    client(p).send_testDouble(-5.25)


def call_i64(p):
    client(p).send_testI64(-34359738368)


def call_oneway(p):
    client(p).send_testOneway(1)


def call_multiplexed(p):
    client(TMultiplexedProtocol(p, "ThriftTest")).send_testString("x")


def reply_map_map(p):
    # Dicts keep insertion order: written sorted, as C++'s std::map is.
    success = {-4: {i: i for i in range(-4, 0)}, 4: {i: i for i in range(1, 5)}}
    reply(p, "testMapMap", testMapMap_result(success=success))


def reply_insanity(p):
    reply(p, "testInsanity", testInsanity_result(success={1: {Numberz.TWO: insanity()}}))


def reply_exception(p):
    err1 = Xception(errorCode=1001, message="Xception")
    reply(p, "testException", testException_result(err1=err1))


def reply_application_exception(p):
    """As the generated Processor answers a call of a method it does not know."""
    x = TApplicationException(TApplicationException.UNKNOWN_METHOD, "bad method")
    p.writeMessageBegin("testUnknown", TMessageType.EXCEPTION, 1)
    x.write(p)
    p.writeMessageEnd()
    p.trans.flush()


def call_empty_args(p):
    client(p, 2147483647).send_testVoid()


def call_negative_seqid(p):
    client(p, -1).send_testVoid()


CASES = [
    ("call_void", call_void),
    ("call_string", call_string),
    ("call_bool", call_bool),
    ("call_struct", call_struct),
    ("call_nest", call_nest),
    ("call_map", call_map),
    ("call_string_map", call_string_map),
    ("call_list", call_list),
    ("call_list_long", call_list_long),
    ("call_set", call_set),
    ("call_insanity", call_insanity),
    ("call_binary", call_binary),
    ("call_double", call_double),
    ("call_i64", call_i64),
    ("call_oneway", call_oneway),
    ("call_multiplexed", call_multiplexed),
    ("reply_map_map", reply_map_map),
    ("reply_insanity", reply_insanity),
    ("reply_exception", reply_exception),
    ("reply_application_exception", reply_application_exception),
    ("call_empty_args", call_empty_args),
    ("call_negative_seqid", call_negative_seqid),
]

# (file suffix, pure-Python protocol, accelerated protocol). TBinaryProtocol
# writes strict (versioned) headers by default.
PROTOCOLS = [
    ("binary", TBinaryProtocol, lambda t: TBinaryProtocolAccelerated(t, fallback=False)),
    ("compact", TCompactProtocol, lambda t: TCompactProtocolAccelerated(t, fallback=False)),
]


def encode(write, protocol):
    buffer = TMemoryBuffer()
    write(protocol(buffer))
    return buffer.getvalue()


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: message_vectors.py <output directory>")
    for name, write in CASES:
        for suffix, pure, accelerated in PROTOCOLS:
            data = encode(write, pure)
            if encode(write, accelerated) != data:
                sys.exit(f"{name}.{suffix}: the accelerated protocol writes other bytes")
            path = os.path.join(sys.argv[1], f"{name}.py.{suffix}")
            with open(path, "wb") as f:
                f.write(data)
            print(path)


if __name__ == "__main__":
    main()
