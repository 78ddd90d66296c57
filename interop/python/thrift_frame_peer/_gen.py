"""Access to the code the Thrift compiler generated into interop/python/gen-py.

gen-py is build output (see the Makefile); its packages are named after the IDL's
`namespace py` lines (`ping`, `student`, `ThriftTest`), so gen-py itself goes on sys.path.
Imported lazily so a missing build is one clear error, not an ImportError.
"""

import sys
from pathlib import Path
from types import ModuleType

GEN_PY = Path(__file__).resolve().parent.parent / "gen-py"


class MissingBuild(Exception):
    pass


def _ensure_path(*packages: str) -> None:
    if not all((GEN_PY / package).is_dir() for package in packages or ("ping", "student")):
        raise MissingBuild(f"generated code not found in {GEN_PY}: run `make -C {GEN_PY.parent}`")
    path = str(GEN_PY)
    if path not in sys.path:
        sys.path.insert(0, path)


def ping_service() -> ModuleType:
    """The generated `ping.PingService` module."""
    _ensure_path()
    from ping import PingService

    return PingService


def student_modules() -> tuple[ModuleType, type]:
    """The generated `student.Serv` module and the `Student` struct."""
    _ensure_path()
    from student import Serv
    from student.ttypes import Student

    return Serv, Student


def thrift_test() -> tuple[ModuleType, ModuleType, ModuleType]:
    """The generated `ThriftTest.ThriftTest` and `ThriftTest.SecondService`
    service modules and `ThriftTest.ttypes`."""
    _ensure_path("ThriftTest")
    from ThriftTest import SecondService, ThriftTest, ttypes

    return ThriftTest, SecondService, ttypes
