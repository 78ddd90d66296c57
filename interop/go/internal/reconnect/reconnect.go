// Package reconnect is the client that survives a server restart.
//
// A Thrift client stack (socket, transport, protocol, generated client) is
// never reused once a call on it failed with a transport error: the whole
// stack is dropped and a fresh one is built by the one function that knows
// how (open). Reconnecting backs off exponentially with jitter. Idempotent
// calls (ping, output) are retried on the fresh stack within the reconnect
// budget (at most CallAttempts tries); put is never retried, since its
// outcome is unknown. Application exceptions and wrong replies are never
// retried. A stack dropped after a failed call is aborted (RST), so no
// request bytes of it can arrive later.
package reconnect

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"math/rand"
	"net"
	"strings"
	"syscall"
	"time"

	"github.com/apache/thrift/lib/go/thrift"

	"thriftframe/interop/go/gen/ping"
	"thriftframe/interop/go/gen/student"
)

// Backoff is the reconnect schedule.
type Backoff struct {
	Initial time.Duration // first delay
	Max     time.Duration // cap of one delay
	Budget  time.Duration // give up when a call has spent this long reconnecting
}

// DefaultBackoff: 10 ms, doubling, at most 200 ms, give up after 30 s.
var DefaultBackoff = Backoff{Initial: 10 * time.Millisecond, Max: 200 * time.Millisecond, Budget: 30 * time.Second}

// CallAttempts bounds the tries of one idempotent call, the first
// included, as the Rust reference client does. Without it a server that
// accepts and then drops every connection (a frozen or mismatched one)
// would hold a single call for the whole reconnect budget.
const CallAttempts = 3

// Config describes one endpoint and the stack to build for it.
type Config struct {
	Addr             string // host:port
	Conf             *thrift.TConfiguration
	ProtocolFactory  thrift.TProtocolFactory
	TransportFactory thrift.TTransportFactory
	Multiplexed      bool
	Backoff          Backoff
	Log              *log.Logger
}

// ErrOutcomeUnknown marks a non-idempotent call whose connection broke.
var ErrOutcomeUnknown = errors.New("outcome unknown")

// stack is one connection's worth of Thrift objects, used once.
type stack struct {
	trans thrift.TTransport // outermost transport; closing it closes the socket
	tcp   *net.TCPConn      // the socket under trans, for abort
	ping  *ping.PingServiceClient
	serv  *student.ServClient
}

// Client is a reconnecting client for one endpoint. Not safe for concurrent use.
type Client struct {
	cfg        Config
	st         *stack
	connected  bool // a stack was opened at least once
	reconnects int
	rng        *rand.Rand
}

// New returns a client; it connects on the first call.
func New(cfg Config) *Client {
	if cfg.Log == nil {
		cfg.Log = log.New(io.Discard, "", 0)
	}
	return &Client{cfg: cfg, rng: rand.New(rand.NewSource(time.Now().UnixNano()))}
}

// Reconnects is the number of times a fresh stack replaced a dropped one.
func (c *Client) Reconnects() int { return c.reconnects }

// Close drops the current stack, if any, with an orderly close.
func (c *Client) Close() { c.drop() }

// Ping calls PingService.ping, retried across reconnects.
func (c *Client) Ping(ctx context.Context, msg string) (r string, err error) {
	err = c.do("ping", true, func(s *stack) (e error) {
		r, e = s.ping.Ping(ctx, msg)
		return e
	})
	return r, err
}

// Output calls PingService.output, retried across reconnects.
func (c *Client) Output(ctx context.Context, msg string) (r string, err error) {
	err = c.do("output", true, func(s *stack) (e error) {
		r, e = s.ping.Output(ctx, msg)
		return e
	})
	return r, err
}

// Put calls Serv.put once; a broken connection yields ErrOutcomeUnknown.
func (c *Client) Put(ctx context.Context, st *student.Student) (r int32, err error) {
	err = c.do("put", false, func(s *stack) (e error) {
		r, e = s.serv.Put(ctx, st)
		return e
	})
	return r, err
}

// open builds a complete stack and opens it. Nothing of a failed or dropped
// stack is ever reused.
//
// It dials the socket itself, instead of TSocket.Open, to keep the
// *net.TCPConn for abort: thrift v0.17.0's TSocket.Conn() returns its own
// unexported wrapper, which hides SetLinger.
func (c *Client) open() (*stack, error) {
	conn, err := net.DialTimeout("tcp", c.cfg.Addr, c.cfg.Conf.GetConnectTimeout())
	if err != nil {
		return nil, thrift.NewTTransportExceptionFromError(err)
	}
	tcp, ok := conn.(*net.TCPConn)
	if !ok {
		conn.Close()
		return nil, fmt.Errorf("dial %s: not a TCP connection (%T)", c.cfg.Addr, conn)
	}
	// Already connected: the transports' Open would only answer ALREADY_OPEN.
	sock := thrift.NewTSocketFromConnConf(conn, c.cfg.Conf)
	trans, err := c.cfg.TransportFactory.GetTransport(sock)
	if err != nil {
		conn.Close()
		return nil, err
	}
	proto := c.cfg.ProtocolFactory.GetProtocol(trans)
	var pingProto, servProto thrift.TProtocol = proto, proto
	if c.cfg.Multiplexed {
		pingProto = thrift.NewTMultiplexedProtocol(proto, "PingService")
		servProto = thrift.NewTMultiplexedProtocol(proto, "Serv")
	}
	return &stack{
		trans: trans,
		tcp:   tcp,
		ping:  ping.NewPingServiceClient(thrift.NewTStandardClient(pingProto, pingProto)),
		serv:  student.NewServClient(thrift.NewTStandardClient(servProto, servProto)),
	}, nil
}

func (c *Client) drop() {
	if c.st != nil {
		c.st.trans.Close()
		c.st = nil
	}
}

// abort drops the stack after a failed call. Its request may still sit
// unsent in the kernel's send queue, and an ordinary close would keep
// retransmitting it: a put reported as outcome unknown could then reach a
// restarted (or reachable-again) server seconds later, after newer calls.
// SO_LINGER 0 makes close discard those bytes and send RST.
func (c *Client) abort() {
	if c.st != nil {
		// Best effort: if it fails the close below is an ordinary one.
		_ = c.st.tcp.SetLinger(0)
	}
	c.drop()
}

// retry is the state of one call's reconnecting: its deadline and where
// it stands in the backoff schedule.
type retry struct {
	deadline time.Time
	delay    time.Duration // next delay before jitter
	attempts int
}

func (c *Client) newRetry() *retry {
	return &retry{deadline: time.Now().Add(c.cfg.Backoff.Budget), delay: c.cfg.Backoff.Initial}
}

// wait sleeps the next backoff delay (with equal jitter: half fixed, half
// random), never past the deadline.
func (c *Client) wait(r *retry) {
	sleep := r.delay/2 + time.Duration(c.rng.Int63n(int64(r.delay/2)+1))
	if rest := time.Until(r.deadline); sleep > rest {
		sleep = rest
	}
	if r.delay *= 2; r.delay > c.cfg.Backoff.Max {
		r.delay = c.cfg.Backoff.Max
	}
	if sleep > 0 {
		time.Sleep(sleep)
	}
}

// connect opens a fresh stack, retrying with backoff until r's deadline.
// The first attempt of a call is immediate; every later one, including one
// after a retried call failed again, waits first. One log line per attempt
// (the first connection of the client logs only if it fails).
func (c *Client) connect(r *retry) error {
	for {
		if r.attempts > 0 {
			c.wait(r)
		}
		r.attempts++
		st, err := c.open()
		if err == nil {
			c.st = st
			if c.connected {
				c.reconnects++
				c.cfg.Log.Printf("%s: reconnect attempt %d: connected (reconnects=%d)", c.cfg.Addr, r.attempts, c.reconnects)
			}
			c.connected = true
			return nil
		}
		if !time.Now().Before(r.deadline) {
			c.cfg.Log.Printf("%s: connect attempt %d failed: %v; giving up after %v", c.cfg.Addr, r.attempts, err, c.cfg.Backoff.Budget)
			return fmt.Errorf("cannot connect to %s (%d attempts in %v): %w", c.cfg.Addr, r.attempts, c.cfg.Backoff.Budget, err)
		}
		c.cfg.Log.Printf("%s: connect attempt %d failed: %v", c.cfg.Addr, r.attempts, err)
	}
}

// do runs call on a live stack. A transport error drops the stack; an
// idempotent call is then retried on a fresh one, at most CallAttempts
// times in all and only while the reconnect budget, counted from the
// call's first connection trouble, lasts.
func (c *Client) do(name string, idempotent bool, call func(*stack) error) error {
	var r *retry // created at the first trouble
	for attempt := 1; ; attempt++ {
		// A server that went away while the connection sat idle (restart,
		// idle timeout) has left a FIN or RST behind. IsOpen peeks for it
		// without consuming data, so no call, least of all a put, is sent
		// into a connection that is known to be dead.
		if c.st != nil && !c.st.trans.IsOpen() {
			c.cfg.Log.Printf("%s: the server closed the idle connection; opening a new one", c.cfg.Addr)
			c.drop()
		}
		if c.st == nil {
			if r == nil {
				r = c.newRetry()
			}
			if err := c.connect(r); err != nil {
				return fmt.Errorf("%s: %w", name, err)
			}
		}
		err := call(c.st)
		if err == nil {
			return nil
		}
		if !IsTransportError(err) {
			if desynchronised(err) {
				c.abort() // the stream is in an unknown state
				return fmt.Errorf("%s to %s: unreadable reply: %v", name, c.cfg.Addr, err)
			}
			return fmt.Errorf("%s to %s: the server answered with an error: %w", name, c.cfg.Addr, err)
		}
		c.abort()
		why := c.describe(err)
		if !idempotent {
			c.cfg.Log.Printf("%s: %s failed on a broken connection, not retried: %s", c.cfg.Addr, name, why)
			return fmt.Errorf("%s to %s: %w, the connection broke mid-call and %s is never retried: %s",
				name, c.cfg.Addr, ErrOutcomeUnknown, name, why)
		}
		if r == nil {
			r = c.newRetry()
		}
		if attempt >= CallAttempts || !time.Now().Before(r.deadline) {
			return fmt.Errorf("%s to %s failed after %d attempt(s): %s", name, c.cfg.Addr, attempt, why)
		}
		c.cfg.Log.Printf("%s: %s failed (%s); reconnecting to retry (attempt %d of %d)",
			c.cfg.Addr, name, why, attempt+1, CallAttempts)
	}
}

// describe says what a transport error means in words a person running
// the interop matrix can act on; thrift's own text for these is terse.
func (c *Client) describe(err error) string {
	var te thrift.TTransportException
	switch {
	case errors.As(err, &te) && te.TypeId() == thrift.TIMED_OUT:
		return fmt.Sprintf("no reply within %v (--timeout-ms): %v", c.cfg.Conf.SocketTimeout, err)
	case errors.Is(err, io.EOF) || errors.As(err, &te) && te.TypeId() == thrift.END_OF_FILE:
		return fmt.Sprintf("the server closed the connection (%v)", err)
	}
	return err.Error()
}

// IsTransportError reports whether err means the connection is unusable:
// refused, reset, broken pipe, end of file, timeout.
func IsTransportError(err error) bool {
	var te thrift.TTransportException
	if errors.As(err, &te) { // also found inside a TProtocolException
		return true
	}
	var ne net.Error
	if errors.As(err, &ne) {
		return true
	}
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE) ||
		errors.Is(err, syscall.ECONNREFUSED) {
		return true
	}
	// thrift v0.17's PrependError turns an error that is not a TException
	// into plain text (errors.New(prepend + err.Error())), and the compact
	// protocol's WriteString returns the socket's error as it is: a write
	// that failed inside a field arrives here with its type lost, as
	// "...Args.msg (1) field write error: write tcp ...: i/o timeout".
	// Only the socket's own words are left to recognise it by.
	msg := err.Error()
	for _, socketError := range []string{
		"i/o timeout", "connection reset by peer", "broken pipe", "connection refused", ": EOF",
	} {
		if strings.Contains(msg, socketError) {
			return true
		}
	}
	return false
}

// desynchronised reports whether err left unread bytes on the stream, so
// the stack must not serve another call. A TApplicationException the
// server sent was read whole; a protocol error or a reply for another
// call was not.
func desynchronised(err error) bool {
	var ae thrift.TApplicationException
	if !errors.As(err, &ae) {
		return true
	}
	switch ae.TypeId() {
	case thrift.WRONG_METHOD_NAME, thrift.BAD_SEQUENCE_ID, thrift.INVALID_MESSAGE_TYPE_EXCEPTION:
		return true
	}
	return false
}
