// Command json-vectors writes the TJSONProtocol test vectors of
// crates/thrift-frame-wire with the Go library (github.com/apache/thrift
// v0.17.0), one file per case: <dir>/<case>.go.json. Not part of `make`;
// after `make` has generated gen/, from interop/go:
//
//	go run ./tools/json-vectors ../../crates/thrift-frame-wire/tests/vectors/json
//
// The same cases, in the same order, are in ../../../cpp/tools/json_vectors.cpp
// and ../../../python/tools/json_vectors.py; see the vectors' README.
package main

import (
	"context"
	"fmt"
	"math"
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

func xtruct(s string, b int8, i int32, l int64) *thrifttest.Xtruct {
	return &thrifttest.Xtruct{StringThing: s, ByteThing: b, I32Thing: i, I64Thing: l}
}

func message(p *thrift.TJSONProtocol) {
	args := thrifttest.ThriftTestTestStructArgs{Thing: xtruct("Zero", 1, -3, -5)}
	must(p.WriteMessageBegin(ctx, "testStruct", thrift.CALL, 7))
	must(args.Write(ctx, p))
	must(p.WriteMessageEnd(ctx))
}

func xtruct2(p *thrift.TJSONProtocol) {
	x := thrifttest.Xtruct2{ByteThing: 1, StructThing: xtruct("Zero", 1, -3, -5), I32Thing: 5}
	must(x.Write(ctx, p))
}

func insanity(p *thrift.TJSONProtocol) {
	// One map entry: Go iterates maps in random order.
	x := thrifttest.Insanity{
		UserMap: map[thrifttest.Numberz]thrifttest.UserId{thrifttest.Numberz_FIVE: 5000},
		Xtructs: []*thrifttest.Xtruct{xtruct("Goodbye4", 4, 4, 4), xtruct("Hello2", 2, 2, 2)},
	}
	must(x.Write(ctx, p))
}

func xception(p *thrift.TJSONProtocol) {
	x := thrifttest.Xception{ErrorCode: 1001, Message: "Xception"}
	must(x.Write(ctx, p))
}

func nestedMap(p *thrift.TJSONProtocol) {
	must(p.WriteMapBegin(ctx, thrift.I32, thrift.MAP, 2))
	must(p.WriteI32(ctx, -4))
	must(p.WriteMapBegin(ctx, thrift.I32, thrift.I32, 4))
	for i := int32(-4); i <= -1; i++ {
		must(p.WriteI32(ctx, i))
		must(p.WriteI32(ctx, i))
	}
	must(p.WriteMapEnd(ctx))
	must(p.WriteI32(ctx, 4))
	must(p.WriteMapBegin(ctx, thrift.I32, thrift.I32, 4))
	for i := int32(1); i <= 4; i++ {
		must(p.WriteI32(ctx, i))
		must(p.WriteI32(ctx, i))
	}
	must(p.WriteMapEnd(ctx))
	must(p.WriteMapEnd(ctx))
}

func containers(p *thrift.TJSONProtocol) {
	list := []int32{-1, 0, 1, math.MaxInt32, math.MinInt32}
	must(p.WriteListBegin(ctx, thrift.I32, len(list)))
	for _, i := range list {
		must(p.WriteI32(ctx, i))
	}
	must(p.WriteListEnd(ctx))
	must(p.WriteSetBegin(ctx, thrift.I32, 2))
	must(p.WriteI32(ctx, -1))
	must(p.WriteI32(ctx, 1))
	must(p.WriteSetEnd(ctx))
	must(p.WriteMapBegin(ctx, thrift.I32, thrift.STRING, 2))
	must(p.WriteI32(ctx, 1))
	must(p.WriteString(ctx, "one"))
	must(p.WriteI32(ctx, -1))
	must(p.WriteString(ctx, "minus one"))
	must(p.WriteMapEnd(ctx))
	must(p.WriteListBegin(ctx, thrift.STRING, 0))
	must(p.WriteListEnd(ctx))
	must(p.WriteSetBegin(ctx, thrift.I64, 0))
	must(p.WriteSetEnd(ctx))
	must(p.WriteMapBegin(ctx, thrift.I32, thrift.STRING, 0))
	must(p.WriteMapEnd(ctx))
	must(p.WriteListBegin(ctx, thrift.LIST, 2))
	must(p.WriteListBegin(ctx, thrift.I16, 1))
	must(p.WriteI16(ctx, 7))
	must(p.WriteListEnd(ctx))
	must(p.WriteListBegin(ctx, thrift.I16, 0))
	must(p.WriteListEnd(ctx))
	must(p.WriteListEnd(ctx))
}

func ints(p *thrift.TJSONProtocol) {
	must(p.WriteListBegin(ctx, thrift.BYTE, 3))
	for _, b := range []int8{-128, 0, 127} {
		must(p.WriteByte(ctx, b))
	}
	must(p.WriteListEnd(ctx))
	must(p.WriteListBegin(ctx, thrift.I16, 2))
	must(p.WriteI16(ctx, math.MinInt16))
	must(p.WriteI16(ctx, math.MaxInt16))
	must(p.WriteListEnd(ctx))
	must(p.WriteListBegin(ctx, thrift.I32, 2))
	must(p.WriteI32(ctx, math.MinInt32))
	must(p.WriteI32(ctx, math.MaxInt32))
	must(p.WriteListEnd(ctx))
	must(p.WriteListBegin(ctx, thrift.I64, 4))
	for _, l := range []int64{math.MinInt64, math.MaxInt64, 9007199254740993, -9007199254740993} {
		must(p.WriteI64(ctx, l))
	}
	must(p.WriteListEnd(ctx))
	must(p.WriteListBegin(ctx, thrift.BOOL, 2))
	must(p.WriteBool(ctx, true))
	must(p.WriteBool(ctx, false))
	must(p.WriteListEnd(ctx))
}

func doubles(p *thrift.TJSONProtocol) {
	values := []float64{0.0, math.Copysign(0, -1), 1.0 / 3.0, 1e300, 5e-324, math.NaN(),
		math.Inf(1), math.Inf(-1), 0.1, -2.5, 1e21, 1e-7, 123456789012345678.0,
		9007199254740993.0, 1.7976931348623157e308}
	must(p.WriteListBegin(ctx, thrift.DOUBLE, len(values)))
	for _, d := range values {
		must(p.WriteDouble(ctx, d))
	}
	must(p.WriteListEnd(ctx))
}

func mapKeys(p *thrift.TJSONProtocol) {
	keys := []float64{1.0 / 3.0, math.NaN(), math.Inf(1), math.Inf(-1), math.Copysign(0, -1), 1e300}
	must(p.WriteMapBegin(ctx, thrift.DOUBLE, thrift.I32, len(keys)))
	for i, k := range keys {
		must(p.WriteDouble(ctx, k))
		must(p.WriteI32(ctx, int32(i+1)))
	}
	must(p.WriteMapEnd(ctx))
	must(p.WriteMapBegin(ctx, thrift.I64, thrift.STRING, 2))
	must(p.WriteI64(ctx, math.MinInt64))
	must(p.WriteString(ctx, "min"))
	must(p.WriteI64(ctx, 9007199254740993))
	must(p.WriteString(ctx, "2^53+1"))
	must(p.WriteMapEnd(ctx))
	must(p.WriteMapBegin(ctx, thrift.STRING, thrift.BOOL, 2))
	must(p.WriteString(ctx, ""))
	must(p.WriteBool(ctx, true))
	must(p.WriteString(ctx, "k\"ey"))
	must(p.WriteBool(ctx, false))
	must(p.WriteMapEnd(ctx))
	must(p.WriteMapBegin(ctx, thrift.BOOL, thrift.BYTE, 2))
	must(p.WriteBool(ctx, true))
	must(p.WriteByte(ctx, -1))
	must(p.WriteBool(ctx, false))
	must(p.WriteByte(ctx, 0))
	must(p.WriteMapEnd(ctx))
}

func stringsCase(p *thrift.TJSONProtocol) {
	values := []string{
		"",
		"plain",
		"quote\" backslash\\ slash/",
		"ctl \x01\x07\x08\t\n\x0b\x0c\r\x1b\x1f\x7f end",
		"é ü ß",
		"中文",
		"\U0001F600",
		"<tag>&amp;'",
		"\u2028\u2029",
		"nul \x00 end",
	}
	must(p.WriteListBegin(ctx, thrift.STRING, len(values)))
	for _, s := range values {
		must(p.WriteString(ctx, s))
	}
	must(p.WriteListEnd(ctx))
}

func binary(p *thrift.TJSONProtocol) {
	all := make([]byte, 256)
	for i := range all {
		all[i] = byte(i)
	}
	values := [][]byte{all, {}, []byte("a"), []byte("ab"), []byte("abc")}
	must(p.WriteListBegin(ctx, thrift.STRING, len(values)))
	for _, b := range values {
		must(p.WriteBinary(ctx, b))
	}
	must(p.WriteListEnd(ctx))
}

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: json-vectors <output directory>")
		os.Exit(2)
	}
	cases := []struct {
		name  string
		write func(*thrift.TJSONProtocol)
	}{
		{"message", message}, {"xtruct2", xtruct2}, {"insanity", insanity},
		{"xception", xception}, {"nested_map", nestedMap}, {"containers", containers},
		{"ints", ints}, {"doubles", doubles}, {"map_keys", mapKeys},
		{"strings", stringsCase}, {"binary", binary},
	}
	for _, c := range cases {
		buffer := thrift.NewTMemoryBuffer()
		p := thrift.NewTJSONProtocol(buffer)
		c.write(p)
		must(p.Flush(ctx))
		path := filepath.Join(os.Args[1], c.name+".go.json")
		must(os.WriteFile(path, buffer.Bytes(), 0o644))
		fmt.Println(path)
	}
}
