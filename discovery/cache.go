package discovery

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/microos/go-os/internal/health"
	"github.com/microos/go-os/internal/lifecycle"
)

// Cache answers lookups from memory, kept fresh by watches on the Registry
// behind it: the first lookup of a service starts a watch for that service
// only (concurrent first lookups share it), and later lookups cost a map
// read (no allocation, no I/O). When the registry fails, the cache keeps
// serving the last answer it had, and Lookup says how old it is, up to the
// WithMaxStale limit. Nodes the registry stopped returning (deregistered,
// heartbeat expired) leave the cache as soon as the watch sees it.
//
// A Cache is a Registry: its reads come from memory and its writes go to
// the registry behind it. It is safe for concurrent use. Close ends its
// watches; it does not close the registry behind it.
type Cache struct {
	r Registry
	o options

	entries atomic.Pointer[map[string]*cacheEntry] // copied on write
	mu      sync.Mutex                             // serialises writers of entries and closed
	closed  bool
	closing chan struct{} // closed by Close, to end the idle sweep
	wg      sync.WaitGroup
	shut    chan struct{} // closed when the watches have ended
}

type cacheEntry struct {
	ready   chan struct{} // closed when the first answer, or failure, is in
	state   atomic.Pointer[cacheState]
	touched atomic.Bool // looked up since the last idle sweep
	stop    context.CancelFunc
}

// cacheState is immutable: the watch replaces it whole.
type cacheState struct {
	services []*Service
	known    bool      // services is an answer from the registry, not a placeholder
	err      error     // the registry's failure while it fails
	since    time.Time // when the failure began: the answer's age runs from there
}

// Answer is what Lookup returns: the services and how much to trust them.
type Answer struct {
	// Services are the live nodes by version, as GetService returns them;
	// nil when the service has none. Read-only.
	Services []*Service
	// Age is zero while the cache's watch is healthy; while the registry
	// fails it is how long ago the answer was last known to be current.
	Age time.Duration
	// Err is the registry's failure when Age > 0.
	Err error
}

// NewCache returns a cache in front of r. It takes WithMaxStale,
// WithIdleTimeout and WithClock.
func NewCache(r Registry, opts ...Option) *Cache {
	o := collect(opts)
	c := &Cache{r: r, o: o, closing: make(chan struct{}), shut: make(chan struct{})}
	c.entries.Store(&map[string]*cacheEntry{})
	if o.idle > 0 {
		c.wg.Add(1)
		go c.sweepIdle()
	}
	return c
}

// GetService returns the live nodes of the service from memory. The first
// lookup of a service waits for the registry (bounded by ctx); later ones
// return at once. While the registry fails it returns the last answer
// (Lookup tells its age) until WithMaxStale; ErrNotFound (bare) when the
// service has no live node.
func (c *Cache) GetService(ctx context.Context, name string) ([]*Service, error) {
	if e := (*c.entries.Load())[name]; e != nil {
		if st := e.state.Load(); st != nil && st.known && st.err == nil {
			if !e.touched.Load() {
				e.touched.Store(true)
			}
			if st.services == nil {
				return nil, ErrNotFound
			}
			return st.services, nil
		}
	}
	a, err := c.Lookup(ctx, name)
	if err != nil {
		return nil, err
	}
	if a.Services == nil {
		return nil, ErrNotFound
	}
	return a.Services, nil
}

// Lookup is GetService that also says how old the answer is. A service
// without live nodes is an Answer with no Services, not an error; errors
// are ErrStale (the answer is older than WithMaxStale), the registry's
// failure when the cache never had an answer, ErrInvalidService, ErrClosed,
// or ctx's.
func (c *Cache) Lookup(ctx context.Context, name string) (Answer, error) {
	e := (*c.entries.Load())[name]
	if e == nil {
		var err error
		if e, err = c.entry(name); err != nil {
			return Answer{}, &OpError{Op: "lookup", Service: name, Err: err}
		}
	}
	if !e.touched.Load() {
		e.touched.Store(true)
	}
	select {
	case <-e.ready:
	default:
		select {
		case <-e.ready:
		case <-ctx.Done():
			return Answer{}, &OpError{Op: "lookup", Service: name, Err: Unavailable(ctx.Err())}
		}
	}
	st := e.state.Load()
	if !st.known {
		return Answer{}, st.err
	}
	if st.err == nil {
		return Answer{Services: st.services}, nil
	}
	age := c.o.now().Sub(st.since)
	if c.o.maxStale > 0 && age > c.o.maxStale {
		return Answer{}, &OpError{Op: "lookup", Service: name,
			Err: fmt.Errorf("%w (%s old, limit %s): %w", ErrStale, age.Round(time.Millisecond), c.o.maxStale, st.err)}
	}
	return Answer{Services: st.services, Age: age, Err: st.err}, nil
}

// entry returns the entry of name, creating it and starting its watch on
// the first lookup.
func (c *Cache) entry(name string) (*cacheEntry, error) {
	if e := (*c.entries.Load())[name]; e != nil {
		return e, nil
	}
	if err := ValidateName(name); err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return nil, ErrClosed
	}
	old := *c.entries.Load()
	if e := old[name]; e != nil {
		return e, nil
	}
	ctx, stop := context.WithCancel(context.Background())
	events, err := c.r.Watch(ctx, name)
	if err != nil {
		stop()
		return nil, err
	}
	e := &cacheEntry{ready: make(chan struct{}), stop: stop}
	next := make(map[string]*cacheEntry, len(old)+1)
	for k, v := range old {
		next[k] = v
	}
	next[name] = e
	c.entries.Store(&next)
	c.wg.Add(1)
	go c.follow(e, events)
	return e, nil
}

// follow applies the watch's events to the entry until the watch ends.
func (c *Cache) follow(e *cacheEntry, events <-chan Event) {
	defer c.wg.Done()
	var once sync.Once
	ready := func() { once.Do(func() { close(e.ready) }) }
	defer ready()
	for ev := range events {
		prev := e.state.Load()
		var st cacheState
		if ev.Type == EventError {
			st = cacheState{err: ev.Err, since: c.o.now()}
			if prev != nil {
				st.services, st.known = prev.services, prev.known
				if prev.err != nil {
					st.since = prev.since
				}
			}
		} else {
			st = cacheState{services: ev.Services, known: true}
		}
		e.state.Store(&st)
		ready()
	}
	// The watch ended: the cache or the registry was closed, or the entry
	// went idle. Whoever still holds the entry gets the last answer, aging.
	st := cacheState{err: &OpError{Op: "lookup", Err: ErrClosed}, since: c.o.now()}
	if prev := e.state.Load(); prev != nil {
		st.services, st.known = prev.services, prev.known
	}
	e.state.Store(&st)
}

// sweepIdle stops the watches of entries not looked up since the last sweep.
func (c *Cache) sweepIdle() {
	defer c.wg.Done()
	t := time.NewTicker(c.o.idle)
	defer t.Stop()
	for {
		select {
		case <-c.closing:
			return
		case <-t.C:
		}
		c.mu.Lock()
		old := *c.entries.Load()
		next := make(map[string]*cacheEntry, len(old))
		for name, e := range old {
			if e.touched.Swap(false) {
				next[name] = e
				continue
			}
			e.stop()
		}
		if len(next) != len(old) {
			c.entries.Store(&next)
		}
		c.mu.Unlock()
	}
}

// Watched returns how many services the cache watches.
func (c *Cache) Watched() int { return len(*c.entries.Load()) }

// Register passes through to the registry behind the cache.
func (c *Cache) Register(ctx context.Context, svc *Service, opts ...RegisterOption) error {
	return c.r.Register(ctx, svc, opts...)
}

// Deregister passes through to the registry behind the cache.
func (c *Cache) Deregister(ctx context.Context, svc *Service) error {
	return c.r.Deregister(ctx, svc)
}

// ListServices passes through to the registry behind the cache: the cache
// knows only the services looked up.
func (c *Cache) ListServices(ctx context.Context) ([]string, error) {
	return c.r.ListServices(ctx)
}

// Watch passes through to the registry behind the cache.
func (c *Cache) Watch(ctx context.Context, name string) (<-chan Event, error) {
	return c.r.Watch(ctx, name)
}

// Check reports the health of the cache's watches, from memory: nil while
// every watched service is current (and the registry behind says it is
// healthy); while the registry fails, an error wrapping ErrUnavailable
// with the failure and the age of the oldest answer the cache serves, or
// ErrStale once that age passes WithMaxStale; ErrClosed after Close.
func (c *Cache) Check(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	c.mu.Lock()
	closed := c.closed
	c.mu.Unlock()
	if closed {
		return &OpError{Op: "check", Err: ErrClosed}
	}
	var worst *cacheState
	for _, e := range *c.entries.Load() {
		if st := e.state.Load(); st != nil && st.err != nil && (worst == nil || st.since.Before(worst.since)) {
			worst = st
		}
	}
	if worst != nil {
		now := c.o.now()
		kind := ErrUnavailable
		switch age := now.Sub(worst.since); {
		case errors.Is(worst.err, ErrClosed):
			kind = ErrClosed
		case errors.Is(worst.err, ErrForbidden):
			kind = ErrForbidden
		case c.o.maxStale > 0 && age > c.o.maxStale:
			kind = ErrStale
		}
		return &health.Error{Kind: kind, Last: worst.err, Since: worst.since, Age: now.Sub(worst.since)}
	}
	return c.r.Check(ctx)
}

// As passes through to the registry behind the cache.
func (c *Cache) As(target any) bool { return c.r.As(target) }

// Shutdown ends the cache's watches and waits for them within ctx;
// lookups then return ErrClosed. It does not close the registry behind the
// cache. It is idempotent.
func (c *Cache) Shutdown(ctx context.Context) error {
	c.mu.Lock()
	if !c.closed {
		c.closed = true
		for _, e := range *c.entries.Load() {
			e.stop() // entries the idle sweep dropped were stopped then
		}
		c.entries.Store(&map[string]*cacheEntry{})
		close(c.closing)
		go func() { c.wg.Wait(); close(c.shut) }()
	}
	c.mu.Unlock()
	select {
	case <-c.shut:
		return nil
	case <-ctx.Done():
		return &OpError{Op: "shutdown", Err: ctx.Err()}
	}
}

// Close is Shutdown bounded by lifecycle.CloseTimeout (5 s).
func (c *Cache) Close() error { return lifecycle.Close(c.Shutdown) }
