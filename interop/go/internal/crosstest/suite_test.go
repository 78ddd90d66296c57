package crosstest

import (
	"context"
	"net"
	"testing"
	"time"

	"github.com/apache/thrift/lib/go/thrift"

	tt "thriftframe/interop/go/gen/thrifttest"
	"thriftframe/interop/go/internal/reconnect"
)

// serve runs a TSimpleServer for processor on a free port until the test ends.
func serve(t *testing.T, processor thrift.TProcessor) (string, *thrift.TConfiguration) {
	t.Helper()
	conf := &thrift.TConfiguration{SocketTimeout: 5 * time.Second, ConnectTimeout: time.Second}
	sock, err := thrift.NewTServerSocket("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if err := sock.Listen(); err != nil {
		t.Fatal(err)
	}
	s := thrift.NewTSimpleServer4(processor, sock, thrift.NewTFramedTransportFactoryConf(thrift.NewTTransportFactory(), conf),
		thrift.NewTCompactProtocolFactoryConf(conf))
	go s.AcceptLoop()
	t.Cleanup(func() { s.Stop() })
	return sock.Addr().(*net.TCPAddr).String(), conf
}

func runAgainst(t *testing.T, processor thrift.TProcessor) *Report {
	addr, conf := serve(t, processor)
	return Run(Config{
		Addr:             addr,
		Conf:             conf,
		ProtocolFactory:  thrift.NewTCompactProtocolFactoryConf(conf),
		TransportFactory: thrift.NewTFramedTransportFactoryConf(thrift.NewTTransportFactory(), conf),
		Backoff:          reconnect.Backoff{Initial: 10 * time.Millisecond, Max: 50 * time.Millisecond, Budget: time.Second},
		Loops:            1,
	})
}

// A wrong testMap reply sets the containers bit and nothing else.
type wrongMap struct{ Handler }

func (wrongMap) TestMap(_ context.Context, m map[int32]int32) (map[int32]int32, error) {
	m[99] = 99
	return m, nil
}

func TestSuite(t *testing.T) {
	if testing.Short() {
		t.Skip("each run waits out testOneway(1)")
	}
	r := runAgainst(t, NewProcessor(false))
	if checks, failed := r.Totals(); r.ExitCode() != 0 || checks != 81 || failed != 0 {
		t.Fatalf("own handler: exit %d, %d checks, %d failed: %v", r.ExitCode(), checks, failed, r.Failures)
	}
	r = runAgainst(t, tt.NewThriftTestProcessor(wrongMap{}))
	if got := r.ExitCode(); got != Containers.Bit() || r.Methods["testMap"].Failed != 3 {
		t.Fatalf("faulty testMap: exit %d, testMap %+v, failures %v", got, *r.Methods["testMap"], r.Failures)
	}
}

// testUuid is not in our IDL: the server answers UNKNOWN_METHOD and the
// connection stays usable, plain and multiplexed.
func TestUnknownMethodKeepsTheConnection(t *testing.T) {
	for _, multiplexed := range []bool{false, true} {
		addr, conf := serve(t, NewProcessor(multiplexed))
		sock := thrift.NewTSocketConf(addr, conf)
		if err := sock.Open(); err != nil {
			t.Fatal(err)
		}
		defer sock.Close()
		trans, _ := thrift.NewTFramedTransportFactoryConf(thrift.NewTTransportFactory(), conf).GetTransport(sock)
		var proto thrift.TProtocol = thrift.NewTCompactProtocolConf(trans, conf)
		if multiplexed {
			proto = thrift.NewTMultiplexedProtocol(proto, "ThriftTest")
		}
		c := thrift.NewTStandardClient(proto, proto)
		_, err := c.Call(context.Background(), "testUuid", &tt.ThriftTestTestVoidArgs{}, &tt.ThriftTestTestVoidResult{})
		if ae, ok := err.(thrift.TApplicationException); !ok || ae.TypeId() != thrift.UNKNOWN_METHOD {
			t.Fatalf("multiplexed %v: testUuid: %v, want UNKNOWN_METHOD", multiplexed, err)
		}
		if got, err := tt.NewThriftTestClient(c).TestI32(context.Background(), 5); err != nil || got != 5 {
			t.Fatalf("multiplexed %v: testI32 after testUuid: %v, %v", multiplexed, got, err)
		}
	}
}
