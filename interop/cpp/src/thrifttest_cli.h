// Command lines of thrifttest-server and thrifttest-client (interop/SPEC.md,
// "ThriftTest"): upstream's cross-test flags, parsed as strictly as ping's.
#pragma once

#include <cstdint>
#include <string>

#include "cli.h"

namespace thrifttest {

// --protocol multi / multic / multij set multiplexed too. Defaults: 127.0.0.1:9090,
// binary, buffered, simple, 4 workers.
cli::ServerOptions serverOptionsOrExit(int argc, char** argv);

struct ClientOptions {
  cli::Endpoint server{"localhost", cli::kDefaultPort};
  cli::Protocol protocol = cli::Protocol::Binary;
  cli::Transport transport = cli::Transport::Buffered;
  bool multiplexed = false;  // --multiplexed, or --protocol multi/multic/multij
  std::uint32_t loops = 1;    // -n/--testloops (0 runs one loop, as in Rust)
  int timeout_ms = 5000;      // per call; must exceed 1000
  int reconnect_deadline_ms = 30000;
  int connect_timeout_ms = 2000;  // per TCP connect attempt (not a flag)
};

ClientOptions clientOptionsOrExit(int argc, char** argv);

}  // namespace thrifttest
