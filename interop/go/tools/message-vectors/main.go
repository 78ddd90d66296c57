// Command message-vectors writes the whole-message test vectors of
// crates/thrift-frame-wire with the Go library (github.com/apache/thrift
// v0.17.0): one message per file, unframed, in TBinaryProtocol (strict) and
// TCompactProtocol: <dir>/<case>.go.binary and <dir>/<case>.go.compact. Not
// part of `make`; after `make` has generated gen/, from interop/go:
//
//	go run ./tools/message-vectors ../../crates/thrift-frame-wire/tests/vectors/messages
//
// The same cases, in the same order, are in ../../../cpp/tools/message_vectors.cpp
// and ../../../python/tools/message_vectors.py; see the vectors' README.
package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/apache/thrift/lib/go/thrift"

	"thriftframe/interop/go/gen/thrifttest"
)

var ctx = context.Background()

func must(err error) {
	if err != nil {
		panic(err)
	}
}

// call sends args the way the generated ThriftTestClient does: its methods
// call TStandardClient.Call, which numbers the call and hands it to Send.
// Send writes every message as CALL, oneway ones too.
func call(p thrift.TProtocol, seqID int32, method string, args thrift.TStruct) {
	must(thrift.NewTStandardClient(p, p).Send(ctx, p, seqID, method, args))
}

// reply writes what the generated ThriftTestProcessor writes after a handler
// returned: the result struct as a REPLY.
func reply(p thrift.TProtocol, method string, result thrift.TStruct) {
	must(p.WriteMessageBegin(ctx, method, thrift.REPLY, 1))
	must(result.Write(ctx, p))
	must(p.WriteMessageEnd(ctx))
	must(p.Flush(ctx))
}

func xtruct(s string, b int8, i int32, l int64) *thrifttest.Xtruct {
	return &thrifttest.Xtruct{StringThing: s, ByteThing: b, I32Thing: i, I64Thing: l}
}

// One map entry: Go iterates maps in random order.
func insanity() *thrifttest.Insanity {
	return &thrifttest.Insanity{
		UserMap: map[thrifttest.Numberz]thrifttest.UserId{thrifttest.Numberz_FIVE: 5000},
		Xtructs: []*thrifttest.Xtruct{xtruct("Goodbye4", 4, 4, 4)},
	}
}

func callVoid(p thrift.TProtocol) {
	call(p, 1, "testVoid", &thrifttest.ThriftTestTestVoidArgs{})
}

func callString(p thrift.TProtocol) {
	call(p, 1, "testString", &thrifttest.ThriftTestTestStringArgs{Thing: "Hello, 世界"})
}

func callBool(p thrift.TProtocol) {
	call(p, 1, "testBool", &thrifttest.ThriftTestTestBoolArgs{Thing: true})
}

func callStruct(p thrift.TProtocol) {
	call(p, 1, "testStruct", &thrifttest.ThriftTestTestStructArgs{Thing: xtruct("Zero", 1, -3, -5)})
}

func callNest(p thrift.TProtocol) {
	x := &thrifttest.Xtruct2{ByteThing: 1, StructThing: xtruct("Zero", 1, -3, -5), I32Thing: 5}
	call(p, 1, "testNest", &thrifttest.ThriftTestTestNestArgs{Thing: x})
}

func callMap(p thrift.TProtocol) {
	call(p, 1, "testMap", &thrifttest.ThriftTestTestMapArgs{Thing: map[int32]int32{1: 10}})
}

func callStringMap(p thrift.TProtocol) {
	call(p, 1, "testStringMap", &thrifttest.ThriftTestTestStringMapArgs{Thing: map[string]string{"a": "b"}})
}

func callList(p thrift.TProtocol) {
	call(p, 1, "testList", &thrifttest.ThriftTestTestListArgs{Thing: []int32{-2, -1, 0, 1, 2}})
}

func callListLong(p thrift.TProtocol) {
	list := make([]int32, 20)
	for i := range list {
		list[i] = int32(i + 1)
	}
	call(p, 1, "testList", &thrifttest.ThriftTestTestListArgs{Thing: list})
}

func callSet(p thrift.TProtocol) {
	call(p, 1, "testSet", &thrifttest.ThriftTestTestSetArgs{Thing: []int32{3}})
}

func callInsanity(p thrift.TProtocol) {
	call(p, 1, "testInsanity", &thrifttest.ThriftTestTestInsanityArgs{Argument: insanity()})
}

func callBinary(p thrift.TProtocol) {
	all := make([]byte, 256)
	for i := range all {
		all[i] = byte(i)
	}
	call(p, 1, "testBinary", &thrifttest.ThriftTestTestBinaryArgs{Thing: all})
}

func callDouble(p thrift.TProtocol) {
	call(p, 1, "testDouble", &thrifttest.ThriftTestTestDoubleArgs{Thing: -5.25})
}

func callI64(p thrift.TProtocol) {
	call(p, 1, "testI64", &thrifttest.ThriftTestTestI64Args{Thing: -34359738368})
}

// Written as the generated client writes it: type CALL, not ONEWAY (Send).
func callOneway(p thrift.TProtocol) {
	call(p, 1, "testOneway", &thrifttest.ThriftTestTestOnewayArgs{SecondsToSleep: 1})
}

func callMultiplexed(p thrift.TProtocol) {
	call(thrift.NewTMultiplexedProtocol(p, "ThriftTest"), 1, "testString",
		&thrifttest.ThriftTestTestStringArgs{Thing: "x"})
}

// The generated ThriftTestTestMapMapResult ranges over its maps, in random
// order; this writes the same fields with the keys sorted, as C++ and Python do.
func replyMapMap(p thrift.TProtocol) {
	must(p.WriteMessageBegin(ctx, "testMapMap", thrift.REPLY, 1))
	must(p.WriteStructBegin(ctx, "testMapMap_result"))
	must(p.WriteFieldBegin(ctx, "success", thrift.MAP, 0))
	must(p.WriteMapBegin(ctx, thrift.I32, thrift.MAP, 2))
	for _, entry := range []struct {
		key   int32
		inner []int32
	}{{-4, []int32{-4, -3, -2, -1}}, {4, []int32{1, 2, 3, 4}}} {
		must(p.WriteI32(ctx, entry.key))
		must(p.WriteMapBegin(ctx, thrift.I32, thrift.I32, len(entry.inner)))
		for _, i := range entry.inner {
			must(p.WriteI32(ctx, i))
			must(p.WriteI32(ctx, i))
		}
		must(p.WriteMapEnd(ctx))
	}
	must(p.WriteMapEnd(ctx))
	must(p.WriteFieldEnd(ctx))
	must(p.WriteFieldStop(ctx))
	must(p.WriteStructEnd(ctx))
	must(p.WriteMessageEnd(ctx))
	must(p.Flush(ctx))
}

func replyInsanity(p thrift.TProtocol) {
	reply(p, "testInsanity", &thrifttest.ThriftTestTestInsanityResult{
		Success: map[thrifttest.UserId]map[thrifttest.Numberz]*thrifttest.Insanity{
			1: {thrifttest.Numberz_TWO: insanity()},
		},
	})
}

func replyException(p thrift.TProtocol) {
	reply(p, "testException", &thrifttest.ThriftTestTestExceptionResult{
		Err1: &thrifttest.Xception{ErrorCode: 1001, Message: "Xception"},
	})
}

// As the generated ThriftTestProcessor answers a call of a method it does not
// know.
func replyApplicationException(p thrift.TProtocol) {
	x := thrift.NewTApplicationException(thrift.UNKNOWN_METHOD, "bad method")
	must(p.WriteMessageBegin(ctx, "testUnknown", thrift.EXCEPTION, 1))
	must(x.Write(ctx, p))
	must(p.WriteMessageEnd(ctx))
	must(p.Flush(ctx))
}

func callEmptyArgs(p thrift.TProtocol) {
	call(p, 2147483647, "testVoid", &thrifttest.ThriftTestTestVoidArgs{})
}

func callNegativeSeqid(p thrift.TProtocol) {
	call(p, -1, "testVoid", &thrifttest.ThriftTestTestVoidArgs{})
}

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: message-vectors <output directory>")
		os.Exit(2)
	}
	cases := []struct {
		name  string
		write func(thrift.TProtocol)
	}{
		{"call_void", callVoid},
		{"call_string", callString},
		{"call_bool", callBool},
		{"call_struct", callStruct},
		{"call_nest", callNest},
		{"call_map", callMap},
		{"call_string_map", callStringMap},
		{"call_list", callList},
		{"call_list_long", callListLong},
		{"call_set", callSet},
		{"call_insanity", callInsanity},
		{"call_binary", callBinary},
		{"call_double", callDouble},
		{"call_i64", callI64},
		{"call_oneway", callOneway},
		{"call_multiplexed", callMultiplexed},
		{"reply_map_map", replyMapMap},
		{"reply_insanity", replyInsanity},
		{"reply_exception", replyException},
		{"reply_application_exception", replyApplicationException},
		{"call_empty_args", callEmptyArgs},
		{"call_negative_seqid", callNegativeSeqid},
	}
	// The default configuration: TBinaryProtocol writes strict (versioned)
	// headers.
	protocols := []struct {
		name string
		new  func(thrift.TTransport) thrift.TProtocol
	}{
		{"binary", func(t thrift.TTransport) thrift.TProtocol { return thrift.NewTBinaryProtocolConf(t, nil) }},
		{"compact", func(t thrift.TTransport) thrift.TProtocol { return thrift.NewTCompactProtocolConf(t, nil) }},
	}
	for _, c := range cases {
		for _, protocol := range protocols {
			buffer := thrift.NewTMemoryBuffer()
			c.write(protocol.new(buffer))
			path := filepath.Join(os.Args[1], c.name+".go."+protocol.name)
			must(os.WriteFile(path, buffer.Bytes(), 0o644))
			fmt.Println(path)
		}
	}
}
