package server

import (
	"context"
	"sort"
	"strings"

	"github.com/apache/thrift/lib/go/thrift"
)

// NewMultiplexed serves each processor under its service's name.
//
// A call without a "Service:" prefix comes from a client that is not
// multiplexed. thrift-go's TMultiplexedProcessor then closes the connection
// without a word, which that client sees as a dropped connection and
// retries; the Rust reference answers with an exception instead, and so
// does this default processor.
func NewMultiplexed(services map[string]thrift.TProcessor) thrift.TProcessor {
	mp := thrift.NewTMultiplexedProcessor()
	names := make([]string, 0, len(services))
	for name, p := range services {
		mp.RegisterProcessor(name, p)
		names = append(names, name)
	}
	sort.Strings(names)
	mp.RegisterDefault(unprefixed{strings.Join(names, ", ")})
	return mp
}

// unprefixed answers every call with UNKNOWN_METHOD, as a generated
// processor answers a method it does not know.
type unprefixed struct{ services string }

func (u unprefixed) Process(ctx context.Context, in, out thrift.TProtocol) (bool, thrift.TException) {
	name, _, seqID, err := in.ReadMessageBegin(ctx)
	if err != nil {
		return false, thrift.WrapTException(err)
	}
	// Read the arguments to the end so the connection stays usable.
	if err := in.Skip(ctx, thrift.STRUCT); err != nil {
		return false, thrift.WrapTException(err)
	}
	if err := in.ReadMessageEnd(ctx); err != nil {
		return false, thrift.WrapTException(err)
	}
	x := thrift.NewTApplicationException(thrift.UNKNOWN_METHOD,
		"no service name in "+name+": this server is multiplexed ("+u.services+")")
	if err := out.WriteMessageBegin(ctx, name, thrift.EXCEPTION, seqID); err != nil {
		return false, thrift.WrapTException(err)
	}
	if err := x.Write(ctx, out); err != nil {
		return false, thrift.WrapTException(err)
	}
	if err := out.WriteMessageEnd(ctx); err != nil {
		return false, thrift.WrapTException(err)
	}
	if err := out.Flush(ctx); err != nil {
		return false, thrift.WrapTException(err)
	}
	return false, x // TSimpleServer keeps the connection after UNKNOWN_METHOD
}

func (unprefixed) ProcessorMap() map[string]thrift.TProcessorFunction { return nil }

func (unprefixed) AddToProcessorMap(string, thrift.TProcessorFunction) {}
