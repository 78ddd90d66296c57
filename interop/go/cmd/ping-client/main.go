// Command ping-client is the Go peer's Thrift client (interop/SPEC.md).
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"log"
	"math/rand"
	"net"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"
	"unsafe"

	"github.com/apache/thrift/lib/go/thrift"

	"thriftframe/interop/go/gen/ping"
	"thriftframe/interop/go/gen/student"
	"thriftframe/interop/go/internal/cli"
	"thriftframe/interop/go/internal/payload"
	"thriftframe/interop/go/internal/reconnect"
)

const usage = "ping-client [--host H] [--port P] [--endpoints H:P,H:P] [--protocol binary|compact|json] " +
	"[--transport buffered|framed|zlib|http|header] [--service ping|student] [--multiplexed] [--call ping|output] " +
	"[--sizes 128K,256K,512K,1M] [--payload alnum|utf8] [--rounds N] [--interval-ms MS] [--json] " +
	"[--connect-timeout-ms MS] [--timeout-ms MS]"

// record is one call, as printed with --json.
type record struct {
	Endpoint   string  `json:"endpoint"`
	Round      int     `json:"round"`
	Call       string  `json:"call"`
	Size       int     `json:"size"`
	LatencyNs  int64   `json:"latency_ns"`
	CPUNs      int64   `json:"cpu_ns"`
	OK         bool    `json:"ok"`
	Error      *string `json:"error"`
	Reconnects int     `json:"reconnects"`
	// --transport header only.
	RequestID       *string `json:"request_id,omitempty"`
	RequestIDEchoed *bool   `json:"request_id_echoed,omitempty"`
}

type options struct {
	endpoints []string
	wire      cli.Wire
	call      string
	sizes     []int
	payload   string
	rounds    int
	interval  time.Duration
	json      bool
}

func main() {
	log.SetPrefix("ping-client: ")
	log.SetFlags(log.LstdFlags | log.Lmicroseconds)

	fs := cli.NewFlagSet("ping-client", usage)
	host := fs.String("host", "127.0.0.1", "server host")
	port := cli.NewPort(cli.DefaultPort, 1)
	fs.Var(port, "port", "server port")
	endpoints := fs.String("endpoints", "", "H:P,H:P: ping several servers in turn (overrides --host/--port)")
	wire := fs.AddWireFlags()
	call := cli.NewChoice("ping", "ping", "output")
	fs.Var(call, "call", "ping or output (with --service ping)")
	sizes := fs.String("sizes", "128K,256K,512K,1M", "payload sizes in bytes, K = 1024, M = 1048576")
	kind := cli.NewChoice("alnum", "alnum", "utf8")
	fs.Var(kind, "payload", "alnum or utf8")
	rounds := &cli.NonNegative{Value: 1}
	fs.Var(rounds, "rounds", "rounds to run, 0 = forever")
	interval := &cli.NonNegative{}
	fs.Var(interval, "interval-ms", "pause between rounds in ms")
	asJSON := fs.Bool("json", false, "one JSON object per call on stdout")
	connectTimeout := &cli.NonNegative{Value: 2000}
	fs.Var(connectTimeout, "connect-timeout-ms", "TCP connect timeout in ms")
	timeout := &cli.NonNegative{Value: 2000}
	fs.Var(timeout, "timeout-ms", "send and receive timeout of each call in ms")
	fs.Parse(os.Args[1:])
	if err := wire.Check(); err != nil {
		fs.Fail("%v", err)
	}

	opts := options{
		wire:     wire,
		call:     call.Value,
		payload:  kind.Value,
		rounds:   rounds.Value,
		interval: time.Duration(interval.Value) * time.Millisecond,
		json:     *asJSON,
	}
	var err error
	if opts.sizes, err = cli.ParseSizes(*sizes); err != nil {
		fs.Fail("--sizes: %v", err)
	}
	if *endpoints == "" {
		opts.endpoints = []string{net.JoinHostPort(*host, strconv.Itoa(port.Value))}
	} else if opts.endpoints, err = parseEndpoints(*endpoints); err != nil {
		fs.Fail("--endpoints: %v", err)
	}

	conf := wire.Config(time.Duration(connectTimeout.Value)*time.Millisecond, time.Duration(timeout.Value)*time.Millisecond)
	clients := make([]*client, len(opts.endpoints))
	for i, ep := range opts.endpoints {
		clients[i] = reconnect.New(reconnect.Config[services]{
			Addr:             ep,
			Conf:             conf,
			ProtocolFactory:  wire.ProtocolFactory(conf),
			TransportFactory: wire.TransportFactory(conf),
			HTTP:             wire.HTTP(),
			NewClient:        newServices(*wire.Multiplexed),
			Backoff:          reconnect.DefaultBackoff,
			Log:              log.Default(),
		})
	}
	failed := run(opts, clients)
	for _, c := range clients {
		c.Close()
	}
	if failed > 0 {
		log.Printf("%d call(s) failed", failed)
		os.Exit(1)
	}
}

func parseEndpoints(s string) ([]string, error) {
	var eps []string
	for _, ep := range strings.Split(s, ",") {
		h, p, err := net.SplitHostPort(strings.TrimSpace(ep))
		if err != nil {
			return nil, fmt.Errorf("%q is not host:port", ep)
		}
		if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 || h == "" {
			return nil, fmt.Errorf("%q is not host:port", ep)
		}
		eps = append(eps, net.JoinHostPort(h, p))
	}
	return eps, nil
}

// services are the generated clients of one connection.
type services struct {
	ping   *ping.PingServiceClient
	serv   *student.ServClient
	header *thrift.THeaderProtocol // --transport header only
}

type client = reconnect.Client[services]

// newServices builds both clients over a connection's protocol; multiplexed,
// each sends under its service's name.
func newServices(multiplexed bool) func(thrift.TProtocol) services {
	return func(proto thrift.TProtocol) services {
		var pingProto, servProto thrift.TProtocol = proto, proto
		if multiplexed {
			pingProto = thrift.NewTMultiplexedProtocol(proto, "PingService")
			servProto = thrift.NewTMultiplexedProtocol(proto, "Serv")
		}
		header, _ := proto.(*thrift.THeaderProtocol)
		return services{
			ping:   ping.NewPingServiceClient(thrift.NewTStandardClient(pingProto, pingProto)),
			serv:   student.NewServClient(thrift.NewTStandardClient(servProto, servProto)),
			header: header,
		}
	}
}

// job is one call to make and check; its id is nil but with THeader.
type job struct {
	size int
	do   func(id *requestID) error
}

// requestID is one call's x-request-id and what its reply carried.
type requestID struct {
	sent    string
	got     string
	carried bool // the reply had an x-request-id, got
}

func (id *requestID) echoed() bool { return id.carried && id.got == id.sent }

// call runs one call on c. With THeader it sends id as the call's
// x-request-id, on every attempt, and fails the call when the reply
// carries another one.
func call(ctx context.Context, c *client, id *requestID, name string, idempotent bool, do func(context.Context, services) error) error {
	if id == nil {
		return c.Call(name, idempotent, func(sv services) error { return do(ctx, sv) })
	}
	// TStandardClient.Send replaces a THeaderProtocol's write headers with
	// the context's.
	ctx = thrift.SetHeader(ctx, cli.RequestIDHeader, id.sent)
	ctx = thrift.SetWriteHeaderList(ctx, []string{cli.RequestIDHeader})
	err := c.Call(name, idempotent, func(sv services) error {
		// A TMultiplexedProtocol hides the THeaderProtocol from Send, so
		// the header goes on the protocol itself too.
		sv.header.ClearWriteHeaders()
		sv.header.SetWriteHeader(cli.RequestIDHeader, id.sent)
		// The read headers are the last THeader frame's: this call's
		// reply, or, if none was read (a failed call, or a reply in
		// another framing), still the previous reply's, whose id must not
		// count for this call.
		delete(sv.header.GetReadHeaders(), cli.RequestIDHeader)
		err := do(ctx, sv)
		id.got, id.carried = sv.header.GetReadHeaders()[cli.RequestIDHeader]
		return err
	})
	if id.carried && id.got != id.sent {
		return fmt.Errorf("%s mismatch: sent %s, got %s", cli.RequestIDHeader, id.sent, id.got)
	}
	return err
}

// run makes every call of every round and returns how many failed.
func run(opts options, clients []*client) int {
	isStudent := opts.wire.Service.Value == "student"
	rng := rand.New(rand.NewSource(time.Now().UnixNano()))
	var payloads []string
	if !isStudent {
		for _, n := range opts.sizes {
			if opts.payload == "utf8" {
				payloads = append(payloads, payload.UTF8(rng, n))
			} else {
				payloads = append(payloads, payload.Alnum(rng, n))
			}
		}
	}

	ctx := context.Background()
	out := json.NewEncoder(os.Stdout)
	out.SetEscapeHTML(false)
	calls := make([]int, len(clients))
	fails := make([]int, len(clients))
	var sno int32
	callNumber := 0 // of the last call, in its request id
	for round := 1; opts.rounds == 0 || round <= opts.rounds; round++ {
		if round > 1 && opts.interval > 0 {
			time.Sleep(opts.interval)
		}
		for i, c := range clients {
			c := c
			rec := record{Endpoint: opts.endpoints[i], Round: round, Call: opts.call}
			var jobs []job
			if isStudent {
				sno++
				s := newStudent(sno)
				rec.Call = "put"
				jobs = append(jobs, job{len(s.Sname), func(id *requestID) error { return put(ctx, c, id, s) }})
			} else {
				for _, msg := range payloads {
					msg := msg
					jobs = append(jobs, job{len(msg), func(id *requestID) error { return pingOrOutput(ctx, c, id, opts.call, msg) }})
				}
			}
			for _, j := range jobs {
				var id *requestID
				if opts.wire.Header() {
					callNumber++
					id = &requestID{sent: fmt.Sprintf("go-%d-%d", os.Getpid(), callNumber)}
				}
				start, cpuStart := time.Now(), processCPUNs()
				err := j.do(id)
				rec.CPUNs = processCPUNs() - cpuStart
				rec.LatencyNs = time.Since(start).Nanoseconds()
				rec.Size, rec.OK, rec.Error = j.size, err == nil, nil
				if id != nil {
					echoed := id.echoed()
					rec.RequestID, rec.RequestIDEchoed = &id.sent, &echoed
				}
				calls[i]++
				if err != nil {
					fails[i]++
					msg := err.Error()
					rec.Error = &msg
				}
				rec.Reconnects = c.Reconnects()
				report(out, opts.json, rec)
			}
		}
	}
	failed := 0
	for i, c := range clients {
		log.Printf("%s: %d calls, %d failed, %d reconnects", opts.endpoints[i], calls[i], fails[i], c.Reconnects())
		failed += fails[i]
	}
	return failed
}

// clockProcessCPUTimeID is Linux's CLOCK_PROCESS_CPUTIME_ID, which the
// syscall package does not name.
const clockProcessCPUTimeID = 2

// processCPUNs is the CPU time (user + system, every thread) this process
// has used so far: clock_gettime(CLOCK_PROCESS_CPUTIME_ID) as a raw system
// call, since golang.org/x/sys is not a dependency.
func processCPUNs() int64 {
	var ts syscall.Timespec
	_, _, errno := syscall.Syscall(syscall.SYS_CLOCK_GETTIME, clockProcessCPUTimeID, uintptr(unsafe.Pointer(&ts)), 0)
	if errno != 0 {
		log.Fatalf("clock_gettime(CLOCK_PROCESS_CPUTIME_ID): %v", errno)
	}
	return ts.Nano()
}

func newStudent(sno int32) *student.Student {
	return &student.Student{
		Sno:   sno,
		Sname: payload.StudentName(sno),
		Ssex:  sno%2 == 0,
		Sage:  int16(sno % 100),
	}
}

// put is never retried: a broken connection leaves its outcome unknown.
func put(ctx context.Context, c *client, id *requestID, s *student.Student) error {
	var got int32
	err := call(ctx, c, id, "put", false, func(ctx context.Context, sv services) (e error) {
		got, e = sv.serv.Put(ctx, s)
		return e
	})
	if err != nil {
		return err
	}
	if got != s.Sno {
		return fmt.Errorf("wrong reply: got %d, want %d", got, s.Sno)
	}
	return nil
}

// pingOrOutput is idempotent, so retried across reconnects.
func pingOrOutput(ctx context.Context, c *client, id *requestID, method, msg string) error {
	var got, want string
	err := call(ctx, c, id, method, true, func(ctx context.Context, sv services) (e error) {
		if method == "output" {
			got, e = sv.ping.Output(ctx, msg)
		} else {
			got, e = sv.ping.Ping(ctx, msg)
		}
		return e
	})
	if method == "output" {
		want = "You said: " + msg
	} else {
		want = "receive len: " + strconv.Itoa(len(msg))
	}
	if err != nil {
		return err
	}
	if got != want {
		return fmt.Errorf("wrong reply: got %s (%d bytes), want %s (%d bytes)", clip(got), len(got), clip(want), len(want))
	}
	return nil
}

// clip quotes s, shortened for an error message.
func clip(s string) string {
	const max = 48
	if len(s) <= max {
		return strconv.Quote(s)
	}
	return strconv.Quote(s[:max]) + "..."
}

func report(out *json.Encoder, asJSON bool, rec record) {
	if asJSON {
		if err := out.Encode(rec); err != nil {
			log.Fatalf("cannot write to stdout: %v", err)
		}
		return
	}
	status := "ok"
	if !rec.OK {
		status = "FAILED: " + *rec.Error
	}
	if rec.RequestID != nil {
		echoed := "not echoed"
		if *rec.RequestIDEchoed {
			echoed = "echoed"
		}
		status += fmt.Sprintf(" (%s %s, %s)", cli.RequestIDHeader, *rec.RequestID, echoed)
	}
	// The Rust reference client's text line, so outputs can be compared.
	fmt.Printf("%s round %d %s %d B: %.3f ms, reconnects %d: %s\n",
		rec.Endpoint, rec.Round, rec.Call, rec.Size, float64(rec.LatencyNs)/1e6, rec.Reconnects, status)
}
