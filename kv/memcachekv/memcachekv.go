// Package memcachekv is the kv backend on memcached, through gomemcache,
// over several servers with ketama consistent hashing.
//
//	store, err := kv.Open(ctx, "memcache://10.0.0.1:11211,10.0.0.2:11211?timeout=200ms")
//	store, err := memcachekv.New([]string{"10.0.0.1:11211", "10.0.0.2:11211"})
//
// # Servers and hashing
//
// gomemcache's own selector is hash mod N: adding a server would move
// almost every key. Selector places servers on a ketama ring
// (libmemcached's layout, 160 points a server), so that adding one of N
// servers moves about 1/N of the keys (measured in internal/hashring: 3 → 4
// servers moves 21.9% of keys; mod N moves 74.9%). A server that is down
// fails only the keys it owns.
//
// # TTL and versions
//
// memcached counts TTLs in whole seconds on a clock that ticks once a
// second: a TTL rounds up to the next second and the item may live up to
// one second longer, never shorter. TTLs over 30 days are sent as absolute
// times, as memcached requires, and cannot end after January 2038. The
// expiry is kept in the item's flags (marked, so that other clients' flags
// are not read as one) so that Get reports the time left. The version is
// memcached's CAS id, and CompareAndSwap is memcached's cas command.
//
// # Context
//
// gomemcache takes no context: a call checks ctx before it starts and is
// bounded by the client's timeout (default 500 ms; ?timeout= or
// WithTimeout), not by ctx's deadline.
//
// # Errors, client and health
//
// A miss is kv.ErrNotFound; refused, reset or timed-out connections and
// server errors are kv.ErrUnavailable; a server run with authentication
// (-Y), which gomemcache cannot do, refuses every call with
// kv.ErrForbidden. Store.As reaches the *memcache.Client. Store.Check
// answers from the Store's calls and, on an idle Store, pings every
// server (bounded by ctx and the client's timeout). Open refuses unknown
// URL parameters.
package memcachekv

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/bradfitz/gomemcache/memcache"

	"github.com/microos/go-os/internal/hashring"
	"github.com/microos/go-os/kv"
)

func init() { kv.Register("memcache", open) }

// Option configures the client New makes.
type Option func(*memcache.Client)

// WithTimeout bounds each call: connect, write and read (default 500 ms).
func WithTimeout(d time.Duration) Option { return func(c *memcache.Client) { c.Timeout = d } }

// WithMaxIdleConns sets how many idle connections are kept per server
// (default 64; gomemcache's own default of 2 makes concurrent callers dial).
func WithMaxIdleConns(n int) Option { return func(c *memcache.Client) { c.MaxIdleConns = n } }

// New returns a Store over the memcached servers at addrs (host:port),
// with a client it owns and closes.
func New(addrs []string, opts []Option, kvOpts ...kv.Option) (kv.Store, error) {
	d, err := newDriver(addrs, opts)
	if err != nil {
		return nil, err
	}
	return kv.New(d, kvOpts...), nil
}

// NewFromClient returns a Store on a client you made (use Selector for
// consistent hashing). The Store does not close it.
func NewFromClient(c *memcache.Client, opts ...kv.Option) kv.Store {
	return kv.New(&driver{c: c}, opts...)
}

func newDriver(addrs []string, opts []Option) (*driver, error) {
	sel, err := NewSelector(addrs...)
	if err != nil {
		return nil, err
	}
	c := memcache.NewFromSelector(sel)
	c.MaxIdleConns = 64
	for _, o := range opts {
		o(c)
	}
	return &driver{c: c, owned: true}, nil
}

// open serves memcache://host1:port1,host2:port2?timeout=200ms&max_idle=64.
func open(_ context.Context, u *url.URL) (kv.Driver, error) {
	var opts []Option
	q := u.Query()
	if v := q.Get("timeout"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			return nil, fmt.Errorf("memcachekv: timeout=%q is not a positive duration", v)
		}
		opts = append(opts, WithTimeout(d))
	}
	for k := range q {
		if k != "timeout" && k != "max_idle" {
			return nil, fmt.Errorf("memcachekv: unknown parameter %q (known: timeout, max_idle)", k)
		}
	}
	if v := q.Get("max_idle"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return nil, fmt.Errorf("memcachekv: max_idle=%q is not a positive number", v)
		}
		opts = append(opts, WithMaxIdleConns(n))
	}
	return newDriver(strings.Split(u.Host, ","), opts)
}

// Selector is a memcache.ServerSelector on a ketama ring.
type Selector struct {
	ring  *hashring.Ring
	addrs []net.Addr
}

// NewSelector resolves addrs (host:port) once and places them on the ring.
func NewSelector(addrs ...string) (*Selector, error) {
	if len(addrs) == 0 {
		return nil, errors.New("memcachekv: no servers")
	}
	s := &Selector{ring: hashring.New(addrs...)}
	for _, a := range addrs {
		if a == "" {
			return nil, fmt.Errorf("memcachekv: empty server address in %q", addrs)
		}
		tcp, err := net.ResolveTCPAddr("tcp", a)
		if err != nil {
			return nil, fmt.Errorf("memcachekv: server %q: %w", a, err)
		}
		s.addrs = append(s.addrs, staticAddr{network: tcp.Network(), str: tcp.String()})
	}
	return s, nil
}

// staticAddr keeps the address's string: gomemcache keys its connection
// pool by addr.String(), which *net.TCPAddr would format (and allocate)
// on every call.
type staticAddr struct{ network, str string }

func (a staticAddr) Network() string { return a.network }
func (a staticAddr) String() string  { return a.str }

// PickServer returns the server that owns key.
func (s *Selector) PickServer(key string) (net.Addr, error) {
	if len(s.addrs) == 1 {
		return s.addrs[0], nil // one server needs no hashing (as gomemcache's own list)
	}
	return s.addrs[s.ring.Locate(key)], nil
}

// Each calls f for every server.
func (s *Selector) Each(f func(net.Addr) error) error {
	for _, a := range s.addrs {
		if err := f(a); err != nil {
			return err
		}
	}
	return nil
}

type driver struct {
	c     *memcache.Client
	owned bool
}

func (d *driver) Get(ctx context.Context, key string) (kv.Item, error) {
	if err := ctx.Err(); err != nil {
		return kv.Item{}, err
	}
	mi, err := d.c.Get(key)
	if err != nil {
		return kv.Item{}, mapErr(err)
	}
	return item(mi), nil
}

func (d *driver) GetMulti(ctx context.Context, keys []string, found func(int, kv.Item)) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	m, err := d.c.GetMulti(keys)
	if err != nil {
		return mapErr(err)
	}
	for i, k := range keys {
		if mi, ok := m[k]; ok {
			found(i, item(mi))
		}
	}
	return nil
}

func (d *driver) Set(ctx context.Context, it kv.Item) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	mi, err := toMemcache(it)
	if err != nil {
		return err
	}
	return mapErr(d.c.Set(mi))
}

func (d *driver) Add(ctx context.Context, it kv.Item) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	mi, err := toMemcache(it)
	if err != nil {
		return err
	}
	err = d.c.Add(mi)
	if errors.Is(err, memcache.ErrNotStored) {
		return kv.ErrExists
	}
	return mapErr(err)
}

func (d *driver) CompareAndSwap(ctx context.Context, it kv.Item) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	mi, err := toMemcache(it)
	if err != nil {
		return err
	}
	mi.CasID = it.Version
	err = d.c.CompareAndSwap(mi)
	if errors.Is(err, memcache.ErrCASConflict) {
		return kv.ErrConflict
	}
	return mapErr(err)
}

func (d *driver) Delete(ctx context.Context, key string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	err := d.c.Delete(key)
	if errors.Is(err, memcache.ErrCacheMiss) {
		return nil
	}
	return mapErr(err)
}

// Ping asks every server for its version, for Store.Check on an idle
// Store. gomemcache takes no ctx: the ping runs on its own goroutine,
// bounded by the client's timeout, and Ping returns when ctx ends if that
// comes first.
func (d *driver) Ping(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	done := make(chan error, 1)
	go func() { done <- d.c.Ping() }()
	select {
	case err := <-done:
		return mapErr(err)
	case <-ctx.Done():
		return kv.Unavailable(ctx.Err())
	}
}

// System names the backend in traces and logs.
func (d *driver) System() string { return "memcached" }

// As reaches the gomemcache client through Store.As (*memcache.Client).
func (d *driver) As(target any) bool {
	if t, ok := target.(**memcache.Client); ok {
		*t = d.c
		return true
	}
	return false
}

func (d *driver) Close() error {
	if d.owned {
		return d.c.Close()
	}
	return nil
}

// relativeLimit is memcached's: a larger expiration is a Unix time.
const relativeLimit = 30 * 24 * time.Hour

// ttlFlag marks the flags of an item whose expiry (Unix seconds, in the
// other 31 bits) this package wrote: another client's flags are not read
// as a time.
const ttlFlag = 1 << 31

// toMemcache converts a write. memcached's clock ticks once a second, so an
// exptime of N seconds lives between N-1 and N: the server is sent one
// second more, so that an item never lives shorter than its TTL. The flags
// carry the expiry asked for, which Get reports.
func toMemcache(it kv.Item) (*memcache.Item, error) {
	mi := &memcache.Item{Key: it.Key, Value: it.Value}
	if it.TTL <= 0 {
		return mi, nil
	}
	ttl := kv.CeilTTL(it.TTL, time.Second)
	expires := time.Now().Add(ttl).Unix()
	if expires+1 > math.MaxInt32 {
		return nil, fmt.Errorf("%w: TTL %s ends after 2038, which memcached cannot express", kv.ErrInvalidItem, it.TTL)
	}
	mi.Flags = ttlFlag | uint32(expires)
	if ttl > relativeLimit {
		mi.Expiration = int32(expires + 1)
	} else {
		mi.Expiration = int32(ttl/time.Second) + 1
	}
	return mi, nil
}

func item(mi *memcache.Item) kv.Item {
	it := kv.Item{Value: mi.Value, Version: mi.CasID}
	if it.Value == nil {
		it.Value = []byte{}
	}
	if mi.Flags&ttlFlag != 0 {
		it.TTL = kv.TimeLeft(time.Unix(int64(mi.Flags&^ttlFlag), 0))
	}
	return it
}

// mapErr maps gomemcache's errors onto kv's sentinels.
func mapErr(err error) error {
	var cte *memcache.ConnectTimeoutError
	var netErr net.Error
	switch {
	case err == nil:
		return nil
	case errors.Is(err, memcache.ErrCacheMiss):
		return kv.ErrNotFound
	case errors.Is(err, memcache.ErrNotStored):
		return kv.ErrExists
	case errors.Is(err, memcache.ErrMalformedKey):
		return kv.Wrap(kv.ErrInvalidKey, err)
	case errors.As(err, &cte), errors.As(err, &netErr), errors.Is(err, memcache.ErrNoServers),
		errors.Is(err, net.ErrClosed), errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		// Refused, reset, timed out, or the connection ended mid-reply.
		return kv.Unavailable(err)
	case isAuthRefusal(err.Error()):
		// memcached run with -Y (text-protocol auth) refuses a client that
		// has not authenticated, or whose credentials are wrong; gomemcache
		// reports it only as text. Retrying cannot help.
		return kv.Wrap(kv.ErrForbidden, err)
	case strings.Contains(err.Error(), "SERVER_ERROR object too large"):
		// gomemcache reports the server's refusal only as text.
		return kv.Wrap(kv.ErrTooLarge, err)
	}
	// Any other SERVER_ERROR (out of memory, ...) or an answer gomemcache
	// could not parse: the server cannot serve this now.
	return kv.Unavailable(err)
}

// isAuthRefusal tells memcached's refusals of an unauthenticated client
// ("CLIENT_ERROR unauthenticated", "... authentication failure", "... bad
// authentication token format").
func isAuthRefusal(msg string) bool {
	i := strings.Index(msg, "CLIENT_ERROR ")
	return i >= 0 && (strings.Contains(msg[i:], "authenticat"))
}
