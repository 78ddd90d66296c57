// ping-client: calls ping/output (or put) on one or more servers, round after
// round, checks every reply and reports one line per call (SPEC.md).
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <ctime>
#include <exception>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <thrift/Thrift.h>

#include "cli.h"
#include "payload.h"
#include "reconnecting_client.h"
#include "report.h"

namespace {

using Clock = std::chrono::steady_clock;

// SIGINT/SIGTERM: finish the call in flight, then stop (--rounds 0 runs until
// then). SA_RESETHAND makes a second signal kill the client at once.
volatile std::sig_atomic_t g_stop = 0;
extern "C" void onStopSignal(int sig) { g_stop = sig; }

void installStopHandler() {
  struct sigaction sa {};
  sa.sa_handler = onStopSignal;
  sa.sa_flags = SA_RESETHAND;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
}

// The pause between rounds, cut short by a stop signal.
void sleepUnlessStopped(std::chrono::milliseconds total) {
  auto until = Clock::now() + total;
  while (!g_stop && Clock::now() < until)
    std::this_thread::sleep_for(std::min<Clock::duration>(std::chrono::milliseconds(20),
                                                          until - Clock::now()));
}

// At most `max` bytes of a reply, for error messages.
std::string excerpt(const std::string& s, std::size_t max = 64) {
  if (s.size() <= max) return "'" + s + "'";
  return "'" + s.substr(0, max) + "'... (" + std::to_string(s.size()) + " bytes)";
}

std::optional<std::string> checkPing(const std::string& reply, std::size_t size) {
  std::string want = "receive len: " + std::to_string(size);
  if (reply == want) return std::nullopt;
  return "wrong reply: expected '" + want + "', got " + excerpt(reply);
}

std::optional<std::string> checkOutput(const std::string& reply, const std::string& msg) {
  static const std::string kPrefix = "You said: ";
  if (reply.size() == kPrefix.size() + msg.size() && reply.compare(0, kPrefix.size(), kPrefix) == 0 &&
      reply.compare(kPrefix.size(), std::string::npos, msg) == 0)
    return std::nullopt;
  return "wrong reply: expected 'You said: ' + the " + std::to_string(msg.size()) +
         "-byte message, got " + excerpt(reply);
}

// CPU time (user + system, every thread) this process has used so far.
std::int64_t processCpuNs() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return std::int64_t{ts.tv_sec} * 1'000'000'000 + ts.tv_nsec;
}

// --transport header: the info header every call carries, and the reply may
// carry back (SPEC.md, "Header transport").
const std::string kRequestIdHeader = "x-request-id";

// Runs one call, times it (reconnects and retries included; wall time and
// the process's CPU time over the same span) and turns every failure into an
// error string. With a request_id (--transport header) the call sends it as
// x-request-id, and fails if the reply carries another one.
template <typename Call>
report::CallResult timed(reconnecting::ReconnectingClient& client,
                         const std::optional<std::string>& request_id, Call call) {
  report::CallResult r;
  if (request_id) client.setCallHeaders({{kRequestIdHeader, *request_id}});
  auto start = Clock::now();
  auto cpu_start = processCpuNs();
  std::optional<std::string> error;
  try {
    error = call();
  } catch (const reconnecting::CallFailed& e) {
    error = e.what();
  } catch (const apache::thrift::TApplicationException& e) {
    error = std::string("application error: ") + e.what();
  } catch (const apache::thrift::TException& e) {
    error = std::string("thrift error: ") + e.what();
  } catch (const std::exception& e) {
    error = std::string("error: ") + e.what();
  }
  if (request_id) {
    auto got = client.replyHeader(kRequestIdHeader);
    r.request_id = request_id;
    r.request_id_echoed = got == request_id;
    if (got && *got != *request_id && !error)
      error = "x-request-id mismatch: sent " + *request_id + ", got " + *got;
  }
  r.cpu_ns = processCpuNs() - cpu_start;
  r.latency_ns =
      std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - start).count();
  r.ok = !error;
  if (error) r.error = *error;
  r.endpoint = client.endpoint().str();
  r.reconnects = client.reconnects();
  return r;
}

}  // namespace

int main(int argc, char** argv) {
  const cli::ClientOptions opts = cli::clientOptionsOrExit(argc, argv);
  std::signal(SIGPIPE, SIG_IGN);
  installStopHandler();
  // Thrift logs every socket error itself before throwing; ReconnectingClient
  // logs the exception, so keep stderr to one line per attempt.
  apache::thrift::GlobalOutput.setOutputFunction([](const char*) {});

  // Generated once, one per size, reused every round (SPEC.md).
  std::mt19937_64 rng(std::random_device{}());
  std::vector<std::string> payloads;
  if (opts.service == cli::Service::Ping)
    for (auto size : opts.sizes) payloads.push_back(payload::make(opts.payload, size, rng));

  std::vector<std::unique_ptr<reconnecting::ReconnectingClient>> clients;
  for (const auto& endpoint : opts.endpoints) {
    reconnecting::Config config{endpoint,         opts.protocol,           opts.transport,
                                opts.multiplexed, opts.connect_timeout_ms, opts.timeout_ms,
                                &g_stop};
    reconnecting::BackoffPolicy policy;
    policy.budget = std::chrono::milliseconds(opts.reconnect_deadline_ms);
    policy.call_attempts = opts.call_attempts;
    clients.push_back(std::make_unique<reconnecting::ReconnectingClient>(config, policy));
  }

  std::vector<std::uint64_t> calls(clients.size()), failures(clients.size());
  auto emit = [&](std::size_t i, report::CallResult& r, std::uint64_t round, const char* call,
                  std::size_t size) {
    r.round = round;
    r.call = call;
    r.size = size;
    ++calls[i];
    if (!r.ok) ++failures[i];
    std::string line = opts.json ? report::jsonLine(r) : report::humanLine(r);
    std::fwrite(line.data(), 1, line.size(), stdout);
    std::fflush(stdout);
  };

  // --transport header: "cpp-<pid>-<n>", n = the call's number in this run.
  std::uint64_t call_number = 0;
  auto nextRequestId = [&]() -> std::optional<std::string> {
    if (opts.transport != cli::Transport::Header) return std::nullopt;
    return "cpp-" + std::to_string(getpid()) + "-" + std::to_string(++call_number);
  };

  std::int32_t sno = 0;
  for (std::uint64_t round = 1; (opts.rounds == 0 || round <= opts.rounds) && !g_stop; ++round) {
    if (round > 1 && opts.interval_ms > 0)
      sleepUnlessStopped(std::chrono::milliseconds(opts.interval_ms));
    for (std::size_t i = 0; i < clients.size() && !g_stop; ++i) {
      auto& client = clients[i];
      if (opts.service == cli::Service::Student) {
        sno = sno == INT32_MAX ? 1 : sno + 1;
        auto student = payload::student(sno);
        auto r = timed(*client, nextRequestId(), [&]() -> std::optional<std::string> {
          std::int32_t got = client->put(student);
          if (got == student.sno) return std::nullopt;
          return "wrong reply: expected " + std::to_string(student.sno) + ", got " +
                 std::to_string(got);
        });
        emit(i, r, round, "put", student.sname.size());
        continue;
      }
      for (const auto& msg : payloads) {
        if (g_stop) break;
        report::CallResult r;
        if (opts.call == cli::Call::Ping) {
          r = timed(*client, nextRequestId(),
                    [&] { return checkPing(client->ping(msg), msg.size()); });
        } else {
          r = timed(*client, nextRequestId(),
                    [&] { return checkOutput(client->output(msg), msg); });
        }
        emit(i, r, round, cli::name(opts.call), msg.size());
      }
    }
  }
  if (g_stop)
    std::fprintf(stderr, "ping-client: %s, stopped\n", g_stop == SIGINT ? "SIGINT" : "SIGTERM");
  std::uint64_t failed = 0;
  for (std::size_t i = 0; i < clients.size(); ++i) {
    std::fprintf(stderr, "ping-client: %s: %llu calls, %llu failed, %llu reconnects\n",
                 clients[i]->endpoint().str().c_str(), static_cast<unsigned long long>(calls[i]),
                 static_cast<unsigned long long>(failures[i]),
                 static_cast<unsigned long long>(clients[i]->reconnects()));
    failed += failures[i];
  }
  return failed == 0 ? 0 : 1;
}
