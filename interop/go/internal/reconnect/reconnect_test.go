package reconnect

import (
	"context"
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

// A declared exception (an IDL exception the server threw) was read whole:
// the connection stays in step and is kept.
func TestDeclaredExceptionKeepsTheConnection(t *testing.T) {
	if desynchronised(declaredException{}) {
		t.Fatal("a declared exception taken for a desynchronised stream")
	}
	if !desynchronised(thrift.NewTProtocolException(errors.New("bad type"))) {
		t.Fatal("a protocol error not taken for a desynchronised stream")
	}
}

type declaredException struct{}

func (declaredException) Error() string                         { return "Xception" }
func (declaredException) TExceptionType() thrift.TExceptionType { return thrift.TExceptionTypeCompiled }

func TestTimeoutsAreRecognised(t *testing.T) {
	flattened := thrift.PrependError("field write error: ", &net.OpError{Op: "write", Net: "tcp", Err: os.ErrDeadlineExceeded})
	for _, err := range []error{
		thrift.NewTTransportException(thrift.TIMED_OUT, "timed out"),
		flattened,
	} {
		if !IsTimeout(err) {
			t.Errorf("%v not recognised as a timeout", err)
		}
	}
	if IsTimeout(thrift.NewTTransportException(thrift.END_OF_FILE, "EOF")) {
		t.Error("EOF taken for a timeout")
	}
}

// An HTTP call whose connection could not be dialed sent nothing, so it
// may go again even when it is not idempotent; one that broke after
// connecting may not.
func TestHTTPDialErrorIsNotSent(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens there now: connection refused
	trans, err := thrift.NewTHttpClient("http://" + addr + "/")
	if err != nil {
		t.Fatal(err)
	}
	flushErr := trans.Flush(context.Background())
	if flushErr == nil || !notSent(flushErr) || !IsTransportError(flushErr) {
		t.Fatalf("refused POST: %v not taken for an unsent transport error", flushErr)
	}
	if notSent(thrift.NewTTransportException(thrift.END_OF_FILE, "EOF")) {
		t.Fatal("EOF taken for an unsent call")
	}
}
