// Command ping-server is the Go peer's Thrift server (interop/SPEC.md).
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"time"

	"github.com/apache/thrift/lib/go/thrift"

	"thriftframe/interop/go/gen/ping"
	"thriftframe/interop/go/gen/student"
	"thriftframe/interop/go/internal/cli"
	"thriftframe/interop/go/internal/handler"
)

const usage = "ping-server [--host H] [--port P] [--protocol binary|compact] [--transport buffered|framed] " +
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

	// Catch the signals before anything can announce the port, so a runner
	// that stops the server right after LISTENING still sees status 0.
	signals := make(chan os.Signal, 1)
	signal.Notify(signals, syscall.SIGTERM, syscall.SIGINT)
	os.Exit(run(net.JoinHostPort(*host, strconv.Itoa(port.Value)), wire, signals))
}

func run(addr string, wire cli.Wire, signals <-chan os.Signal) int {
	var processor thrift.TProcessor
	h := handler.Handler{}
	switch {
	case *wire.Multiplexed:
		processor = newMultiplexed(map[string]thrift.TProcessor{
			"PingService": ping.NewPingServiceProcessor(h),
			"Serv":        student.NewServProcessor(h),
		})
	case wire.Service.Value == "student":
		processor = student.NewServProcessor(h)
	default:
		processor = ping.NewPingServiceProcessor(h)
	}

	sock, err := thrift.NewTServerSocket(addr)
	if err != nil {
		log.Printf("bad listen address %s: %v", addr, err)
		return 1
	}
	// Listen here, not in Serve, to learn the real port before announcing it.
	if err := sock.Listen(); err != nil {
		log.Printf("cannot listen on %s: %v", addr, err)
		return 1
	}
	tcpAddr, ok := sock.Addr().(*net.TCPAddr)
	if !ok {
		log.Printf("listener has no TCP address: %v", sock.Addr())
		return 1
	}

	conf := wire.Config(0, 0)
	server := thrift.NewTSimpleServer4(logFailures{processor}, patientListener{sock}, wire.TransportFactory(conf), wire.ProtocolFactory(conf))
	server.SetLogger(func(msg string) { log.Print(msg) })
	// Stop waits for open connections; an idle client would block it forever.
	thrift.ServerStopTimeout = 500 * time.Millisecond

	// The kernel queues connections from here on; os.Stdout is unbuffered.
	if _, err := fmt.Fprintf(os.Stdout, "LISTENING %d\n", tcpAddr.Port); err != nil {
		log.Printf("cannot announce the port: %v", err)
		return 1
	}
	// Go's net package sets TCP_NODELAY on every TCP connection, accepted
	// ones included, so nothing is needed for it here.
	// AcceptLoop, not Serve: Serve drops the error that ended the loop.
	served := make(chan error, 1)
	go func() { served <- server.AcceptLoop() }()
	log.Printf("serving %s (protocol %s, transport %s, service %s, multiplexed %v, model simple)",
		tcpAddr, wire.Protocol, wire.Transport, wire.Service, *wire.Multiplexed)

	select {
	case sig := <-signals:
		log.Printf("%v: stopping", sig)
		if err := server.Stop(); err != nil {
			log.Printf("stop: %v", err)
		}
		<-served
		return 0
	case err := <-served:
		log.Printf("server stopped unexpectedly: %v", err)
		return 1
	}
}

// patientListener rides out running out of file descriptors. TSimpleServer
// ends its accept loop, and so the whole server, at the first Accept error;
// the Go runtime already retries the harmless ones (ECONNABORTED), this
// waits out the resource shortages, which pass as connections close.
type patientListener struct{ *thrift.TServerSocket }

func (l patientListener) Accept() (thrift.TTransport, error) {
	for {
		t, err := l.TServerSocket.Accept()
		if !errors.Is(err, syscall.EMFILE) && !errors.Is(err, syscall.ENFILE) {
			return t, err
		}
		log.Printf("accept: %v; retrying in 50ms", err)
		time.Sleep(50 * time.Millisecond)
	}
}

// logFailures logs every failed request. TSimpleServer closes a connection
// silently when a request cannot be read (another protocol or transport, a
// client without TMultiplexedProtocol, a frame too large), which is exactly
// what one needs to see when two peers do not agree.
type logFailures struct{ thrift.TProcessor }

func (p logFailures) Process(ctx context.Context, in, out thrift.TProtocol) (bool, thrift.TException) {
	ok, err := p.TProcessor.Process(ctx, in, out)
	if err != nil && !isEOF(err) {
		log.Printf("request failed: %v", err)
	}
	return ok, err
}

// isEOF reports the end of a connection between two requests: the client
// hung up, nothing went wrong.
func isEOF(err error) bool {
	var te thrift.TTransportException
	return errors.Is(err, io.EOF) || errors.As(err, &te) && te.TypeId() == thrift.END_OF_FILE
}
