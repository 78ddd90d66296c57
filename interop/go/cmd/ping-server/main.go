// Command ping-server is the Go peer's Thrift server (interop/SPEC.md).
package main

import (
	"fmt"
	"log"
	"net"
	"os"
	"strconv"

	"github.com/apache/thrift/lib/go/thrift"

	"thriftframe/interop/go/gen/ping"
	"thriftframe/interop/go/gen/student"
	"thriftframe/interop/go/internal/cli"
	"thriftframe/interop/go/internal/handler"
	"thriftframe/interop/go/internal/server"
)

const usage = "ping-server [--host H] [--port P] [--protocol binary|compact|json] [--transport buffered|framed|zlib|http|header] " +
	"[--server simple] [--workers N] [--service ping|student] [--multiplexed]"

func main() {
	log.SetPrefix("ping-server: ")
	log.SetFlags(log.LstdFlags | log.Lmicroseconds)

	fs := cli.NewFlagSet("ping-server", usage)
	host := fs.String("host", "127.0.0.1", "address to bind")
	port := cli.NewPort(cli.DefaultPort, 0)
	fs.Var(port, "port", "port to listen on, 0 = ephemeral")
	wire := fs.AddWireFlags()
	model := fs.String("server", "simple", "server model; the Go peer has only simple (TSimpleServer)")
	fs.Var(&cli.NonNegative{Value: 4}, "workers", "worker count for pool servers; accepted and ignored (no pool model in Go)")
	fs.Parse(os.Args[1:])
	if *model != "simple" {
		fs.Fail("server model %q is not supported by the Go peer (only simple)", *model)
	}
	if err := wire.Check(); err != nil {
		fs.Fail("%v", err)
	}

	signals := server.Signals()
	var processor thrift.TProcessor
	h := handler.Handler{}
	switch {
	case *wire.Multiplexed:
		processor = server.NewMultiplexed(map[string]thrift.TProcessor{
			"PingService": ping.NewPingServiceProcessor(h),
			"Serv":        student.NewServProcessor(h),
		})
	case wire.Service.Value == "student":
		processor = student.NewServProcessor(h)
	default:
		processor = ping.NewPingServiceProcessor(h)
	}
	conf := wire.Config(0, 0)
	os.Exit(server.Run(server.Options{
		Addr:             net.JoinHostPort(*host, strconv.Itoa(port.Value)),
		Processor:        processor,
		TransportFactory: wire.TransportFactory(conf),
		ProtocolFactory:  wire.ProtocolFactory(conf),
		HTTP:             wire.HTTP(),
		ForwardHeaders:   []string{cli.RequestIDHeader},
		Describe: fmt.Sprintf("protocol %s, transport %s, service %s, multiplexed %v",
			wire.Protocol, wire.Transport, wire.Service, *wire.Multiplexed),
	}, signals))
}
