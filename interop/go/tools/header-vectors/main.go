// Command header-vectors writes the THeader test vectors of
// crates/thrift-frame-wire with the Go library (github.com/apache/thrift
// v0.17.0): THeaderProtocol over a TMemoryBuffer, one frame per file as
// THeaderTransport.Flush puts it on the wire (4-byte frame length included):
// <dir>/<case>.go. Not part of `make`; after `make` has generated gen/, from
// interop/go:
//
//	go run ./tools/header-vectors ../../crates/thrift-frame-wire/tests/vectors/header
//
// The same cases, in the same order, are in ../../../cpp/tools/header_vectors.cpp
// and ../../../python/tools/header_vectors.py; see the vectors' README.
package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/apache/thrift/lib/go/thrift"

	"thriftframe/interop/go/gen/thrifttest"
)

const text = "Hello, 世界"

func must(err error) {
	if err != nil {
		panic(err)
	}
}

type header struct{ key, value string }

// callString sends the call the way the generated ThriftTestClient does
// (TStandardClient.Send, with the case's seqid). Send replaces the
// protocol's write headers with the context's, so a Go client's info headers
// come from the context: thrift.SetHeader and thrift.SetWriteHeaderList.
func callString(p *thrift.THeaderProtocol, seqID int32, info []header) {
	ctx := context.Background()
	var keys []string
	for _, h := range info {
		ctx = thrift.SetHeader(ctx, h.key, h.value)
		keys = append(keys, h.key)
	}
	ctx = thrift.SetWriteHeaderList(ctx, keys)
	args := &thrifttest.ThriftTestTestStringArgs{Thing: text}
	must(thrift.NewTStandardClient(p, p).Send(ctx, p, seqID, "testString", args))
}

// replyString writes what the generated ThriftTestProcessor writes after the
// handler returned: the result struct as a REPLY. The headers are set on the
// protocol.
func replyString(p *thrift.THeaderProtocol, seqID int32, info []header) {
	ctx := context.Background()
	for _, h := range info {
		p.SetWriteHeader(h.key, h.value)
	}
	success := text
	must(p.WriteMessageBegin(ctx, "testString", thrift.REPLY, seqID))
	must((&thrifttest.ThriftTestTestStringResult{Success: &success}).Write(ctx, p))
	must(p.WriteMessageEnd(ctx))
	must(p.Flush(ctx))
}

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: header-vectors <output directory>")
		os.Exit(2)
	}
	binary, compact := thrift.THeaderProtocolBinary, thrift.THeaderProtocolCompact
	requestID := []header{{"x-request-id", "req-42"}}
	cases := []struct {
		name     string
		protocol thrift.THeaderProtocolID
		zlib     bool
		info     []header
		write    func(*thrift.THeaderProtocol, int32, []header)
		seqID    int32
	}{
		{"binary_plain", binary, false, nil, callString, 1},
		{"compact_plain", compact, false, nil, callString, 1},
		{"binary_info", binary, false, requestID, callString, 1},
		// A Go map: the two headers go out in either order.
		{"compact_info_two", compact, false,
			[]header{{"x-request-id", "req-42"}, {"x-deadline-ms", "1500"}}, callString, 1},
		{"binary_zlib", binary, true, requestID, callString, 1},
		{"compact_zlib", compact, true, nil, callString, 1},
		{"binary_seqid", binary, false, nil, callString, 7},
		{"reply_binary_info", binary, false, requestID, replyString, 1},
	}
	for _, c := range cases {
		buffer := thrift.NewTMemoryBuffer()
		// The protocol id is chosen through the configuration only.
		conf := &thrift.TConfiguration{THeaderProtocolID: thrift.THeaderProtocolIDPtrMust(c.protocol)}
		p := thrift.NewTHeaderProtocolConf(buffer, conf)
		if c.zlib {
			must(p.AddTransform(thrift.TransformZlib))
		}
		c.write(p, c.seqID, c.info)
		path := filepath.Join(os.Args[1], c.name+".go")
		must(os.WriteFile(path, buffer.Bytes(), 0o644))
		fmt.Println(path)
	}
}
