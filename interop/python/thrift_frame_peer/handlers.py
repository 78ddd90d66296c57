"""Service handlers (idl/ping.thrift, idl/student.thrift)."""

from typing import Any


class PingHandler:
    """PingService: ping -> `receive len: N` (N = UTF-8 bytes), output -> echo."""

    def ping(self, msg: str | None) -> str:
        # len() of a str counts code points; the contract counts UTF-8 bytes.
        # The generated code hands over None for a missing field.
        return f"receive len: {len((msg or '').encode('utf-8'))}"

    def output(self, msg: str | None) -> str:
        return f"You said: {msg or ''}"


class StudentHandler:
    """Serv: put(s) -> s.sno."""

    def put(self, s: Any) -> int:  # s: the generated student.ttypes.Student
        return s.sno
