// ping-server: serves PingService and/or Serv in one of four Thrift server
// models, announces "LISTENING <port>" on stdout, stops on SIGTERM/SIGINT.
#include <memory>

#include <thrift/processor/TMultiplexedProcessor.h>

#include "cli.h"
#include "handlers.h"
#include "server_runner.h"

namespace {

std::shared_ptr<apache::thrift::TProcessor> makeProcessor(const cli::ServerOptions& o) {
  auto ping = std::make_shared<thrift_frame::ping::PingServiceProcessor>(
      std::make_shared<handlers::PingHandler>());
  auto student = std::make_shared<thrift_frame::student::ServProcessor>(
      std::make_shared<handlers::StudentHandler>());
  if (o.multiplexed) {
    auto mux = std::make_shared<apache::thrift::TMultiplexedProcessor>();
    mux->registerProcessor("PingService", ping);
    mux->registerProcessor("Serv", student);
    return mux;
  }
  if (o.service == cli::Service::Student) return student;
  return ping;
}

}  // namespace

int main(int argc, char** argv) {
  const cli::ServerOptions opts = cli::serverOptionsOrExit(argc, argv);
  server_runner::Options run;
  run.prog = "ping-server";
  run.what = opts.multiplexed ? "multiplexed PingService+Serv" : cli::name(opts.service);
  return server_runner::run(opts, run, [&] { return makeProcessor(opts); });
}
