package server

import (
	"bytes"
	"context"
	"encoding/binary"
	"io"
	"net"
	"testing"
	"time"

	"github.com/apache/thrift/lib/go/thrift"

	"thriftframe/interop/go/gen/ping"
	"thriftframe/interop/go/internal/handler"
)

const requestID = "x-request-id"

// serveHeader runs the ping server on THeader, as ping-server
// --transport header does, on a free port until the test ends. forward
// false leaves the reply headers to the library alone.
func serveHeader(t *testing.T, forward bool) string {
	t.Helper()
	conf := &thrift.TConfiguration{SocketTimeout: 5 * time.Second}
	sock, err := thrift.NewTServerSocket("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if err := sock.Listen(); err != nil {
		t.Fatal(err)
	}
	opts := Options{
		Processor:        ping.NewPingServiceProcessor(handler.Handler{}),
		TransportFactory: thrift.NewTHeaderTransportFactoryConf(nil, conf),
		ProtocolFactory:  thrift.NewTHeaderProtocolFactoryConf(conf),
		ForwardHeaders:   []string{requestID},
	}
	var s *thrift.TSimpleServer
	if forward {
		s = simpleServer(opts, sock)
	} else {
		s = thrift.NewTSimpleServer4(opts.Processor, sock, opts.TransportFactory, opts.ProtocolFactory)
		s.SetForwardHeaders(opts.ForwardHeaders)
	}
	go s.AcceptLoop()
	t.Cleanup(func() { s.Stop() })
	return sock.Addr().String()
}

func dial(t *testing.T, addr string) *thrift.TSocket {
	t.Helper()
	conf := &thrift.TConfiguration{SocketTimeout: 5 * time.Second}
	sock := thrift.NewTSocketConf(addr, conf)
	if err := sock.Open(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sock.Close() })
	return sock
}

// headerClient is a THeader ping client writing protocol id.
func headerClient(t *testing.T, addr string, id thrift.THeaderProtocolID) (*ping.PingServiceClient, *thrift.THeaderProtocol) {
	conf := &thrift.TConfiguration{THeaderProtocolID: &id}
	p := thrift.NewTHeaderProtocolConf(dial(t, addr), conf)
	return ping.NewPingServiceClient(thrift.NewTStandardClient(p, p)), p
}

// withHeader is a context that makes TStandardClient send key: value.
func withHeader(key, value string) context.Context {
	ctx := thrift.SetHeader(context.Background(), key, value)
	return thrift.SetWriteHeaderList(ctx, []string{key})
}

// The reply carries the request's x-request-id back, and only its own: a
// request without one gets none, not the previous reply's.
func TestHeaderServerEchoesRequestID(t *testing.T) {
	addr := serveHeader(t, true)
	for _, id := range []thrift.THeaderProtocolID{thrift.THeaderProtocolBinary, thrift.THeaderProtocolCompact} {
		c, p := headerClient(t, addr, id)
		for _, sent := range []string{"go-1-1", "go-1-2", ""} {
			ctx := context.Background()
			if sent != "" {
				ctx = withHeader(requestID, sent)
			}
			if got, err := c.Ping(ctx, "hello"); err != nil || got != "receive len: 5" {
				t.Fatalf("protocol %d: ping: %q, %v", id, got, err)
			}
			if got := p.GetReadHeaders()[requestID]; got != sent {
				t.Fatalf("protocol %d: sent %q, the reply carried %q", id, sent, got)
			}
		}
	}
}

// thrift v0.17.0's SetForwardHeaders on its own puts nothing into replies,
// which is why the server copies the header itself (replyHeaders).
func TestSetForwardHeadersAloneSendsNothingBack(t *testing.T) {
	addr := serveHeader(t, false)
	c, p := headerClient(t, addr, thrift.THeaderProtocolCompact)
	if _, err := c.Ping(withHeader(requestID, "go-1-1"), "hello"); err != nil {
		t.Fatal(err)
	}
	if got, ok := p.GetReadHeaders()[requestID]; ok {
		t.Fatalf("the library forwarded %q by itself; replyHeaders is no longer needed", got)
	}
}

// The THeader server also serves framed and unframed binary and compact
// clients, each answered in its own framing and protocol.
func TestHeaderServerAnswersFramedAndUnframedClients(t *testing.T) {
	addr := serveHeader(t, true)
	conf := &thrift.TConfiguration{}
	protocols := map[string]func(thrift.TTransport) thrift.TProtocol{
		"binary":  func(t thrift.TTransport) thrift.TProtocol { return thrift.NewTBinaryProtocolConf(t, conf) },
		"compact": func(t thrift.TTransport) thrift.TProtocol { return thrift.NewTCompactProtocolConf(t, conf) },
	}
	transports := map[string]func(thrift.TTransport) thrift.TTransport{
		"framed":   func(t thrift.TTransport) thrift.TTransport { return thrift.NewTFramedTransportConf(t, conf) },
		"buffered": func(t thrift.TTransport) thrift.TTransport { return thrift.NewTBufferedTransport(t, 4096) },
	}
	for tn, transport := range transports {
		for pn, protocol := range protocols {
			p := protocol(transport(dial(t, addr)))
			c := ping.NewPingServiceClient(thrift.NewTStandardClient(p, p))
			for i := 0; i < 2; i++ {
				if got, err := c.Output(context.Background(), "hi"); err != nil || got != "You said: hi" {
					t.Fatalf("%s %s: output: %q, %v", tn, pn, got, err)
				}
			}
		}
	}
}

// A zlib request is answered without zlib: thrift-go's THeaderTransport
// inflates what it reads but writes only the transforms it was given.
func TestHeaderServerAnswersZlibUncompressed(t *testing.T) {
	addr := serveHeader(t, true)
	request := thrift.NewTMemoryBuffer()
	conf := &thrift.TConfiguration{THeaderProtocolID: thrift.THeaderProtocolIDPtrMust(thrift.THeaderProtocolCompact)}
	p := thrift.NewTHeaderProtocolConf(request, conf)
	if err := p.AddTransform(thrift.TransformZlib); err != nil {
		t.Fatal(err)
	}
	ctx := withHeader(requestID, "go-1-1")
	if err := thrift.NewTStandardClient(p, p).Send(ctx, p, 1, "ping", &ping.PingServicePingArgs{Msg: "hello"}); err != nil {
		t.Fatal(err)
	}
	if request.Bytes()[15] != 1 { // the request's transform count
		t.Fatalf("request has no transform: % x", request.Bytes())
	}
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := conn.Write(request.Bytes()); err != nil {
		t.Fatal(err)
	}
	var size uint32
	if err := binary.Read(conn, binary.BigEndian, &size); err != nil {
		t.Fatal(err)
	}
	reply := make([]byte, size)
	if _, err := io.ReadFull(conn, reply); err != nil {
		t.Fatal(err)
	}
	// magic, flags, seqid, header words; then protocol id and transform count
	if !bytes.Equal(reply[:2], []byte{0x0f, 0xff}) || reply[10] != byte(thrift.THeaderProtocolCompact) || reply[11] != 0 {
		t.Fatalf("reply: % x; want THeader, compact, no transform", reply)
	}
	if !bytes.Contains(reply, []byte("go-1-1")) {
		t.Fatalf("reply has no x-request-id: % x", reply)
	}
}
