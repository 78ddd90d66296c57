// The server process shared by ping-server and thrifttest-server: builds the
// server model of cli::ServerOptions (TSimpleServer, TThreadedServer,
// TThreadPoolServer, TNonblockingServer) around a processor, prints
// "LISTENING <port>" once listening, sets TCP_NODELAY on accepted sockets and
// stops on SIGTERM/SIGINT (interop/SPEC.md).
#pragma once

#include <functional>
#include <memory>
#include <string>

#include <thrift/TProcessor.h>

#include "cli.h"

namespace server_runner {

struct Options {
  const char* prog = "server";  // log prefix
  std::string what;              // what it serves, for the start-up log line
  // nonblocking model: run calls on a ThreadManager of opts.workers threads
  // instead of the I/O thread.
  bool nonblocking_workers = false;
};

// Uses opts.bind, protocol, transport, model and workers. make_processor runs
// after SIGINT/SIGTERM are blocked, so threads it starts inherit the mask.
// Returns the exit status: 0 after a signal stopped it, 1 when it could not
// start or serve() failed.
int run(const cli::ServerOptions& opts, const Options& run_opts,
        const std::function<std::shared_ptr<apache::thrift::TProcessor>()>& make_processor);

}  // namespace server_runner
