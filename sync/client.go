package sync

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	gosync "sync"
	"time"

	"github.com/microos/go-os/internal/backoff"
	"github.com/microos/go-os/internal/health"
	"github.com/microos/go-os/internal/lifecycle"
)

// MaxNameLen bounds lock and election names.
const MaxNameLen = 200

// Client takes locks and runs elections on one backend. It is safe for
// concurrent use. Make one with New, Open, NewMemory or an adapter's
// constructor; Close it to release every lease it holds.
type Client struct {
	d      Driver
	o      options
	health health.Tracker

	mu       gosync.Mutex
	closed   bool
	leases   map[*Lease]struct{}
	leading  map[string]*Leadership // by election
	stop     <-chan struct{}        // closed by Shutdown
	stopCtx  context.Context        // cancelled by Shutdown
	halt     context.CancelFunc
	wg       gosync.WaitGroup // renewers, observers, calls in flight
	shutOnce gosync.Once
	shutErr  error
}

// New returns the Client in front of a backend's driver. Close closes d.
func New(d Driver, opts ...Option) *Client {
	o := defaults().with(opts)
	c := &Client{d: d, o: o, leases: map[*Lease]struct{}{}, leading: map[string]*Leadership{}}
	c.stopCtx, c.halt = context.WithCancel(context.Background())
	c.stop = c.stopCtx.Done()
	c.health.Now = o.now
	return c
}

// Driver returns the backend's driver.
func (c *Client) Driver() Driver { return c.d }

// As reaches the backend's client: *redis.UniversalClient for redissync,
// **api.Client for consulsync, **Memory for the memory backend.
func (c *Client) As(i any) bool {
	if a, ok := c.d.(interface{ As(any) bool }); ok {
		return a.As(i)
	}
	return false
}

// enter admits a call unless the Client is closed; exit must follow.
func (c *Client) enter() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return false
	}
	c.wg.Add(1)
	return true
}

func (c *Client) exit() { c.wg.Done() }

// callCtx is ctx, also cancelled when the Client shuts down.
func (c *Client) callCtx(ctx context.Context) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancel(ctx)
	unhook := context.AfterFunc(c.stopCtx, cancel)
	return ctx, func() { unhook(); cancel() }
}

func (c *Client) observe(err error) {
	switch {
	case err == nil, errors.Is(err, ErrLocked), errors.Is(err, ErrNotHeld), errors.Is(err, ErrNoLeader):
		c.health.Success()
	case backendFault(err):
		c.health.Failure(err)
	}
}

func validName(name string) error {
	if name == "" || len(name) > MaxNameLen {
		return Wrap(ErrInvalid, fmt.Errorf("name of %d bytes (want 1 to %d)", len(name), MaxNameLen))
	}
	for i := 0; i < len(name); i++ {
		b := name[i]
		if !(b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z' || b >= '0' && b <= '9' || b == '-' || b == '_' || b == '.' || b == ':' || b == '/') {
			return Wrap(ErrInvalid, fmt.Errorf("name %q: byte %q is not a letter, digit, or one of - _ . : /", name, b))
		}
	}
	return nil
}

func errf(format string, args ...any) error { return fmt.Errorf(format, args...) }

func newOwner() string {
	var b [16]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// Lock blocks until it holds the lock name or ctx is done, retrying with
// capped exponential backoff and jitter (WithRetry) while another holds it
// or the backend is unavailable. The Lease it returns is renewed in the
// background until Unlock or loss.
func (c *Client) Lock(ctx context.Context, name string, opts ...Option) (*Lease, error) {
	return c.lock(ctx, "lock", name, true, opts)
}

// TryLock takes the lock if it is free and returns ErrLocked at once if
// another holds it.
func (c *Client) TryLock(ctx context.Context, name string, opts ...Option) (*Lease, error) {
	return c.lock(ctx, "trylock", name, false, opts)
}

func (c *Client) lock(ctx context.Context, op, name string, wait bool, opts []Option) (*Lease, error) {
	if err := validName(name); err != nil {
		return nil, &OpError{Op: op, Name: name, Err: err}
	}
	o := c.o.with(opts)
	if err := o.validate(); err != nil {
		return nil, &OpError{Op: op, Name: name, Err: err}
	}
	if !c.enter() {
		return nil, &OpError{Op: op, Name: name, Err: ErrClosed}
	}
	defer c.exit()
	ctx, cancel := c.callCtx(ctx)
	defer cancel()
	b := backoff.Backoff{Min: o.retryMin, Max: o.retryMax}
	for {
		if err := ctx.Err(); err != nil {
			return nil, &OpError{Op: op, Name: name, Err: c.ctxErr(ctx)}
		}
		l, err := c.acquire(ctx, name, o)
		if err == nil {
			return l, nil
		}
		if !wait || !(errors.Is(err, ErrLocked) || errors.Is(err, ErrUnavailable)) || ctx.Err() != nil {
			if ctx.Err() != nil {
				err = c.ctxErr(ctx)
			}
			return nil, &OpError{Op: op, Name: name, Err: err}
		}
		if !backoff.Sleep(ctx, b.Next()) {
			return nil, &OpError{Op: op, Name: name, Err: c.ctxErr(ctx)}
		}
	}
}

// ctxErr is why a call's ctx ended: ErrClosed when Shutdown did it.
func (c *Client) ctxErr(ctx context.Context) error {
	select {
	case <-c.stop:
		return ErrClosed
	default:
		return ctx.Err()
	}
}

func (c *Client) acquire(ctx context.Context, name string, o options) (*Lease, error) {
	req := Request{Name: name, Owner: newOwner(), Value: o.value, TTL: o.ttl, LockDelay: o.lockDelay}
	sent := o.now()
	g, err := c.d.Acquire(ctx, req)
	c.observe(err)
	if err != nil {
		return nil, err
	}
	g.Owner = req.Owner
	l := newLease(c, name, g, o, sent)
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		rctx, cancel := context.WithTimeout(context.Background(), lifecycle.CloseTimeout)
		defer cancel()
		c.d.Release(rctx, name, g)
		return nil, ErrClosed
	}
	c.leases[l] = struct{}{}
	c.wg.Add(1)
	c.mu.Unlock()
	l.start()
	return l, nil
}

func (c *Client) forget(l *Lease) {
	c.mu.Lock()
	delete(c.leases, l)
	c.mu.Unlock()
}

// Holder says who holds the lock name (its WithValue metadata and
// fencing token); ErrNoLeader when it is free.
func (c *Client) Holder(ctx context.Context, name string) (Holder, error) {
	if err := validName(name); err != nil {
		return Holder{}, &OpError{Op: "holder", Name: name, Err: err}
	}
	if !c.enter() {
		return Holder{}, &OpError{Op: "holder", Name: name, Err: ErrClosed}
	}
	defer c.exit()
	h, err := c.d.Holder(ctx, name)
	c.observe(err)
	if err != nil {
		return Holder{}, &OpError{Op: "holder", Name: name, Err: err}
	}
	return h, nil
}

// Check reports the backend's health: nil when the latest call (an
// acquire, a renewal, a poll) succeeded, else an error wrapping
// ErrUnavailable (or ErrForbidden) with the last failure and its age.
// With no lease nor observer to give a signal, it pings the backend,
// bounded by ctx. After Close it returns ErrClosed.
func (c *Client) Check(ctx context.Context) error {
	c.mu.Lock()
	closed, idle := c.closed, len(c.leases) == 0
	c.mu.Unlock()
	if closed {
		return ErrClosed
	}
	if idle {
		err := c.d.Ping(ctx)
		if ctx.Err() == nil {
			c.observe(err)
		} else if err != nil {
			return Wrap(ErrUnavailable, err)
		}
	}
	return c.health.Check(ctx, ErrUnavailable)
}

// Shutdown releases every lease the Client holds (an Unlock each, within
// ctx), ends its observers and blocking calls (they return ErrClosed) and
// closes the driver. It is idempotent; after it every call returns
// ErrClosed.
func (c *Client) Shutdown(ctx context.Context) error {
	c.shutOnce.Do(func() {
		c.mu.Lock()
		c.closed = true
		c.halt()
		leases := make([]*Lease, 0, len(c.leases))
		for l := range c.leases {
			leases = append(leases, l)
		}
		c.mu.Unlock()
		var errs []error
		for _, l := range leases {
			if err := l.release(ctx, ErrClosed); err != nil {
				errs = append(errs, err)
			}
		}
		done := make(chan struct{})
		go func() { c.wg.Wait(); close(done) }()
		select {
		case <-done:
		case <-ctx.Done():
			errs = append(errs, fmt.Errorf("sync: shutdown: %w", ctx.Err()))
			<-done // every goroutine ends promptly once stop is closed
		}
		errs = append(errs, c.d.Close())
		c.shutErr = errors.Join(errs...)
	})
	return c.shutErr
}

// Close is Shutdown bounded by lifecycle.CloseTimeout.
func (c *Client) Close() error { return lifecycle.Close(c.Shutdown) }

// maxNap is how often a lease on a test clock re-reads it.
const maxNap = 5 * time.Millisecond

func (c *Client) fakeClock() bool { return c.o.fake }
