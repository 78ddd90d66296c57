// Command thrifttest-client runs Apache Thrift's cross-test client suite
// against a ThriftTest server (interop/SPEC.md, "ThriftTest"): a
// "loop <n>: ..." line after each loop and one line per method on stdout,
// one line per failed check on stderr, and upstream's bitmask as the exit
// code (1 base types, 2 structs, 4 containers, 8 exceptions, 64 unknown,
// 128 timeout; 2 alone is also a usage error).
package main

import (
	"fmt"
	"log"
	"net"
	"os"
	"strconv"
	"time"

	"thriftframe/interop/go/internal/cli"
	"thriftframe/interop/go/internal/crosstest"
	"thriftframe/interop/go/internal/reconnect"
)

const prog = "thrifttest-client"

const usage = prog + " [--host H] [--port P] [--protocol binary|compact|json|multi|multic|multij] " +
	"[--transport buffered|framed|zlib|http|header] [-n|--testloops N] [--multiplexed] [--timeout-ms MS] [--reconnect-deadline-ms MS]"

// connectTimeout bounds one TCP connect attempt; --reconnect-deadline-ms
// bounds them all.
const connectTimeout = 2 * time.Second

func main() {
	log.SetPrefix(prog + ": ")
	log.SetFlags(log.LstdFlags | log.Lmicroseconds)

	fs := cli.NewFlagSet(prog, usage)
	host := fs.String("host", "localhost", "the server's host")
	port := cli.NewPort(9090, 1)
	fs.Var(port, "port", "the server's port")
	wire := fs.AddCrossTestWireFlags()
	loops := &cli.NonNegative{Value: 1}
	fs.Var(loops, "testloops", "times to run the whole suite, each on a fresh connection")
	fs.Var(loops, "n", "same as --testloops")
	timeout := &cli.NonNegative{Value: 5000}
	fs.Var(timeout, "timeout-ms", "send and receive timeout in ms, more than 1000 (the call after testOneway(1) waits for the server's sleep)")
	deadline := &cli.NonNegative{Value: 30000}
	fs.Var(deadline, "reconnect-deadline-ms", "how long to keep trying to connect, in ms")
	fs.Parse(os.Args[1:])
	if timeout.Value <= 1000 {
		fs.Fail("--timeout-ms must be more than 1000")
	}
	if err := wire.Check(); err != nil {
		fs.Fail("%v", err)
	}
	wire.ResolveCrossTest()

	conf := wire.Config(connectTimeout, time.Duration(timeout.Value)*time.Millisecond)
	backoff := reconnect.DefaultBackoff
	backoff.Budget = time.Duration(deadline.Value) * time.Millisecond
	report := crosstest.Run(crosstest.Config{
		Addr:             net.JoinHostPort(*host, strconv.Itoa(port.Value)),
		Conf:             conf,
		ProtocolFactory:  wire.ProtocolFactory(conf),
		TransportFactory: wire.TransportFactory(conf),
		HTTP:             wire.HTTP(),
		Backoff:          backoff,
		Log:              log.Default(),
		Multiplexed:      *wire.Multiplexed,
		Loops:            loops.Value,
		// os.Stdout and os.Stderr are unbuffered: every line is flushed.
		OnLoop:    func(s crosstest.LoopSummary) { fmt.Println(s) },
		OnFailure: func(f crosstest.Failure) { fmt.Fprintf(os.Stderr, "%s: %s\n", prog, f) },
		OnUnknown: func(line string) { fmt.Fprintf(os.Stderr, "%s: %s\n", prog, line) },
	})
	for _, line := range report.MethodLines() {
		fmt.Println(line)
	}
	for _, why := range report.Aborted {
		fmt.Fprintf(os.Stderr, "%s: could not run the suite: %s\n", prog, why)
	}
	os.Exit(report.ExitCode())
}
