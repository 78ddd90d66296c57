package main

import (
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"testing"
	"time"

	"github.com/apache/thrift/lib/go/thrift"

	"thriftframe/interop/go/gen/ping"
	"thriftframe/interop/go/internal/cli"
	"thriftframe/interop/go/internal/reconnect"
)

// reply is a REPLY to ping("hello") with seqid seq, written by write
// over a memory buffer.
func reply(t *testing.T, seq int32, write func(*thrift.TMemoryBuffer) thrift.TProtocol) []byte {
	t.Helper()
	buf := thrift.NewTMemoryBuffer()
	p := write(buf)
	ctx := context.Background()
	success := "receive len: 5"
	if err := p.WriteMessageBegin(ctx, "ping", thrift.REPLY, seq); err != nil {
		t.Fatal(err)
	}
	if err := (&ping.PingServicePingResult{Success: &success}).Write(ctx, p); err != nil {
		t.Fatal(err)
	}
	if err := p.WriteMessageEnd(ctx); err != nil {
		t.Fatal(err)
	}
	if err := p.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// headerReply is a THeader reply in compact carrying x-request-id id ("":
// no info header).
func headerReply(t *testing.T, seq int32, id string) []byte {
	return reply(t, seq, func(buf *thrift.TMemoryBuffer) thrift.TProtocol {
		conf := &thrift.TConfiguration{THeaderProtocolID: thrift.THeaderProtocolIDPtrMust(thrift.THeaderProtocolCompact)}
		p := thrift.NewTHeaderProtocolConf(buf, conf)
		if id != "" {
			p.SetWriteHeader(cli.RequestIDHeader, id)
		}
		return p
	})
}

// fakeServer answers the i-th request frame with replies[i], then closes.
func fakeServer(t *testing.T, replies ...[]byte) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		conn, err := ln.Accept()
		if err != nil {
			return
		}
		defer conn.Close()
		for _, r := range replies {
			var size uint32
			if binary.Read(conn, binary.BigEndian, &size) != nil {
				return
			}
			if _, err := io.CopyN(io.Discard, conn, int64(size)); err != nil {
				return
			}
			if _, err := conn.Write(r); err != nil {
				return
			}
		}
	}()
	return ln.Addr().String()
}

func headerClient(addr string) *client {
	wire := cli.Wire{Protocol: cli.NewChoice("compact"), Transport: cli.NewChoice("header")}
	conf := wire.Config(time.Second, 5*time.Second)
	return reconnect.New(reconnect.Config[services]{
		Addr:             addr,
		Conf:             conf,
		ProtocolFactory:  wire.ProtocolFactory(conf),
		TransportFactory: wire.TransportFactory(conf),
		NewClient:        newServices(false),
		Backoff:          reconnect.DefaultBackoff,
	})
}

// A reply's x-request-id counts for its own call only: echoed when it is
// the one sent, a failed call when it is another, and nothing when the
// reply has none, or is no THeader frame at all (thrift-go then keeps the
// previous frame's headers).
func TestRequestIDEcho(t *testing.T) {
	framed := reply(t, 4, func(buf *thrift.TMemoryBuffer) thrift.TProtocol {
		return thrift.NewTCompactProtocol(thrift.NewTFramedTransport(buf))
	})
	addr := fakeServer(t,
		headerReply(t, 1, "go-1-1"),
		headerReply(t, 2, ""),
		headerReply(t, 3, "go-1-3"),
		framed,
		headerReply(t, 5, "go-9-9"),
	)
	c := headerClient(addr)
	defer c.Close()
	for n, want := range []struct {
		echoed bool
		err    string
	}{
		{true, ""},
		{false, ""},
		{true, ""},
		{false, ""},
		{false, "x-request-id mismatch: sent go-1-5, got go-9-9"},
	} {
		id := &requestID{sent: fmt.Sprintf("go-1-%d", n+1)}
		err := pingOrOutput(context.Background(), c, id, "ping", "hello")
		if got := id.echoed(); got != want.echoed {
			t.Errorf("call %d: echoed %v, want %v", n+1, got, want.echoed)
		}
		if (err == nil) != (want.err == "") || err != nil && err.Error() != want.err {
			t.Errorf("call %d: error %v, want %q", n+1, err, want.err)
		}
	}
}
