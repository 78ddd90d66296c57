// thrifttest-server: Apache Thrift's cross-test ThriftTest service (and,
// multiplexed, SecondService) in one of four Thrift server models; prints
// "LISTENING <port>" on stdout, stops on SIGTERM/SIGINT (interop/SPEC.md,
// "ThriftTest").
#include <memory>

#include <thrift/processor/TMultiplexedProcessor.h>

#include "server_runner.h"
#include "thrifttest_cli.h"
#include "thrifttest_handler.h"

int main(int argc, char** argv) {
  const cli::ServerOptions opts = thrifttest::serverOptionsOrExit(argc, argv);
  server_runner::Options run;
  run.prog = "thrifttest-server";
  run.what = opts.multiplexed ? "multiplexed ThriftTest+SecondService" : "ThriftTest";
  // testOneway sleeps on the thread running the call: keep it off the
  // nonblocking server's I/O thread.
  run.nonblocking_workers = true;
  return server_runner::run(opts, run, [&]() -> std::shared_ptr<apache::thrift::TProcessor> {
    auto test = std::make_shared<thrift::test::ThriftTestProcessor>(
        std::make_shared<thrifttest::ThriftTestHandler>());
    if (!opts.multiplexed) return test;
    auto mux = std::make_shared<apache::thrift::TMultiplexedProcessor>();
    mux->registerProcessor("ThriftTest", test);
    mux->registerProcessor("SecondService",
                           std::make_shared<thrift::test::SecondServiceProcessor>(
                               std::make_shared<thrifttest::SecondServiceHandler>()));
    return mux;
  });
}
