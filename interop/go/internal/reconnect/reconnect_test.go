package reconnect

import (
	"errors"
	"net"
	"os"
	"testing"

	"github.com/apache/thrift/lib/go/thrift"
)

// A socket error from inside a field write reaches the client as text only
// (thrift's PrependError drops its type); it must still count as a broken
// connection, so an idempotent call is retried instead of reported as an
// unreadable reply.
func TestSocketErrorFlattenedByPrependErrorIsATransportError(t *testing.T) {
	socket := &net.OpError{Op: "write", Net: "tcp", Err: os.ErrDeadlineExceeded}
	flattened := thrift.PrependError("*ping.PingServicePingArgs.msg (1) field write error: ", socket)
	var ne net.Error
	if errors.As(flattened, &ne) {
		t.Fatalf("thrift kept the error's type; this test no longer shows the flattening")
	}
	if !IsTransportError(flattened) {
		t.Fatalf("%q not recognised as a transport error", flattened)
	}
}

func TestApplicationErrorIsNotATransportError(t *testing.T) {
	err := thrift.NewTApplicationException(thrift.UNKNOWN_METHOD, "unknown method nope")
	if IsTransportError(err) {
		t.Fatalf("%q taken for a transport error", err)
	}
}
