"""thrifttest-server: ThriftTest (and, multiplexed, SecondService) on the
ping server's plumbing (server.serve): same models, signals and LISTENING line."""

import sys

from thrift.Thrift import TProcessor
from thrift.TMultiplexedProcessor import TMultiplexedProcessor

from . import _gen, cli, server
from .thrifttest import SECOND_SERVICE_NAME, THRIFT_TEST_NAME, SecondServiceHandler, ThriftTestHandler


def build_processor(multiplexed: bool) -> tuple[TProcessor, str]:
    ThriftTest, SecondService, _ = _gen.thrift_test()
    thrift_test = ThriftTest.Processor(ThriftTestHandler())
    if not multiplexed:
        return thrift_test, THRIFT_TEST_NAME
    processor = TMultiplexedProcessor()
    processor.registerProcessor(THRIFT_TEST_NAME, thrift_test)
    processor.registerProcessor(SECOND_SERVICE_NAME, SecondService.Processor(SecondServiceHandler()))
    return processor, f"{THRIFT_TEST_NAME}+{SECOND_SERVICE_NAME} (multiplexed)"


def main(argv: list[str] | None = None) -> int:
    args = cli.thrifttest_server_parser().parse_args(argv)
    protocol, multiplexed = cli.THRIFTTEST_PROTOCOLS[args.protocol]
    return server.serve(
        "thrifttest-server",
        lambda: build_processor(multiplexed or args.multiplexed),
        args.host,
        args.port,
        protocol,
        args.transport,
        cli.THRIFTTEST_SERVER_TYPES[args.server_type],
        args.workers,
    )


if __name__ == "__main__":
    sys.exit(main())
