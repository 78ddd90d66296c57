// Package reconnect is the client that survives a server restart.
//
// A Thrift client stack (socket, transport, protocol, generated client) is
// never reused once a call on it failed with a transport error: the whole
// stack is dropped and a fresh one is built by the one function that knows
// how (open). Reconnecting backs off exponentially with jitter. Idempotent
// calls (ping, output, every ThriftTest request/reply method) are retried
// on the fresh stack within the reconnect budget (at most CallAttempts
// tries); non-idempotent ones (put, testOneway) never are, since their
// outcome is unknown. Application exceptions and wrong replies are never
// retried. A stack dropped after a failed call is aborted (RST), so no
// request bytes of it can arrive later.
//
// The package knows nothing of any service: a Client[T] holds whatever T
// its Config's NewClient builds over a fresh protocol (generated clients,
// multiplexed or not).
package reconnect

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"math/rand"
	"net"
	"net/http"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/apache/thrift/lib/go/thrift"
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
type Config[T any] struct {
	Addr             string // host:port
	Conf             *thrift.TConfiguration
	ProtocolFactory  thrift.TProtocolFactory
	TransportFactory thrift.TTransportFactory // unused with HTTP
	// HTTP: each stack is a THttpClient posting to http://Addr/ through an
	// http.Client of its own (see openHTTP) instead of TransportFactory
	// over one socket.
	HTTP bool
	// NewClient builds the generated client(s) of one stack over its
	// protocol, wrapping it in a TMultiplexedProtocol where needed.
	NewClient func(thrift.TProtocol) T
	Backoff   Backoff
	Log       *log.Logger
}

// ErrOutcomeUnknown marks a non-idempotent call whose connection broke.
var ErrOutcomeUnknown = errors.New("outcome unknown")

// stack is one connection's worth of Thrift objects, used once.
type stack[T any] struct {
	trans   thrift.TTransport // outermost transport
	sockets *sockets          // the TCP connection(s) under trans, for abort
	idle    func()            // HTTP: closes the http.Transport's idle connections
	client  T
}

// sockets are the TCP connections of one stack: the one socket of a plain
// stack, or every connection a stack's http.Transport has open (a server
// that closes after each response, like Python's HTTP/1.0 one, makes one
// per call).
type sockets struct {
	mu    sync.Mutex
	open  map[*trackedConn]bool
	spare *trackedConn // the connection open dialed, until an HTTP transport takes it
}

func newSockets(tcp *net.TCPConn) *sockets {
	s := &sockets{open: map[*trackedConn]bool{}}
	s.spare = s.track(tcp)
	return s
}

// trackedConn leaves its set when it is closed.
type trackedConn struct {
	*net.TCPConn
	set *sockets
}

func (c *trackedConn) Close() error {
	c.set.mu.Lock()
	delete(c.set.open, c)
	c.set.mu.Unlock()
	return c.TCPConn.Close()
}

func (s *sockets) track(tcp *net.TCPConn) *trackedConn {
	c := &trackedConn{TCPConn: tcp, set: s}
	s.mu.Lock()
	s.open[c] = true
	s.mu.Unlock()
	return c
}

// dial is the http.Transport's DialContext: the connection open made
// first, then fresh ones.
func (s *sockets) dial(timeout time.Duration) func(context.Context, string, string) (net.Conn, error) {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		s.mu.Lock()
		spare := s.spare
		s.spare = nil
		s.mu.Unlock()
		if spare != nil {
			return spare, nil
		}
		conn, err := (&net.Dialer{Timeout: timeout}).DialContext(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		tcp, ok := conn.(*net.TCPConn)
		if !ok {
			conn.Close()
			return nil, fmt.Errorf("dial %s: not a TCP connection (%T)", addr, conn)
		}
		return s.track(tcp), nil
	}
}

// close closes every connection, with an RST (SO_LINGER 0) if abort.
func (s *sockets) close(abort bool) {
	s.mu.Lock()
	conns := make([]*trackedConn, 0, len(s.open))
	for c := range s.open {
		conns = append(conns, c)
	}
	s.spare = nil
	s.mu.Unlock()
	for _, c := range conns {
		if abort {
			// Best effort: if it fails the close is an ordinary one.
			_ = c.SetLinger(0)
		}
		c.Close()
	}
}

// Client is a reconnecting client for one endpoint. Not safe for concurrent use.
type Client[T any] struct {
	cfg        Config[T]
	st         *stack[T]
	connected  bool // a stack was opened at least once
	reconnects int
	rng        *rand.Rand
}

// New returns a client; it connects on the first call (or Connect).
func New[T any](cfg Config[T]) *Client[T] {
	if cfg.Log == nil {
		cfg.Log = log.New(io.Discard, "", 0)
	}
	return &Client[T]{cfg: cfg, rng: rand.New(rand.NewSource(time.Now().UnixNano()))}
}

// Reconnects is the number of times a fresh stack replaced a dropped one.
func (c *Client[T]) Reconnects() int { return c.reconnects }

// Close drops the current stack, if any, with an orderly close.
func (c *Client[T]) Close() { c.drop() }

// Connect opens a stack now, unless one is open, with backoff within the
// reconnect budget; calls connect on their own when they need to.
func (c *Client[T]) Connect() error {
	if c.st != nil {
		return nil
	}
	return c.connect(c.newRetry())
}

// Call runs call on a live stack's client. idempotent calls are retried
// across reconnects; the others fail with ErrOutcomeUnknown when their
// connection breaks. name is for messages.
func (c *Client[T]) Call(name string, idempotent bool, call func(T) error) error {
	return c.do(name, idempotent, func(s *stack[T]) error { return call(s.client) })
}

// open builds a complete stack and opens it. Nothing of a failed or dropped
// stack is ever reused.
//
// It dials the socket itself, instead of TSocket.Open, to keep the
// *net.TCPConn for abort: thrift v0.17.0's TSocket.Conn() returns its own
// unexported wrapper, which hides SetLinger.
func (c *Client[T]) open() (*stack[T], error) {
	conn, err := net.DialTimeout("tcp", c.cfg.Addr, c.cfg.Conf.GetConnectTimeout())
	if err != nil {
		return nil, thrift.NewTTransportExceptionFromError(err)
	}
	tcp, ok := conn.(*net.TCPConn)
	if !ok {
		conn.Close()
		return nil, fmt.Errorf("dial %s: not a TCP connection (%T)", c.cfg.Addr, conn)
	}
	if c.cfg.HTTP {
		return c.openHTTP(tcp)
	}
	// Already connected: the transports' Open would only answer ALREADY_OPEN.
	sock := thrift.NewTSocketFromConnConf(conn, c.cfg.Conf)
	trans, err := c.cfg.TransportFactory.GetTransport(sock)
	if err != nil {
		conn.Close()
		return nil, err
	}
	proto := c.cfg.ProtocolFactory.GetProtocol(trans)
	return &stack[T]{trans: trans, sockets: newSockets(tcp), client: c.cfg.NewClient(proto)}, nil
}

// openHTTP builds an HTTP stack: thrift's THttpClient (each Flush is one
// POST to http://Addr/, Content-Type application/x-thrift) over an
// http.Client of the stack's own, so no connection of a dropped stack is
// ever reused. Its Timeout is --timeout-ms for the whole call (request and
// reply body); its transport dials with --connect-timeout-ms, keeps the
// connection alive between calls where the server does, and hands the
// first request the connection open has just made, so a server that
// refuses connections is retried with backoff like on the other
// transports. No proxy from the environment. Otherwise net/http's
// defaults: it asks for gzip (Accept-Encoding: gzip) and inflates a
// gzipped reply.
func (c *Client[T]) openHTTP(tcp *net.TCPConn) (*stack[T], error) {
	socks := newSockets(tcp)
	tr := &http.Transport{
		DialContext:     socks.dial(c.cfg.Conf.GetConnectTimeout()),
		MaxConnsPerHost: 1, // one call at a time: one connection
	}
	hc := &http.Client{Transport: tr, Timeout: c.cfg.Conf.GetSocketTimeout()}
	trans, err := thrift.NewTHttpClientWithOptions("http://"+c.cfg.Addr+"/", thrift.THttpClientOptions{Client: hc})
	if err != nil {
		socks.close(false)
		return nil, err
	}
	proto := c.cfg.ProtocolFactory.GetProtocol(trans)
	return &stack[T]{trans: trans, sockets: socks, idle: tr.CloseIdleConnections, client: c.cfg.NewClient(proto)}, nil
}

// close drops the stack's transport and sockets.
func (s *stack[T]) close(abort bool) {
	// The sockets first. TZlibTransport.Close would otherwise write its
	// stream's end into a connection being thrown away (and block on a
	// frozen peer), and it returns before closing the socket at all when
	// its zlib reader has failed (a reset, a timeout). THttpClient.Close
	// reads the rest of an unread reply body.
	s.sockets.close(abort)
	s.trans.Close()
	if s.idle != nil {
		s.idle()
	}
}

func (c *Client[T]) drop() {
	if c.st != nil {
		c.st.close(false)
		c.st = nil
	}
}

// abort drops the stack after a failed call. Its request may still sit
// unsent in the kernel's send queue, and an ordinary close would keep
// retransmitting it: a put reported as outcome unknown could then reach a
// restarted (or reachable-again) server seconds later, after newer calls.
// SO_LINGER 0 makes close discard those bytes and send RST.
func (c *Client[T]) abort() {
	if c.st != nil {
		c.st.close(true)
		c.st = nil
	}
}

// retry is the state of one call's reconnecting: its deadline and where
// it stands in the backoff schedule.
type retry struct {
	deadline time.Time
	delay    time.Duration // next delay before jitter
	attempts int
}

func (c *Client[T]) newRetry() *retry {
	return &retry{deadline: time.Now().Add(c.cfg.Backoff.Budget), delay: c.cfg.Backoff.Initial}
}

// wait sleeps the next backoff delay (with equal jitter: half fixed, half
// random), never past the deadline.
func (c *Client[T]) wait(r *retry) {
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
func (c *Client[T]) connect(r *retry) error {
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
func (c *Client[T]) do(name string, idempotent bool, call func(*stack[T]) error) error {
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
		if c.cfg.HTTP && notSent(err) {
			// The http.Transport found its kept-alive connection closed
			// (the server restarted between calls) and could not dial a
			// new one: no byte of this request left, so even a put goes
			// again, on a fresh stack, after connect's backoff.
			c.cfg.Log.Printf("%s: %s not sent (%v); reconnecting", c.cfg.Addr, name, err)
			c.drop()
			if r == nil {
				r = c.newRetry()
			}
			if !time.Now().Before(r.deadline) {
				return fmt.Errorf("%s to %s: %w", name, c.cfg.Addr, err)
			}
			attempt--
			continue
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
			return &OutcomeUnknownError{Call: name, Addr: c.cfg.Addr, Why: why}
		}
		if r == nil {
			r = c.newRetry()
		}
		if attempt >= CallAttempts || !time.Now().Before(r.deadline) {
			return fmt.Errorf("%s to %s failed after %d attempt(s): %w", name, c.cfg.Addr, attempt, why)
		}
		c.cfg.Log.Printf("%s: %s failed (%s); reconnecting to retry (attempt %d of %d)",
			c.cfg.Addr, name, why, attempt+1, CallAttempts)
	}
}

// notSent reports an HTTP call that failed dialing its connection, so
// sent nothing.
func notSent(err error) bool {
	var op *net.OpError
	return errors.As(err, &op) && op.Op == "dial"
}

// described is a transport error in better words, the error kept beneath.
type described struct {
	text string
	err  error
}

func (d described) Error() string { return d.text }
func (d described) Unwrap() error { return d.err }

// OutcomeUnknownError is a non-idempotent call whose connection broke:
// errors.Is finds ErrOutcomeUnknown in it, errors.As the transport error.
type OutcomeUnknownError struct {
	Call, Addr string
	Why        error // the transport error
}

func (e *OutcomeUnknownError) Error() string {
	return fmt.Sprintf("%s to %s: %v, the connection broke mid-call and %s is never retried: %v",
		e.Call, e.Addr, ErrOutcomeUnknown, e.Call, e.Why)
}

// Is reports ErrOutcomeUnknown.
func (e *OutcomeUnknownError) Is(target error) bool { return target == ErrOutcomeUnknown }

func (e *OutcomeUnknownError) Unwrap() error { return e.Why }

// describe says what a transport error means in words a person running
// the interop matrix can act on; thrift's own text for these is terse.
func (c *Client[T]) describe(err error) error {
	switch {
	case IsTimeout(err):
		return described{fmt.Sprintf("no reply within %v (--timeout-ms): %v", c.cfg.Conf.SocketTimeout, err), err}
	case errors.Is(err, io.EOF) || isTransport(err, thrift.END_OF_FILE):
		return described{fmt.Sprintf("the server closed the connection (%v)", err), err}
	}
	return err
}

func isTransport(err error, typeID int) bool {
	var te thrift.TTransportException
	return errors.As(err, &te) && te.TypeId() == typeID
}

// IsTimeout reports whether a failed call failed by timing out.
func IsTimeout(err error) bool {
	var ne net.Error
	return isTransport(err, thrift.TIMED_OUT) || errors.As(err, &ne) && ne.Timeout() ||
		strings.Contains(err.Error(), "i/o timeout") // see IsTransportError on flattened errors
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
// server sent, or an exception the IDL declares, was read whole; a
// protocol error or a reply for another call was not.
func desynchronised(err error) bool {
	var declared thrift.TException
	if errors.As(err, &declared) && declared.TExceptionType() == thrift.TExceptionTypeCompiled {
		return false
	}
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
