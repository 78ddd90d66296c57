#include "reconnecting_client.h"

#include <memory>
#include <utility>

#include <thrift/protocol/TMultiplexedProtocol.h>

#include "PingService.h"
#include "Serv.h"

namespace reconnecting {

namespace {

using apache::thrift::protocol::TMultiplexedProtocol;

// One stack's generated clients.
struct Clients {
  Clients(const Connection::ProtocolPtr& protocol, bool multiplexed) {
    Connection::ProtocolPtr ping_protocol = protocol;
    Connection::ProtocolPtr serv_protocol = protocol;
    if (multiplexed) {
      ping_protocol = std::make_shared<TMultiplexedProtocol>(protocol, "PingService");
      serv_protocol = std::make_shared<TMultiplexedProtocol>(protocol, "Serv");
    }
    ping = std::make_unique<thrift_frame::ping::PingServiceClient>(ping_protocol);
    serv = std::make_unique<thrift_frame::student::ServClient>(serv_protocol);
  }
  std::unique_ptr<thrift_frame::ping::PingServiceClient> ping;
  std::unique_ptr<thrift_frame::student::ServClient> serv;
};

Clients& of(void* clients) { return *static_cast<Clients*>(clients); }

}  // namespace

ReconnectingClient::ReconnectingClient(Config config, BackoffPolicy policy)
    : conn_(std::move(config), policy,
            [](const Connection::ProtocolPtr& protocol, bool multiplexed) {
              return std::static_pointer_cast<void>(
                  std::make_shared<Clients>(protocol, multiplexed));
            }) {}

std::string ReconnectingClient::ping(const std::string& msg) {
  return conn_.idempotent("ping", [&](void* c) {
    std::string reply;
    of(c).ping->ping(reply, msg);
    return reply;
  });
}

std::string ReconnectingClient::output(const std::string& msg) {
  return conn_.idempotent("output", [&](void* c) {
    std::string reply;
    of(c).ping->output(reply, msg);
    return reply;
  });
}

std::int32_t ReconnectingClient::put(const thrift_frame::student::Student& student) {
  try {
    return conn_.once("put", [&](void* c) { return of(c).serv->put(student); });
  } catch (const OutcomeUnknown& e) {
    throw CallFailed("put outcome unknown: the connection broke mid-call and put is never "
                     "retried (" + std::string(e.what()) + ")");
  }
}

}  // namespace reconnecting
