"""Write the THeader test vectors of crates/thrift-frame-wire with the Python
library (thrift 0.25 in .venv): THeaderProtocol over a TMemoryBuffer, one
frame per file as THeaderTransport.flush puts it on the wire (4-byte frame
length included): <dir>/<case>.py.

Not part of `make`; after `make` has built .venv and gen-py/, from
interop/python:

    .venv/bin/python tools/header_vectors.py ../../crates/thrift-frame-wire/tests/vectors/header

THeaderProtocol always writes its message with the accelerated protocols
(fastbinary); it has no pure-Python choice.

The same cases, in the same order, are in ../../cpp/tools/header_vectors.cpp
and ../../go/tools/header-vectors; see the vectors' README.
"""

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "gen-py"))

from thrift.protocol.THeaderProtocol import THeaderProtocol  # noqa: E402
from thrift.Thrift import TMessageType  # noqa: E402
from thrift.transport.THeaderTransport import (  # noqa: E402
    THeaderClientType,
    THeaderSubprotocolID,
    THeaderTransformID,
)
from thrift.transport.TTransport import TMemoryBuffer  # noqa: E402

from ThriftTest.ThriftTest import Client, testString_result  # noqa: E402

TEXT = "Hello, \u4e16\u754c"


def call_string(p, seqid):
    """The generated client, whose send_X writes the call with its _seqid
    (which it never changes itself: every call is seqid 0)."""
    c = Client(p)
    c._seqid = seqid
    c.send_testString(TEXT)


def reply_string(p, seqid):
    """What the generated Processor writes after the handler returned: the
    result struct as a REPLY."""
    p.writeMessageBegin("testString", TMessageType.REPLY, seqid)
    testString_result(success=TEXT).write(p)
    p.writeMessageEnd()
    p.trans.flush()


BINARY = THeaderSubprotocolID.BINARY
COMPACT = THeaderSubprotocolID.COMPACT
REQUEST_ID = [(b"x-request-id", b"req-42")]

# (case, protocol id, zlib, info headers, write, seqid)
CASES = [
    ("binary_plain", BINARY, False, [], call_string, 1),
    ("compact_plain", COMPACT, False, [], call_string, 1),
    ("binary_info", BINARY, False, REQUEST_ID, call_string, 1),
    ("compact_info_two", COMPACT, False,
     REQUEST_ID + [(b"x-deadline-ms", b"1500")], call_string, 1),
    ("binary_zlib", BINARY, True, REQUEST_ID, call_string, 1),
    ("compact_zlib", COMPACT, True, [], call_string, 1),
    ("binary_seqid", BINARY, False, [], call_string, 7),
    ("reply_binary_info", BINARY, False, REQUEST_ID, reply_string, 1),
]


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: header_vectors.py <output directory>")
    for name, protocol_id, zlib, info, write, seqid in CASES:
        buffer = TMemoryBuffer()
        p = THeaderProtocol(buffer, [THeaderClientType.HEADERS], default_protocol=protocol_id)
        if zlib:
            p.add_transform(THeaderTransformID.ZLIB)
        for key, value in info:
            p.set_header(key, value)
        write(p, seqid)
        path = os.path.join(sys.argv[1], f"{name}.py")
        with open(path, "wb") as f:
            f.write(buffer.getvalue())
        print(path)


if __name__ == "__main__":
    main()
