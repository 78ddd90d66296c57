// Command thrifttest-server serves Apache Thrift's cross-test service
// ThriftTest (and, multiplexed, SecondService) with upstream's semantics
// (interop/SPEC.md, "ThriftTest").
package main

import (
	"fmt"
	"log"
	"net"
	"os"
	"strconv"

	"thriftframe/interop/go/internal/cli"
	"thriftframe/interop/go/internal/crosstest"
	"thriftframe/interop/go/internal/server"
)

const usage = "thrifttest-server [--host H] [--port P] [--protocol binary|compact|json|multi|multic|multij] " +
	"[--transport buffered|framed|zlib|http|header] [--server-type simple] [-n|--workers N] [--multiplexed]"

func main() {
	log.SetPrefix("thrifttest-server: ")
	log.SetFlags(log.LstdFlags | log.Lmicroseconds)

	fs := cli.NewFlagSet("thrifttest-server", usage)
	host := fs.String("host", "127.0.0.1", "address to bind")
	port := cli.NewPort(9090, 0)
	fs.Var(port, "port", "port to listen on, 0 = ephemeral")
	wire := fs.AddCrossTestWireFlags()
	model := cli.NewChoice("simple", "simple", "threaded", "thread-pool", "nonblocking")
	fs.Var(model, "server-type", "server model; the Go peer has only simple (TSimpleServer, a goroutine per connection)")
	workers := &cli.NonNegative{Value: 4}
	fs.Var(workers, "workers", "pool workers; accepted and ignored (no pool model in Go)")
	fs.Var(workers, "n", "same as --workers")
	fs.Parse(os.Args[1:])
	if model.Value != "simple" {
		fs.Fail("--server-type %s is not supported by the Go peer (only simple)", model.Value)
	}
	if workers.Value < 1 {
		fs.Fail("--workers must be at least 1")
	}
	if err := wire.Check(); err != nil {
		fs.Fail("%v", err)
	}
	wire.ResolveCrossTest()

	signals := server.Signals()
	conf := wire.Config(0, 0)
	os.Exit(server.Run(server.Options{
		Addr:             net.JoinHostPort(*host, strconv.Itoa(port.Value)),
		Processor:        crosstest.NewProcessor(*wire.Multiplexed),
		TransportFactory: wire.TransportFactory(conf),
		ProtocolFactory:  wire.ProtocolFactory(conf),
		HTTP:             wire.HTTP(),
		ForwardHeaders:   []string{cli.RequestIDHeader},
		Describe: fmt.Sprintf("ThriftTest, protocol %s, transport %s, multiplexed %v",
			wire.Protocol, wire.Transport, *wire.Multiplexed),
	}, signals))
}
