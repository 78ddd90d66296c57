// PingService: the latency probe used across every peer.
//   ping(msg)   -> "receive len: N", N = UTF-8 byte length of msg
//   output(msg) -> "You said: <msg>"
// Both calls are idempotent, so clients may retry them after a reconnect.
namespace rs ping
namespace cpp thrift_frame.ping
namespace go ping
namespace py ping

service PingService {
    string ping(1: string msg),
    string output(1: string msg),
}
