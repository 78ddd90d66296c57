package crosstest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log"
	"math"
	"reflect"
	"sort"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/apache/thrift/lib/go/thrift"

	tt "thriftframe/interop/go/gen/thrifttest"
	"thriftframe/interop/go/internal/reconnect"
)

// OnewayMaxReturn bounds how long testOneway(1) may take to return: it
// must not wait for the server's one-second sleep.
const OnewayMaxReturn = 500 * time.Millisecond

// maxShown is the longest rendering of a sent value in a failure line.
const maxShown = 160

// Config is what to run, against which server, how often.
type Config struct {
	Addr             string // host:port
	Conf             *thrift.TConfiguration
	ProtocolFactory  thrift.TProtocolFactory
	TransportFactory thrift.TTransportFactory
	HTTP             bool // THttpClient instead of TransportFactory (reconnect.Config)
	Backoff          reconnect.Backoff
	Log              *log.Logger
	// Multiplexed: calls go to "ThriftTest:", and the SecondService checks
	// run too, on a connection of their own.
	Multiplexed bool
	Loops       int // times to run the whole suite, each on a fresh connection
	// OnLoop is called as each loop ends; OnFailure and OnUnknown as each
	// failed check or unknown outcome happens. Any of them may be nil.
	OnLoop    func(LoopSummary)
	OnFailure func(Failure)
	OnUnknown func(string)
}

// Run runs the suite cfg.Loops times (at least once) and reports every
// check. A loop that cannot connect ends the run.
func Run(cfg Config) *Report {
	r := newReport()
	for n := 1; n <= cfg.Loops || n == 1; n++ {
		checks, failed := r.Totals()
		if err := runLoop(cfg, r); err != nil {
			r.Aborted = append(r.Aborted, fmt.Sprintf("loop %d: %v", n, err))
			break
		}
		checksAfter, failedAfter := r.Totals()
		if cfg.OnLoop != nil {
			cfg.OnLoop(LoopSummary{n, checksAfter - checks, failedAfter - failed, r.Reconnects})
		}
	}
	return r
}

// newClient is a reconnecting client for one service; service "" is not
// multiplexed.
func newClient[T any](cfg Config, service string, generated func(thrift.TClient) T) *reconnect.Client[T] {
	return reconnect.New(reconnect.Config[T]{
		Addr:             cfg.Addr,
		Conf:             cfg.Conf,
		ProtocolFactory:  cfg.ProtocolFactory,
		TransportFactory: cfg.TransportFactory,
		HTTP:             cfg.HTTP,
		NewClient: func(proto thrift.TProtocol) T {
			if service != "" {
				proto = thrift.NewTMultiplexedProtocol(proto, service)
			}
			return generated(thrift.NewTStandardClient(proto, proto))
		},
		Backoff: cfg.Backoff,
		Log:     cfg.Log,
	})
}

type thriftTest = *tt.ThriftTestClient

func runLoop(cfg Config, r *Report) error {
	service := ""
	if cfg.Multiplexed {
		service = "ThriftTest"
	}
	c := newClient(cfg, service, tt.NewThriftTestClient)
	if err := c.Connect(); err != nil {
		return err
	}
	l := &loop{cfg: cfg, r: r, c: c}
	l.baseTypes()
	l.structs()
	l.containers()
	l.exceptions()
	l.oneway()
	// One connection at a time: a server serving one connection at a time
	// takes the next only once this one is closed.
	c.Close()
	r.Reconnects += c.Reconnects()
	if cfg.Multiplexed {
		second := newClient(cfg, "SecondService", tt.NewSecondServiceClient)
		for _, s := range []string{"Test", "SecondService: ☃ 日本語 🦀"} {
			var got string
			err := second.Call("secondtestString", true, func(c *tt.SecondServiceClient) (e error) {
				got, e = c.SecondtestString(context.Background(), s)
				return e
			})
			l.record(BaseTypes, "secondtestString", "secondtestString("+show(s)+")",
				judgeValue(got, err, SecondTestStringAnswer(s), deepEqual[string]))
		}
		second.Close()
		r.Reconnects += second.Reconnects()
	}
	return nil
}

// loop is one loop's checks on one ThriftTest connection.
type loop struct {
	cfg Config
	r   *Report
	c   *reconnect.Client[thriftTest]
}

func (l *loop) record(g Group, method, shown string, v *Failure) {
	if v != nil {
		v.Group, v.Check = g, shorten(shown)
		if l.cfg.OnFailure != nil {
			l.cfg.OnFailure(*v)
		}
	}
	l.r.record(method, v)
}

func failed(timedOut bool, format string, a ...interface{}) *Failure {
	return &Failure{Message: fmt.Sprintf(format, a...), TimedOut: timedOut}
}

// judgeValue wants no error and a reply equal to want by eq.
func judgeValue[T any](got T, err error, want T, eq func(T, T) bool) *Failure {
	switch {
	case err != nil:
		return failed(reconnect.IsTimeout(err), "expected %s, got error: %v", shorten(show(want)), err)
	case !eq(got, want):
		return failed(false, "expected %s, got %s", shorten(show(want)), shorten(show(got)))
	}
	return nil
}

// call makes one idempotent ThriftTest call and judges its reply.
func call[T any](l *loop, g Group, method, shown string, op func(thriftTest) (T, error), want T, eq func(T, T) bool) {
	var got T
	err := l.c.Call(method, true, func(c thriftTest) (e error) {
		got, e = op(c)
		return e
	})
	l.record(g, method, shown, judgeValue(got, err, want, eq))
}

// echo sends v and wants it back unchanged, by eq.
func echo[T any](l *loop, g Group, method string, v T, op func(thriftTest, context.Context, T) (T, error), eq func(T, T) bool) {
	call(l, g, method, method+"("+show(v)+")", func(c thriftTest) (T, error) { return op(c, context.Background(), v) }, v, eq)
}

func deepEqual[T any](a, b T) bool { return reflect.DeepEqual(a, b) }

func (l *loop) baseTypes() {
	ctx := context.Background()
	call(l, BaseTypes, "testVoid", "testVoid()", func(c thriftTest) (struct{}, error) { return struct{}{}, c.TestVoid(ctx) },
		struct{}{}, deepEqual[struct{}])
	for _, s := range []string{
		"Test",
		"",
		"Iñtërnâtiônàlizætiøn: ☃ 日本語 Ελληνικά русский עברית 🦀",
		"with \x00 nul, \t tab and \n newline",
		strings.Repeat("x", 64*1024),
	} {
		echo(l, BaseTypes, "testString", s, thriftTest.TestString, deepEqual[string])
	}
	for _, b := range []bool{true, false} {
		echo(l, BaseTypes, "testBool", b, thriftTest.TestBool, deepEqual[bool])
	}
	for _, b := range []int8{1, 0, -1, math.MinInt8, math.MaxInt8} {
		echo(l, BaseTypes, "testByte", b, thriftTest.TestByte, deepEqual[int8])
	}
	for _, i := range []int32{-1, 0, 1, math.MinInt32, math.MaxInt32} {
		echo(l, BaseTypes, "testI32", i, thriftTest.TestI32, deepEqual[int32])
	}
	for _, i := range []int64{-34359738368, 0, 1<<53 + 1, -(1<<53 + 1), math.MinInt64, math.MaxInt64} {
		echo(l, BaseTypes, "testI64", i, thriftTest.TestI64, deepEqual[int64])
	}
	for _, d := range []float64{
		-5.2098523, 0, math.Copysign(0, -1), 1.0 / 3.0, math.SmallestNonzeroFloat64,
		0x1p-1022, // the smallest positive normal
		1e-300, -1e300, math.MaxFloat64, -math.MaxFloat64, math.Inf(1), math.Inf(-1),
	} {
		// Bit for bit: -0.0 equals 0.0 numerically, not on the wire.
		echo(l, BaseTypes, "testDouble", d, thriftTest.TestDouble,
			func(a, b float64) bool { return math.Float64bits(a) == math.Float64bits(b) })
	}
	everyByte := make([]byte, 256)
	for i := range everyByte {
		everyByte[i] = byte(i)
	}
	large := make([]byte, 256*1024)
	for i := range large {
		large[i] = byte(i * 7 % 251)
	}
	for _, b := range [][]byte{everyByte, {}, large} {
		echo(l, BaseTypes, "testBinary", b, thriftTest.TestBinary, bytes.Equal)
	}
}

func xtruct(s string, b int8, i int32, l int64) *tt.Xtruct {
	return &tt.Xtruct{StringThing: s, ByteThing: b, I32Thing: i, I64Thing: l}
}

func (l *loop) structs() {
	zero := xtruct("Zero", 1, -3, -5)
	edges := xtruct("", math.MinInt8, math.MinInt32, 1<<53+1)
	unicode := xtruct("Ünïcödé 🦀", math.MaxInt8, math.MaxInt32, math.MinInt64)
	for _, x := range []*tt.Xtruct{zero, edges, unicode} {
		echo(l, Structs, "testStruct", x, thriftTest.TestStruct, deepEqual[*tt.Xtruct])
	}
	for _, n := range []*tt.Xtruct2{
		{ByteThing: 1, StructThing: zero, I32Thing: 5},
		{ByteThing: -1, StructThing: edges, I32Thing: math.MinInt32},
	} {
		echo(l, Structs, "testNest", n, thriftTest.TestNest, deepEqual[*tt.Xtruct2])
	}
	for _, e := range []tt.Numberz{tt.Numberz_ONE, tt.Numberz_TWO, tt.Numberz_THREE, tt.Numberz_FIVE, tt.Numberz_SIX, tt.Numberz_EIGHT} {
		echo(l, Structs, "testEnum", e, thriftTest.TestEnum, deepEqual[tt.Numberz])
	}
	for _, u := range []tt.UserId{309858235082523, -1, 0, math.MinInt64, math.MaxInt64} {
		echo(l, Structs, "testTypedef", u, thriftTest.TestTypedef, deepEqual[tt.UserId])
	}

	arg := &tt.Insanity{
		UserMap: map[tt.Numberz]tt.UserId{tt.Numberz_FIVE: 5, tt.Numberz_EIGHT: 8},
		Xtructs: []*tt.Xtruct{xtruct("Goodbye4", 4, 4, 4), xtruct("Hello2", 2, 2, 2)},
	}
	type insanities = map[tt.UserId]map[tt.Numberz]*tt.Insanity
	call(l, Structs, "testInsanity", "testInsanity("+show(arg)+")", func(c thriftTest) (insanities, error) {
		got, err := c.TestInsanity(context.Background(), arg)
		return fillEmptyInsanities(got), err
	}, InsanityAnswer(arg), deepEqual[insanities])

	for _, m := range []struct {
		a0 int8
		a1 int32
		a2 int64
		a3 map[int16]string
		a4 tt.Numberz
		a5 tt.UserId
	}{
		{9, 11, 12, map[int16]string{1: "2", 2: "3"}, tt.Numberz_FIVE, 13},
		{math.MinInt8, math.MinInt32, math.MaxInt64, map[int16]string{}, tt.Numberz_EIGHT, -1},
	} {
		shown := fmt.Sprintf("testMulti(%d, %d, %d, %v, %v, %d)", m.a0, m.a1, m.a2, m.a3, m.a4, m.a5)
		call(l, Structs, "testMulti", shown, func(c thriftTest) (*tt.Xtruct, error) {
			return c.TestMulti(context.Background(), m.a0, m.a1, m.a2, m.a3, m.a4, m.a5)
		}, MultiAnswer(m.a0, m.a1, m.a2), deepEqual[*tt.Xtruct])
	}
}

// fillEmptyInsanities gives every Insanity of a testInsanity reply both
// containers: an empty one may come with them absent or present and
// empty, depending on the server's language; both mean the same.
func fillEmptyInsanities(answer map[tt.UserId]map[tt.Numberz]*tt.Insanity) map[tt.UserId]map[tt.Numberz]*tt.Insanity {
	for _, inner := range answer {
		for _, in := range inner {
			if in == nil {
				continue
			}
			if in.UserMap == nil {
				in.UserMap = map[tt.Numberz]tt.UserId{}
			}
			if in.Xtructs == nil {
				in.Xtructs = []*tt.Xtruct{}
			}
		}
	}
	return answer
}

// sameSet compares sets, which a server may send in any order.
func sameSet(a, b []int32) bool {
	sorted := func(s []int32) []int32 {
		s = append([]int32(nil), s...)
		sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
		return s
	}
	return len(a) == len(b) && (len(a) == 0 || reflect.DeepEqual(sorted(a), sorted(b)))
}

// sameList is reflect.DeepEqual, with nil and empty the same.
func sameList(a, b []int32) bool { return len(a) == len(b) && (len(a) == 0 || reflect.DeepEqual(a, b)) }

func (l *loop) containers() {
	ctx := context.Background()
	sameMap := func(a, b map[int32]int32) bool { return len(a) == len(b) && (len(a) == 0 || reflect.DeepEqual(a, b)) }
	sameStringMap := func(a, b map[string]string) bool {
		return len(a) == len(b) && (len(a) == 0 || reflect.DeepEqual(a, b))
	}
	counting := map[int32]int32{}
	for i := int32(0); i < 5; i++ {
		counting[i] = i - 10
	}
	for _, m := range []map[int32]int32{
		counting,
		{},
		{math.MinInt32: math.MaxInt32, -1: 0, math.MaxInt32: math.MinInt32},
	} {
		echo(l, Containers, "testMap", m, thriftTest.TestMap, sameMap)
	}
	for _, m := range []map[string]string{
		{"a": "2", "b": "blah", "some": "thing"},
		{},
		{"": "", "日本": "🦀", "key with spaces": "nul \x00 inside"},
	} {
		echo(l, Containers, "testStringMap", m, thriftTest.TestStringMap, sameStringMap)
	}
	for _, s := range [][]int32{{-2, -1, 0, 1, 2}, {}, {math.MinInt32, math.MaxInt32}} {
		echo(l, Containers, "testSet", s, thriftTest.TestSet, sameSet)
	}
	for _, s := range [][]int32{{-2, -1, 0, 1, 2}, {}, {3, 3, 1, -7, 3, math.MinInt32}} {
		echo(l, Containers, "testList", s, thriftTest.TestList, sameList)
	}
	for _, hello := range []int32{1, -1} {
		hello := hello
		call(l, Containers, "testMapMap", fmt.Sprintf("testMapMap(%d)", hello),
			func(c thriftTest) (map[int32]map[int32]int32, error) { return c.TestMapMap(ctx, hello) },
			MapMapAnswer(), deepEqual[map[int32]map[int32]int32])
	}
}

// throws makes one call that must fail with the exception judge accepts.
func (l *loop) throws(method, shown string, op func(thriftTest) error, want string, judge func(error) bool) {
	err := l.c.Call(method, true, op)
	var v *Failure
	switch {
	case err == nil:
		v = failed(false, "expected %s, got a normal return", want)
	case !judge(err):
		v = failed(reconnect.IsTimeout(err), "expected %s, got: %v", want, err)
	}
	l.record(Exceptions, method, shown, v)
}

func (l *loop) exceptions() {
	ctx := context.Background()
	xception := func(want *tt.Xception) func(error) bool {
		return func(err error) bool {
			var got *tt.Xception
			return errors.As(err, &got) && reflect.DeepEqual(got, want)
		}
	}
	want := &tt.Xception{ErrorCode: 1001, Message: "Xception"}
	l.throws("testException", `testException("Xception")`,
		func(c thriftTest) error { return c.TestException(ctx, "Xception") }, show(want), xception(want))
	l.throws("testException", `testException("TException")`,
		func(c thriftTest) error { return c.TestException(ctx, "TException") }, "a TApplicationException",
		func(err error) bool {
			var ae thrift.TApplicationException
			return errors.As(err, &ae)
		})
	call(l, Exceptions, "testException", `testException("success")`,
		func(c thriftTest) (struct{}, error) { return struct{}{}, c.TestException(ctx, "success") },
		struct{}{}, deepEqual[struct{}])

	l.throws("testMultiException", `testMultiException("Xception", "test 1")`, func(c thriftTest) error {
		_, err := c.TestMultiException(ctx, "Xception", "test 1")
		return err
	}, show(MultiXception()), xception(MultiXception()))
	want2 := MultiXception2()
	l.throws("testMultiException", `testMultiException("Xception2", "test 2")`, func(c thriftTest) error {
		_, err := c.TestMultiException(ctx, "Xception2", "test 2")
		return err
	}, show(want2), func(err error) bool {
		// Only errorCode and struct_thing.string_thing are specified.
		var got *tt.Xception2
		return errors.As(err, &got) && got.ErrorCode == want2.ErrorCode &&
			got.StructThing != nil && got.StructThing.StringThing == want2.StructThing.StringThing
	})
	// Peers whose fields are never absent also send byte_thing etc. as
	// zero: only string_thing is specified.
	call(l, Exceptions, "testMultiException", `testMultiException("success", "test 3")`,
		func(c thriftTest) (string, error) {
			x, err := c.TestMultiException(ctx, "success", "test 3")
			if err != nil || x == nil {
				return "", err
			}
			return x.StringThing, nil
		}, "test 3", deepEqual[string])
	// Exceptions leave the connection in step.
	echo(l, Exceptions, "testI32", 7, thriftTest.TestI32, deepEqual[int32])
}

func (l *loop) oneway() {
	started, before := time.Now(), l.c.Reconnects()
	err := l.c.Call("testOneway", false, func(c thriftTest) error { return c.TestOneway(context.Background(), 1) })
	// A call that had to reconnect first cannot be judged by its time.
	reconnected := l.c.Reconnects() != before
	elapsed := time.Since(started)
	var unknown *reconnect.OutcomeUnknownError
	switch {
	case errors.As(err, &unknown):
		// Never retried: the server may or may not have run it.
		line := "UNKNOWN [basetypes] testOneway(1): outcome unknown: " + unknown.Why.Error()
		l.r.Unknown = append(l.r.Unknown, line)
		if l.cfg.OnUnknown != nil {
			l.cfg.OnUnknown(line)
		}
	case err != nil:
		l.record(BaseTypes, "testOneway", "testOneway(1)", failed(reconnect.IsTimeout(err), "got error: %v", err))
	case !reconnected && elapsed > OnewayMaxReturn:
		l.record(BaseTypes, "testOneway", "testOneway(1)", failed(false,
			"returned after %d ms, more than %d ms: did it wait for a reply?", elapsed.Milliseconds(), OnewayMaxReturn.Milliseconds()))
	default:
		l.record(BaseTypes, "testOneway", "testOneway(1)", nil)
	}
	// The connection is still usable once the server has slept.
	echo(l, BaseTypes, "testI32", -1, thriftTest.TestI32, deepEqual[int32])
}

// show renders a value for a failure line: strings quoted, bytes counted.
func show(v interface{}) string {
	switch v := v.(type) {
	case string:
		return fmt.Sprintf("%q", v)
	case []byte:
		if len(v) > 16 {
			return fmt.Sprintf("%d bytes % x ...", len(v), v[:16])
		}
		return fmt.Sprintf("%d bytes [% x]", len(v), v)
	case float64:
		return fmt.Sprintf("%v (bits %#016x)", v, math.Float64bits(v))
	}
	return fmt.Sprintf("%v", v)
}

// shorten cuts text to maxShown bytes, on a character boundary.
func shorten(text string) string {
	if len(text) <= maxShown {
		return text
	}
	end := maxShown
	for end > 0 && !utf8.RuneStart(text[end]) {
		end--
	}
	return fmt.Sprintf("%s... (%d bytes)", text[:end], len(text))
}
