// Package server runs a Thrift TSimpleServer (or, for --transport http, a
// net/http server with thrift's handler) the way interop/SPEC.md asks of
// every peer's server: LISTENING <port> on stdout once it listens, logs on
// stderr, SIGTERM or SIGINT stop it with status 0.
package server

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/apache/thrift/lib/go/thrift"
)

// Options is what to serve and how.
type Options struct {
	Addr             string // host:port; port 0 = ephemeral
	Processor        thrift.TProcessor
	TransportFactory thrift.TTransportFactory // unused with HTTP
	ProtocolFactory  thrift.TProtocolFactory
	// HTTP serves POST requests with thrift.NewThriftHandlerFunc in a
	// net/http server instead of a TSimpleServer.
	HTTP bool
	// ForwardHeaders are the THeader info headers a reply carries back
	// from its request (see replyHeaders); only THeader requests have any.
	ForwardHeaders []string
	Describe       string // for the "serving" log line
}

// Signals catches SIGTERM and SIGINT. Call it before anything can announce
// the port, so a runner that stops the server right after LISTENING still
// sees status 0.
func Signals() <-chan os.Signal {
	signals := make(chan os.Signal, 1)
	signal.Notify(signals, syscall.SIGTERM, syscall.SIGINT)
	return signals
}

// Run serves until a signal arrives (status 0) or the server fails
// (status 1), and returns the exit status.
func Run(opts Options, signals <-chan os.Signal) int {
	if opts.HTTP {
		return runHTTP(opts, signals)
	}
	sock, err := thrift.NewTServerSocket(opts.Addr)
	if err != nil {
		log.Printf("bad listen address %s: %v", opts.Addr, err)
		return 1
	}
	// Listen here, not in Serve, to learn the real port before announcing it.
	if err := sock.Listen(); err != nil {
		log.Printf("cannot listen on %s: %v", opts.Addr, err)
		return 1
	}
	tcpAddr, ok := sock.Addr().(*net.TCPAddr)
	if !ok {
		log.Printf("listener has no TCP address: %v", sock.Addr())
		return 1
	}

	server := simpleServer(opts, patientListener{sock})
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
	log.Printf("serving %s (%s, model simple)", tcpAddr, opts.Describe)

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

// simpleServer is the TSimpleServer Run serves with, on listener.
func simpleServer(opts Options, listener thrift.TServerTransport) *thrift.TSimpleServer {
	processor := opts.Processor
	if len(opts.ForwardHeaders) > 0 {
		processor = replyHeaders{processor}
	}
	server := thrift.NewTSimpleServer4(logFailures{processor}, listener, opts.TransportFactory, opts.ProtocolFactory)
	// With a THeaderProtocol the server reads each request's frame before
	// its processor runs, puts the frame's info headers into the context
	// and these keys into its write-header list.
	server.SetForwardHeaders(opts.ForwardHeaders)
	server.SetLogger(func(msg string) { log.Print(msg) })
	return server
}

// replyHeaders copies the forwarded headers of each request into its reply.
//
// thrift v0.17.0's SetForwardHeaders alone sends nothing back: the
// write-header list it puts in the context is for calls the handler makes
// to other servers (TStandardClient.Send writes it). A reply carries the
// write headers of the connection's THeaderTransport, which the library
// never clears between requests, so they are cleared first: a request
// without the header must not get the previous one's. For a framed or
// unframed client of the THeader server, and on other transports, the
// response helper does nothing.
type replyHeaders struct{ thrift.TProcessor }

func (p replyHeaders) Process(ctx context.Context, in, out thrift.TProtocol) (bool, thrift.TException) {
	reply, _ := thrift.GetResponseHelper(ctx)
	reply.ClearHeaders()
	for _, key := range thrift.GetWriteHeaderList(ctx) {
		if value, ok := thrift.GetHeader(ctx, key); ok {
			reply.SetHeader(key, value)
		}
	}
	return p.TProcessor.Process(ctx, in, out)
}

// runHTTP is Run for --transport http: a net/http server on a listener
// bound here (so the LISTENING line has the real port), every path answered
// by thrift's handler, which runs the processor on the request body and
// writes the reply as the response. It answers whatever the request is
// (any method, path or Content-Type) with 200; a oneway call's 200 comes
// once the handler has returned, since the processor runs it before the
// handler ends; it gzips the reply when the client accepts gzip (Go's HTTP
// client asks for it by default).
func runHTTP(opts Options, signals <-chan os.Signal) int {
	ln, err := net.Listen("tcp", opts.Addr)
	if err != nil {
		log.Printf("cannot listen on %s: %v", opts.Addr, err)
		return 1
	}
	tcpAddr, ok := ln.Addr().(*net.TCPAddr)
	if !ok {
		ln.Close()
		log.Printf("listener has no TCP address: %v", ln.Addr())
		return 1
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/", thrift.NewThriftHandlerFunc(logFailures{opts.Processor}, opts.ProtocolFactory, opts.ProtocolFactory))
	// No timeouts, like the TSimpleServer's connections. net/http retries
	// Accept errors that are temporary (EMFILE, ENFILE) itself.
	srv := &http.Server{Handler: mux, ErrorLog: log.Default()}

	if _, err := fmt.Fprintf(os.Stdout, "LISTENING %d\n", tcpAddr.Port); err != nil {
		ln.Close()
		log.Printf("cannot announce the port: %v", err)
		return 1
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	log.Printf("serving %s (%s, model simple: net/http, a goroutine per connection)", tcpAddr, opts.Describe)

	select {
	case sig := <-signals:
		log.Printf("%v: stopping", sig)
		// Shutdown waits for requests in progress (a testOneway sleeping,
		// say); Close then drops whatever is left.
		ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			srv.Close()
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
	if err != nil && !isEOF(err) && !declared(err) {
		log.Printf("request failed: %v", err)
	}
	return ok, err
}

// declared reports an exception the IDL declares, which the handler threw
// and the client got as its answer: nothing failed.
func declared(err error) bool {
	var te thrift.TException
	return errors.As(err, &te) && te.TExceptionType() == thrift.TExceptionTypeCompiled
}

// isEOF reports the end of a connection between two requests: the client
// hung up, nothing went wrong.
func isEOF(err error) bool {
	var te thrift.TTransportException
	return errors.As(err, &te) && te.TypeId() == thrift.END_OF_FILE || errors.Is(err, io.EOF)
}
