// Package crosstest is the Go peer's side of Apache Thrift's cross test
// (interop/SPEC.md, "ThriftTest"): the ThriftTest and SecondService
// handlers with upstream's server semantics, the processor that serves
// them, and the client suite that checks a server against them.
package crosstest

import (
	"context"
	"errors"
	"log"
	"time"

	"github.com/apache/thrift/lib/go/thrift"

	tt "thriftframe/interop/go/gen/thrifttest"
	"thriftframe/interop/go/internal/server"
)

// TExceptionMessage is the message of the TApplicationException that
// testException("TException") answers with.
const TExceptionMessage = "This is a TException"

// MaxOnewaySleep caps testOneway's sleep, so a peer cannot park a
// connection for hours.
const MaxOnewaySleep = 60 * time.Second

// Handler serves ThriftTest: every method echoes its argument, except the
// ones the answers below describe. It keeps no state.
type Handler struct{}

// SecondHandler serves SecondService.
type SecondHandler struct{}

var (
	_ tt.ThriftTest    = Handler{}
	_ tt.SecondService = SecondHandler{}
)

// MapMapAnswer is testMapMap's answer, whatever it is asked.
func MapMapAnswer() map[int32]map[int32]int32 {
	return map[int32]map[int32]int32{
		-4: {-4: -4, -3: -3, -2: -2, -1: -1},
		4:  {1: 1, 2: 2, 3: 3, 4: 4},
	}
}

// InsanityAnswer is testInsanity's answer: {1: {TWO: arg, THREE: arg},
// 2: {SIX: an Insanity with both containers present and empty}}.
func InsanityAnswer(arg *tt.Insanity) map[tt.UserId]map[tt.Numberz]*tt.Insanity {
	empty := &tt.Insanity{UserMap: map[tt.Numberz]tt.UserId{}, Xtructs: []*tt.Xtruct{}}
	return map[tt.UserId]map[tt.Numberz]*tt.Insanity{
		1: {tt.Numberz_TWO: arg, tt.Numberz_THREE: arg},
		2: {tt.Numberz_SIX: empty},
	}
}

// MultiAnswer is testMulti's answer for its first three arguments.
func MultiAnswer(arg0 int8, arg1 int32, arg2 int64) *tt.Xtruct {
	return &tt.Xtruct{StringThing: "Hello2", ByteThing: arg0, I32Thing: arg1, I64Thing: arg2}
}

// MultiXception is what testMultiException("Xception", _) throws.
func MultiXception() *tt.Xception {
	return &tt.Xception{ErrorCode: 1001, Message: "This is an Xception"}
}

// MultiXception2 is what testMultiException("Xception2", _) throws.
func MultiXception2() *tt.Xception2 {
	return &tt.Xception2{ErrorCode: 2002, StructThing: &tt.Xtruct{StringThing: "This is an Xception2"}}
}

// SecondTestStringAnswer is secondtestString's answer, as upstream's C++,
// Go and Python servers give it.
func SecondTestStringAnswer(s string) string { return `testString("` + s + `")` }

func (Handler) TestVoid(context.Context) error { return nil }

func (Handler) TestString(_ context.Context, s string) (string, error) { return s, nil }

func (Handler) TestBool(_ context.Context, b bool) (bool, error) { return b, nil }

func (Handler) TestByte(_ context.Context, b int8) (int8, error) { return b, nil }

func (Handler) TestI32(_ context.Context, i int32) (int32, error) { return i, nil }

func (Handler) TestI64(_ context.Context, i int64) (int64, error) { return i, nil }

func (Handler) TestDouble(_ context.Context, d float64) (float64, error) { return d, nil }

func (Handler) TestBinary(_ context.Context, b []byte) ([]byte, error) { return b, nil }

func (Handler) TestStruct(_ context.Context, x *tt.Xtruct) (*tt.Xtruct, error) { return x, nil }

func (Handler) TestNest(_ context.Context, x *tt.Xtruct2) (*tt.Xtruct2, error) { return x, nil }

func (Handler) TestMap(_ context.Context, m map[int32]int32) (map[int32]int32, error) { return m, nil }

func (Handler) TestStringMap(_ context.Context, m map[string]string) (map[string]string, error) {
	return m, nil
}

func (Handler) TestSet(_ context.Context, s []int32) ([]int32, error) { return s, nil }

func (Handler) TestList(_ context.Context, l []int32) ([]int32, error) { return l, nil }

func (Handler) TestEnum(_ context.Context, n tt.Numberz) (tt.Numberz, error) { return n, nil }

func (Handler) TestTypedef(_ context.Context, u tt.UserId) (tt.UserId, error) { return u, nil }

func (Handler) TestMapMap(context.Context, int32) (map[int32]map[int32]int32, error) {
	return MapMapAnswer(), nil
}

func (Handler) TestInsanity(_ context.Context, arg *tt.Insanity) (map[tt.UserId]map[tt.Numberz]*tt.Insanity, error) {
	return InsanityAnswer(arg), nil
}

func (Handler) TestMulti(_ context.Context, arg0 int8, arg1 int32, arg2 int64, _ map[int16]string, _ tt.Numberz, _ tt.UserId) (*tt.Xtruct, error) {
	return MultiAnswer(arg0, arg1, arg2), nil
}

// TestException throws Xception{1001, arg} for "Xception", a
// TApplicationException for "TException" (see testExceptionFunc), and
// returns for anything else.
func (Handler) TestException(_ context.Context, arg string) error {
	switch arg {
	case "Xception":
		return &tt.Xception{ErrorCode: 1001, Message: arg}
	case "TException":
		return thrift.NewTApplicationException(thrift.UNKNOWN_APPLICATION_EXCEPTION, TExceptionMessage)
	}
	return nil
}

func (Handler) TestMultiException(_ context.Context, arg0, arg1 string) (*tt.Xtruct, error) {
	switch arg0 {
	case "Xception":
		return nil, MultiXception()
	case "Xception2":
		return nil, MultiXception2()
	}
	return &tt.Xtruct{StringThing: arg1}, nil
}

// TestOneway sleeps, holding up the connection's next request, unless the
// connection closes first (thrift-go then cancels ctx).
func (Handler) TestOneway(ctx context.Context, seconds int32) error {
	sleep := MaxOnewaySleep
	if seconds < 0 {
		sleep = 0
	} else if seconds < int32(MaxOnewaySleep/time.Second) {
		sleep = time.Duration(seconds) * time.Second
	}
	t := time.NewTimer(sleep)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
	return nil
}

func (SecondHandler) SecondtestString(_ context.Context, s string) (string, error) {
	return SecondTestStringAnswer(s), nil
}

// NewProcessor serves ThriftTest, or, multiplexed, ThriftTest and
// SecondService under those names.
func NewProcessor(multiplexed bool) thrift.TProcessor {
	p := tt.NewThriftTestProcessor(Handler{})
	p.AddToProcessorMap("testException", testExceptionFunc{Handler{}})
	if !multiplexed {
		return p
	}
	return server.NewMultiplexed(map[string]thrift.TProcessor{
		"ThriftTest":    p,
		"SecondService": tt.NewSecondServiceProcessor(SecondHandler{}),
	})
}

// testExceptionFunc replaces the generated processor of testException,
// which sends any error that is not an Xception as an INTERNAL_ERROR
// "Internal error processing testException: ..."; upstream's semantics
// (interop/SPEC.md) want the handler's TApplicationException as it is.
type testExceptionFunc struct{ h Handler }

func (f testExceptionFunc) Process(ctx context.Context, seqID int32, in, out thrift.TProtocol) (bool, thrift.TException) {
	var args tt.ThriftTestTestExceptionArgs
	if err := args.Read(ctx, in); err != nil {
		in.ReadMessageEnd(ctx)
		x := thrift.NewTApplicationException(thrift.PROTOCOL_ERROR, err.Error())
		writeReply(ctx, out, seqID, thrift.EXCEPTION, x)
		return false, thrift.WrapTException(err)
	}
	in.ReadMessageEnd(ctx)
	err := f.h.TestException(ctx, args.Arg)
	var result tt.ThriftTestTestExceptionResult
	var reply thrift.TStruct = &result
	kind := thrift.REPLY
	var xception *tt.Xception
	var ae thrift.TApplicationException
	switch {
	case err == nil:
	case errors.As(err, &xception):
		result.Err1 = xception
	case errors.As(err, &ae):
		reply, kind = ae, thrift.EXCEPTION
	default:
		reply, kind = thrift.NewTApplicationException(thrift.INTERNAL_ERROR, err.Error()), thrift.EXCEPTION
	}
	if werr := writeReply(ctx, out, seqID, kind, reply); werr != nil {
		log.Printf("testException: writing the reply: %v", werr)
		return false, thrift.WrapTException(werr)
	}
	return true, nil
}

func writeReply(ctx context.Context, out thrift.TProtocol, seqID int32, kind thrift.TMessageType, reply thrift.TStruct) error {
	if err := out.WriteMessageBegin(ctx, "testException", kind, seqID); err != nil {
		return err
	}
	if err := reply.Write(ctx, out); err != nil {
		return err
	}
	if err := out.WriteMessageEnd(ctx); err != nil {
		return err
	}
	return out.Flush(ctx)
}
