// Package cli holds what the Go server and client share on the command line:
// a flag set that fails the way interop/SPEC.md asks (one line on stderr,
// exit status 2), the enumerated flag values, and the Thrift protocol and
// transport factories those values stand for.
package cli

import (
	"compress/zlib"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/apache/thrift/lib/go/thrift"
)

// ExitUsage is the exit status for usage errors and unsupported combinations.
const ExitUsage = 2

// DefaultPort is the Go peer's default port (interop/SPEC.md).
const DefaultPort = 9092

// FlagSet wraps flag.FlagSet so that a parse error is reported on one line.
// Both -flag and --flag spellings are accepted, as `flag` always does.
type FlagSet struct {
	*flag.FlagSet
	prog  string
	usage string
}

// NewFlagSet returns a flag set for program prog; usage is the synopsis
// printed by --help.
func NewFlagSet(prog, usage string) *FlagSet {
	fs := flag.NewFlagSet(prog, flag.ContinueOnError)
	fs.SetOutput(io.Discard) // errors are printed by Parse, on one line
	fs.Usage = func() {}
	return &FlagSet{FlagSet: fs, prog: prog, usage: usage}
}

// Parse parses args. --help prints the flags on stdout and exits 0; any
// other problem (unknown flag, bad value, stray argument) exits 2 after one
// line on stderr.
func (f *FlagSet) Parse(args []string) {
	err := f.FlagSet.Parse(args)
	if errors.Is(err, flag.ErrHelp) {
		f.SetOutput(os.Stdout)
		fmt.Fprintf(os.Stdout, "usage: %s\n", f.usage)
		f.PrintDefaults()
		os.Exit(0)
	}
	if err != nil {
		f.Fail("%v", err)
	}
	if f.NArg() > 0 {
		f.Fail("unexpected argument %q", f.Arg(0))
	}
}

// Fail prints one usage error line on stderr and exits with status 2.
func (f *FlagSet) Fail(format string, a ...interface{}) {
	msg := strings.ReplaceAll(fmt.Sprintf(format, a...), "\n", " ")
	fmt.Fprintf(os.Stderr, "%s: %s (see --help)\n", f.prog, msg)
	os.Exit(ExitUsage)
}

// Choice is a string flag restricted to a fixed set of values.
type Choice struct {
	Value   string
	allowed []string
}

// NewChoice returns a Choice with default def, accepting only allowed.
func NewChoice(def string, allowed ...string) *Choice {
	return &Choice{Value: def, allowed: allowed}
}

func (c *Choice) String() string {
	if c == nil {
		return ""
	}
	return c.Value
}

// Set implements flag.Value.
func (c *Choice) Set(s string) error {
	for _, a := range c.allowed {
		if s == a {
			c.Value = s
			return nil
		}
	}
	return fmt.Errorf("must be one of %s", strings.Join(c.allowed, "|"))
}

// Port is a TCP port flag; min is 0 for servers (ephemeral) and 1 for clients.
type Port struct {
	Value int
	min   int
}

// NewPort returns a port flag with default def accepting min..65535.
func NewPort(def, min int) *Port { return &Port{Value: def, min: min} }

func (p *Port) String() string {
	if p == nil {
		return ""
	}
	return strconv.Itoa(p.Value)
}

// Set implements flag.Value.
func (p *Port) Set(s string) error {
	n, err := strconv.Atoi(s)
	if err != nil || n < p.min || n > 65535 {
		return fmt.Errorf("must be a port number %d..65535", p.min)
	}
	p.Value = n
	return nil
}

// NonNegative is an integer flag that rejects negative values.
type NonNegative struct{ Value int }

func (n *NonNegative) String() string {
	if n == nil {
		return ""
	}
	return strconv.Itoa(n.Value)
}

// Set implements flag.Value.
func (n *NonNegative) Set(s string) error {
	v, err := strconv.Atoi(s)
	if err != nil || v < 0 {
		return errors.New("must be an integer >= 0")
	}
	n.Value = v
	return nil
}

// Wire is the protocol/transport pair both ends must agree on.
type Wire struct {
	Protocol    *Choice
	Transport   *Choice
	Service     *Choice
	Multiplexed *bool
}

var transports = []string{"buffered", "framed", "zlib", "http", "header"}

const transportHelp = "buffered, framed, zlib, http or header (THeader; binary or compact inside)"

// AddWireFlags registers --protocol, --transport, --service and --multiplexed.
func (f *FlagSet) AddWireFlags() Wire {
	w := Wire{
		Protocol:  NewChoice("compact", "binary", "compact", "json"),
		Transport: NewChoice("buffered", transports...),
		Service:   NewChoice("ping", "ping", "student"),
	}
	f.Var(w.Protocol, "protocol", "binary (strict), compact or json")
	f.Var(w.Transport, "transport", transportHelp)
	f.Var(w.Service, "service", "ping or student")
	w.Multiplexed = f.Bool("multiplexed", false, `multiplexed processor with "PingService" and "Serv"`)
	return w
}

// AddCrossTestWireFlags registers the wire flags of Apache Thrift's cross
// test (interop/SPEC.md, "ThriftTest"): --protocol
// binary|compact|json|multi|multic|multij (default binary), --transport and
// --multiplexed. Call ResolveCrossTest after Parse.
func (f *FlagSet) AddCrossTestWireFlags() Wire {
	w := Wire{
		Protocol:  NewChoice("binary", "binary", "compact", "json", "multi", "multic", "multij"),
		Transport: NewChoice("buffered", transports...),
	}
	f.Var(w.Protocol, "protocol", "binary (strict), compact, json; multi / multic / multij = binary / compact / json multiplexed")
	f.Var(w.Transport, "transport", transportHelp)
	w.Multiplexed = f.Bool("multiplexed", false, `multiplexed, with "ThriftTest" and "SecondService"`)
	return w
}

// ResolveCrossTest turns upstream's multi, multic and multij into binary,
// compact and json with Multiplexed set.
func (w Wire) ResolveCrossTest() {
	switch w.Protocol.Value {
	case "multi":
		w.Protocol.Value, *w.Multiplexed = "binary", true
	case "multic":
		w.Protocol.Value, *w.Multiplexed = "compact", true
	case "multij":
		w.Protocol.Value, *w.Multiplexed = "json", true
	}
}

// Check reports a flag combination the Go peer cannot serve: THeader
// carries binary or compact only (thrift-go's THeaderProtocolID has no
// JSON). Call it before ResolveCrossTest, so the message names the
// --protocol value given.
func (w Wire) Check() error {
	if w.Header() && (w.Protocol.Value == "json" || w.Protocol.Value == "multij") {
		return fmt.Errorf("--transport header takes a binary or compact protocol, not %s", w.Protocol.Value)
	}
	return nil
}

// Header reports --transport header: thrift's THeaderTransport directly
// on the socket, with THeaderProtocol over it.
func (w Wire) Header() bool { return w.Transport.Value == "header" }

// RequestIDHeader is the THeader info header a ping client sends with every
// call and a server copies into its reply (interop/SPEC.md, "Header
// transport").
const RequestIDHeader = "x-request-id"

// HTTP reports --transport http: the library's THttpClient on the client,
// its NewThriftHandlerFunc in a net/http server on the server. Neither is a
// TTransportFactory over a socket, so both ends build it themselves.
func (w Wire) HTTP() bool { return w.Transport.Value == "http" }

// BufferSize is the buffer of the buffered transport, each direction.
const BufferSize = 64 * 1024

// ZlibLevel is the zlib transport's compression level: zlib's own default
// (6), as C++'s TZlibTransport uses; the Go library has no default.
const ZlibLevel = zlib.DefaultCompression

// Config returns the one TConfiguration a whole stack (socket, transports,
// protocol) shares. Thrift propagates a factory's configuration down to the
// transports beneath it, so a second configuration without the timeouts
// would silently clear them.
//
// With THeader it also carries the protocol id a client writes its frames
// with; a server answers each frame in the protocol of the request instead.
func (w Wire) Config(connectTimeout, socketTimeout time.Duration) *thrift.TConfiguration {
	conf := &thrift.TConfiguration{
		MaxFrameSize:       thrift.DEFAULT_MAX_FRAME_SIZE,
		MaxMessageSize:     thrift.DEFAULT_MAX_MESSAGE_SIZE,
		ConnectTimeout:     connectTimeout,
		SocketTimeout:      socketTimeout,
		TBinaryStrictRead:  thrift.BoolPtr(true),
		TBinaryStrictWrite: thrift.BoolPtr(true),
	}
	if w.Header() {
		id := thrift.THeaderProtocolBinary
		if w.Protocol.Value == "compact" {
			id = thrift.THeaderProtocolCompact
		}
		conf.THeaderProtocolID = &id
	}
	return conf
}

// ProtocolFactory returns the factory for w.Protocol; binary is strict.
// The JSON factory takes no configuration: thrift-go's TJSONProtocol checks
// no string, container or message size.
//
// With THeader the factory is THeaderProtocol's, whatever w.Protocol: the
// protocol inside the frames comes from conf (Config).
func (w Wire) ProtocolFactory(conf *thrift.TConfiguration) thrift.TProtocolFactory {
	if w.Header() {
		return thrift.NewTHeaderProtocolFactoryConf(conf)
	}
	switch w.Protocol.Value {
	case "binary":
		return thrift.NewTBinaryProtocolFactoryConf(conf)
	case "json":
		return thrift.NewTJSONProtocolFactory()
	}
	return thrift.NewTCompactProtocolFactoryConf(conf)
}

// TransportFactory returns the factory for w.Transport, nil for http (see
// HTTP).
func (w Wire) TransportFactory(conf *thrift.TConfiguration) thrift.TTransportFactory {
	switch w.Transport.Value {
	case "http":
		return nil
	case "header":
		// Directly on the socket: THeaderTransport frames (and, for a
		// zlib request, inflates) by itself and buffers whole frames both
		// ways. THeaderProtocol then uses this transport as it is.
		return thrift.NewTHeaderTransportFactoryConf(nil, conf)
	case "framed":
		// The framed transport reads through its own bufio.Reader and
		// writes whole frames, so it sits directly on the socket.
		return thrift.NewTFramedTransportFactoryConf(thrift.NewTTransportFactory(), conf)
	case "zlib":
		// Directly on the socket too: compress/zlib's reader buffers its
		// input itself, and Flush (a sync flush) ends every message.
		return thrift.NewTZlibTransportFactory(ZlibLevel)
	}
	return thrift.NewTBufferedTransportFactory(BufferSize)
}

// ParseSizes parses a comma-separated list of byte counts with optional
// K (1024) or M (1048576) suffixes; 0 is allowed.
func ParseSizes(s string) ([]int, error) {
	var sizes []int
	for _, part := range strings.Split(s, ",") {
		p := strings.TrimSpace(part)
		mult := 1
		switch {
		case strings.HasSuffix(p, "K") || strings.HasSuffix(p, "k"):
			mult, p = 1024, p[:len(p)-1]
		case strings.HasSuffix(p, "M") || strings.HasSuffix(p, "m"):
			mult, p = 1024*1024, p[:len(p)-1]
		}
		n, err := strconv.Atoi(p)
		if err != nil || n < 0 || n > (1<<31-1)/mult {
			return nil, fmt.Errorf("bad size %q: want N, NK or NM with N >= 0", part)
		}
		sizes = append(sizes, n*mult)
	}
	return sizes, nil
}
