package router

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/microos/go-os/discovery"
	"github.com/microos/go-os/internal/backoff"
	"github.com/microos/go-os/internal/lifecycle"
)

// Resolver is the read side of discovery the router needs: a watch that
// sends the state of a service and then its changes. Every
// discovery.Registry (and discovery cache) is one.
type Resolver interface {
	Watch(ctx context.Context, service string) (<-chan discovery.Event, error)
}

// throttleWindow is the adaptive throttle's memory.
const throttleWindow = 30 * time.Second

// Router picks the node for each request to a service, from the nodes
// discovery reports. It learns a service on the first request for it,
// then follows it with a watch until Close, so picks never wait on the
// network (and a router asked for many services keeps a watch for each).
type Router struct {
	res    Resolver
	closer io.Closer // the registry Open made, closed with the router
	o      options

	services atomic.Pointer[map[string]*service] // copy on write
	mu       sync.Mutex                          // serialises adding services

	ctx       context.Context // ends the router's goroutines
	cancel    context.CancelFunc
	wg        sync.WaitGroup
	closed    atomic.Bool
	closeOnce sync.Once
	shut      chan struct{} // closed when Shutdown's work is done
	closeErr  error
}

// New returns a router over res (a discovery.Registry). It owns one
// goroutine, plus one watch per service it routes to, until Close; it
// does not close res.
func New(res Resolver, opts ...Option) *Router {
	r := &Router{res: res, o: collect(opts), shut: make(chan struct{})}
	r.ctx, r.cancel = context.WithCancel(context.Background())
	r.services.Store(&map[string]*service{})
	r.wg.Add(1)
	go r.loop()
	return r
}

// Pick chooses a node of service for one request; key is its routing key
// for ConsistentHash ("" for none). The first Pick of a service waits for
// discovery's answer (within ctx); later ones never block and do not
// allocate. Call Done on the result when the request ends.
//
// Errors wrap ErrNoNodes, ErrAllEjected, ErrThrottled, ErrRateLimited,
// ErrConcurrencyLimited, ErrUnavailable or ErrClosed, or ctx's error.
func (r *Router) Pick(ctx context.Context, service, key string) (Picked, error) {
	s, err := r.service(ctx, service)
	if err != nil {
		return Picked{}, &Error{Op: "pick", Service: service, Err: err}
	}
	p, err := s.pick(key, nil)
	if err != nil {
		return p, &Error{Op: "pick", Service: service, Err: err}
	}
	return p, nil
}

// Do calls fn with a node of service, and again with another node if it
// fails and WithRetryPolicy allows (retry budget and backoff), feeding each
// outcome back as Pick's Done would. It returns nil once fn succeeds, or
// an *Error wrapping the last failure.
func (r *Router) Do(ctx context.Context, service, key string, fn func(ctx context.Context, node *Node) error) error {
	return r.do(ctx, service, key, fn, nil)
}

// do is Do, where the error must also pass retryable (if not nil) to be retried.
func (r *Router) do(ctx context.Context, service, key string, fn func(ctx context.Context, node *Node) error, retryable func(error) bool) error {
	s, err := r.service(ctx, service)
	if err != nil {
		return &Error{Op: "do", Service: service, Err: err}
	}
	rt := &r.o.retry
	s.budget.request()
	if rt.HedgeAfter > 0 && retryable == nil && ctx.Value(noHedgeKey{}) == nil {
		if after := s.hedgeAt.Load(); after > 0 {
			return s.hedged(ctx, key, time.Duration(after), fn)
		}
	}
	var last *Endpoint
	var lastErr error
	for attempt := 0; ; attempt++ {
		p, err := s.pick(key, last)
		if err != nil {
			if lastErr != nil {
				err = errors.Join(lastErr, err)
			}
			return &Error{Op: "do", Service: service, Err: err}
		}
		start := time.Now()
		err = fn(ctx, p.Node)
		p.Done(err, time.Since(start))
		if err == nil {
			return nil
		}
		last, lastErr = p.ep, err
		var perm *permanentError
		if errors.As(err, &perm) {
			return &Error{Op: "do", Service: service, Err: err}
		}
		if attempt+1 >= rt.Attempts || ctx.Err() != nil || !rt.Retryable(err) || (retryable != nil && !retryable(err)) || !s.budget.withdraw() {
			return &Error{Op: "do", Service: service, Err: err}
		}
		s.retries.Add(1)
		if !backoff.Sleep(ctx, rt.wait(attempt)) {
			return &Error{Op: "do", Service: service, Err: err}
		}
	}
}

// Resolver returns the discovery the router reads, for adapters that
// follow the same services (routergrpc's resolver).
func (r *Router) Resolver() Resolver { return r.res }

// service returns the state of the named service, starting its watch on
// first use and waiting (within ctx) for discovery's first answer.
func (r *Router) service(ctx context.Context, name string) (*service, error) {
	if r.closed.Load() {
		return nil, ErrClosed
	}
	s := (*r.services.Load())[name]
	if s == nil {
		// Every name makes a service entry and a watch for good: a name
		// discovery could never hold (garbage, an outside host through
		// Transport) must not make one.
		if err := discovery.ValidateName(name); err != nil {
			return nil, fmt.Errorf("%w: %w", ErrNoNodes, err)
		}
		if s = r.add(name); s == nil {
			return nil, ErrClosed
		}
	}
	if s.isReady.Load() {
		return s, nil
	}
	select {
	case <-s.ready:
		return s, nil
	case <-ctx.Done():
		return nil, fmt.Errorf("waiting for discovery: %w", ctx.Err())
	case <-r.ctx.Done():
		return nil, ErrClosed
	}
}

func (r *Router) add(name string) *service {
	r.mu.Lock()
	defer r.mu.Unlock()
	old := *r.services.Load()
	if s := old[name]; s != nil {
		return s
	}
	if r.closed.Load() {
		return nil
	}
	s := newService(r, name)
	next := maps.Clone(old)
	next[name] = s
	r.services.Store(&next)
	r.wg.Add(1)
	go s.watch(r.ctx)
	return s
}

// watch follows the service in discovery until ctx ends. Discovery's
// watch retries by itself and reports failures as EventError; this loop
// only restarts a watch that could not start or that ended.
func (s *service) watch(ctx context.Context) {
	defer s.r.wg.Done()
	wait := backoff.Backoff{Min: 50 * time.Millisecond, Max: 5 * time.Second}
	for {
		ch, err := s.r.res.Watch(ctx, s.name)
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			permanent := errors.Is(err, discovery.ErrInvalidService)
			s.failed(err, permanent)
			if permanent {
				return
			}
		} else {
			for ev := range ch {
				if ev.Type == discovery.EventError {
					s.failed(ev.Err, false)
					continue
				}
				s.update(ev.Services)
				wait.Reset()
			}
			if ctx.Err() != nil {
				return
			}
			s.failed(errWatchEnded, false)
		}
		if !backoff.Sleep(ctx, wait.Next()) {
			return
		}
	}
}

var errWatchEnded = errors.New("discovery watch ended")

// loop evaluates ejections and publishes stats until Close.
func (r *Router) loop() {
	defer r.wg.Done()
	every := r.o.ejection.Interval
	if r.o.sink != nil && r.o.publishEvery > 0 {
		every = min(every, r.o.publishEvery)
	}
	t := time.NewTicker(every)
	defer t.Stop()
	nextPublish := time.Now().Add(r.o.publishEvery)
	nextEval := time.Now().Add(r.o.ejection.Interval)
	for {
		select {
		case <-r.ctx.Done():
			return
		case now := <-t.C:
			if !r.o.manualEval && !now.Before(nextEval) {
				nextEval = now.Add(r.o.ejection.Interval)
				for _, s := range *r.services.Load() {
					if !r.o.ejection.Disabled {
						s.evaluate(r.o.now())
					}
					s.updateHedgeDelay()
				}
			}
			if r.o.sink != nil && !now.Before(nextPublish) {
				nextPublish = now.Add(r.o.publishEvery)
				r.publish(r.o.publishEvery)
			}
		}
	}
}

func (r *Router) publish(timeout time.Duration) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	if err := r.o.sink.Publish(ctx, r.Stats()); err != nil {
		r.o.logger.Warn("router: publishing stats failed", "err", err)
	}
}

// Check reports the health of the services the router follows, from
// memory: nil while discovery answers every watch and every service has a
// node to route to; else an error (one per failing service, joined) that
// wraps ErrUnavailable with discovery's last failure and its age, or
// ErrAllEjected; ErrClosed after Close. A router keeps routing to the last
// known nodes while discovery fails: Check says so, the picks do not fail.
// It never blocks.
func (r *Router) Check(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if r.closed.Load() {
		return ErrClosed
	}
	services := *r.services.Load()
	names := slices.Sorted(maps.Keys(services))
	now := r.o.now()
	var errs []error
	for _, name := range names {
		if err := services[name].check(now); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// Shutdown stops the router's goroutines (watches, ejection, publishing)
// within ctx, publishes the stats a last time to the sink, and shuts the
// registry down if Open made it. Picks after it fail with ErrClosed. It is
// idempotent: later calls wait for the first one's work (within their own
// ctx) and return its result.
func (r *Router) Shutdown(ctx context.Context) error {
	r.closeOnce.Do(func() {
		r.mu.Lock()
		r.closed.Store(true)
		r.mu.Unlock()
		r.cancel()
		go func() {
			defer close(r.shut)
			r.wg.Wait()
			if r.o.sink != nil {
				r.publish(time.Second)
			}
			if r.closer != nil {
				r.closeErr = r.closer.Close()
			}
		}()
	})
	select {
	case <-r.shut:
		return r.closeErr
	case <-ctx.Done():
		return fmt.Errorf("router: shutdown: %w", ctx.Err())
	}
}

// Close is Shutdown bounded by lifecycle.CloseTimeout (5 s).
func (r *Router) Close() error { return lifecycle.Close(r.Shutdown) }
