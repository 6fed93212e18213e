package discovery

import (
	"cmp"
	"context"
	"errors"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/microos/go-os/internal/health"
	"github.com/microos/go-os/internal/lifecycle"
)

// New returns the portable Registry in front of a backend's driver. Every
// constructor in this module returns one; a new backend needs only a
// Driver. Validation, sorting, use-after-Close, hooks, health tracking and
// the watch loop (retries, backoff, diffing into events) are the same code
// on every backend.
func New(d Driver, opts ...Option) Registry {
	return newRegistry(d, collect(opts))
}

func newRegistry(d Driver, o options) *registry {
	r := &registry{d: d, o: o, stops: map[*context.CancelFunc]struct{}{}, shut: make(chan struct{})}
	r.health.Now = o.now
	r.retryMin, r.retryMax = o.backoffRange(100*time.Millisecond, 15*time.Second)
	if len(o.hooks) > 0 {
		invoke := Invoker(r.invoke)
		for i := len(o.hooks) - 1; i >= 0; i-- {
			invoke = o.hooks[i](invoke)
		}
		r.hooked = invoke
	}
	return r
}

type registry struct {
	d                  Driver
	o                  options
	hooked             Invoker // the hooks around invoke; nil without hooks
	retryMin, retryMax time.Duration

	health    health.Tracker // the driver's calls and watches
	forbidden atomic.Bool    // the latest failure was a refusal of the credentials

	closed    atomic.Bool
	closeOnce sync.Once
	shut      chan struct{} // closed when Shutdown's work is done
	closeErr  error
	watches   sync.WaitGroup
	mu        sync.Mutex                       // guards stops; orders watches.Add against Close's Wait
	stops     map[*context.CancelFunc]struct{} // of the running watches, which Close ends
}

// invoke is the call itself, under the hooks.
func (r *registry) invoke(ctx context.Context, c *Call) (err error) {
	switch c.Op {
	case "register":
		return r.register(ctx, c.Svc, c.Options)
	case "deregister":
		return r.deregister(ctx, c.Svc)
	case "getservice":
		c.Services, err = r.getService(ctx, c.Service)
	case "listservices":
		c.Names, err = r.listServices(ctx)
	}
	return err
}

func (r *registry) Register(ctx context.Context, svc *Service, opts ...RegisterOption) error {
	var ro RegisterOptions
	for _, opt := range opts {
		opt(&ro)
	}
	if r.hooked != nil {
		return r.hooked(ctx, &Call{Op: "register", Service: serviceName(svc), Svc: svc, Options: ro})
	}
	return r.register(ctx, svc, ro)
}

func (r *registry) register(ctx context.Context, svc *Service, ro RegisterOptions) error {
	name := serviceName(svc)
	if r.closed.Load() {
		return &OpError{Op: "register", Service: name, Err: ErrClosed}
	}
	err := Validate(svc)
	if err == nil && ro.TTL < 0 {
		err = Wrap(ErrInvalidService, errNegativeTTL(ro.TTL))
	}
	if err != nil {
		return &OpError{Op: "register", Service: name, Err: err}
	}
	return r.done(ctx, "register", name, r.d.Register(ctx, svc, ro))
}

func (r *registry) Deregister(ctx context.Context, svc *Service) error {
	if r.hooked != nil {
		return r.hooked(ctx, &Call{Op: "deregister", Service: serviceName(svc), Svc: svc})
	}
	return r.deregister(ctx, svc)
}

func (r *registry) deregister(ctx context.Context, svc *Service) error {
	name := serviceName(svc)
	if r.closed.Load() {
		return &OpError{Op: "deregister", Service: name, Err: ErrClosed}
	}
	if err := validateForDeregister(svc); err != nil {
		return &OpError{Op: "deregister", Service: name, Err: err}
	}
	if len(svc.Nodes) == 0 {
		return nil
	}
	return r.done(ctx, "deregister", name, r.d.Deregister(ctx, svc))
}

func (r *registry) GetService(ctx context.Context, name string) ([]*Service, error) {
	if r.hooked != nil {
		c := &Call{Op: "getservice", Service: name}
		err := r.hooked(ctx, c)
		return c.Services, err
	}
	return r.getService(ctx, name)
}

func (r *registry) getService(ctx context.Context, name string) ([]*Service, error) {
	if r.closed.Load() {
		return nil, &OpError{Op: "getservice", Service: name, Err: ErrClosed}
	}
	if err := ValidateName(name); err != nil {
		return nil, &OpError{Op: "getservice", Service: name, Err: err}
	}
	svcs, err := r.d.GetService(ctx, name)
	if err := r.done(ctx, "getservice", name, err); err != nil {
		return nil, err
	}
	svcs = normalize(svcs)
	if svcs == nil {
		return nil, ErrNotFound
	}
	return svcs, nil
}

func (r *registry) ListServices(ctx context.Context) ([]string, error) {
	if r.hooked != nil {
		c := &Call{Op: "listservices"}
		err := r.hooked(ctx, c)
		return c.Names, err
	}
	return r.listServices(ctx)
}

func (r *registry) listServices(ctx context.Context) ([]string, error) {
	if r.closed.Load() {
		return nil, &OpError{Op: "listservices", Err: ErrClosed}
	}
	names, err := r.d.ListServices(ctx)
	if err := r.done(ctx, "listservices", "", err); err != nil {
		return nil, err
	}
	slices.Sort(names)
	return slices.Compact(names), nil
}

func (r *registry) Watch(ctx context.Context, name string) (<-chan Event, error) {
	if err := ValidateName(name); err != nil {
		return nil, &OpError{Op: "watch", Service: name, Err: err}
	}
	// The watch ends with ctx or with the registry.
	wctx, stop := context.WithCancel(ctx)
	r.mu.Lock()
	if r.closed.Load() {
		r.mu.Unlock()
		stop()
		return nil, &OpError{Op: "watch", Service: name, Err: ErrClosed}
	}
	r.stops[&stop] = struct{}{}
	r.watches.Add(1)
	r.mu.Unlock()
	ch := make(chan Event)
	go func() {
		defer r.watches.Done()
		defer close(ch)
		defer func() {
			r.mu.Lock()
			delete(r.stops, &stop)
			r.mu.Unlock()
			stop()
		}()
		r.runWatch(wctx, name, ch)
	}()
	return ch, nil
}

// Check says whether the backend answered the registry's latest call or
// watch query: nil if so (or if none was made yet), else an error wrapping
// ErrUnavailable (ErrForbidden when the backend refused the credentials)
// with the latest failure and its age; ErrClosed after Close. It answers
// from memory: a registry with a watch running (a Cache's, a Router's)
// learns of an outage within one query.
func (r *registry) Check(ctx context.Context) error {
	if r.closed.Load() {
		return &OpError{Op: "check", Err: ErrClosed}
	}
	if r.forbidden.Load() {
		return r.health.Check(ctx, ErrForbidden)
	}
	return r.health.Check(ctx, ErrUnavailable)
}

// observe records a driver call's outcome for Check. A call the caller
// cancelled, or refused as invalid, says nothing of the backend's health.
func (r *registry) observe(ctx context.Context, err error) {
	switch {
	case err == nil:
		r.forbidden.Store(false)
		r.health.Success()
	case errors.Is(ctx.Err(), context.Canceled), errors.Is(err, ErrInvalidService):
	default:
		r.forbidden.Store(errors.Is(err, ErrForbidden))
		r.health.Failure(err)
	}
}

// As reaches the backend's client: consuldiscovery's registries set a
// **api.Client. It reports whether target was set.
func (r *registry) As(target any) bool {
	if a, ok := r.d.(interface{ As(any) bool }); ok {
		return a.As(target)
	}
	return false
}

// Shutdown ends the registry's watches, waiting for them within ctx, and
// releases the driver. It does not deregister anything: a Registrar does
// that. It is idempotent: later calls wait for the first one's work (within
// their own ctx) and return its result.
func (r *registry) Shutdown(ctx context.Context) error {
	r.closeOnce.Do(func() {
		r.mu.Lock()
		r.closed.Store(true)
		for stop := range r.stops {
			(*stop)()
		}
		r.mu.Unlock()
		go func() {
			r.watches.Wait()
			r.closeErr = r.d.Close()
			close(r.shut)
		}()
	})
	select {
	case <-r.shut:
		return r.closeErr
	case <-ctx.Done():
		return &OpError{Op: "shutdown", Err: ctx.Err()}
	}
}

// Close is Shutdown bounded by lifecycle.CloseTimeout.
func (r *registry) Close() error { return lifecycle.Close(r.Shutdown) }

// done wraps a driver's error with the operation and service (a call that
// raced with Close reports ErrClosed) and records the outcome for Check.
func (r *registry) done(ctx context.Context, op, name string, err error) error {
	r.observe(ctx, err)
	if err == nil {
		return nil
	}
	return r.fail(op, name, err)
}

// fail wraps a driver's error with the operation and service; a call that
// raced with Close reports ErrClosed.
func (r *registry) fail(op, name string, err error) error {
	if r.closed.Load() {
		err = Wrap(ErrClosed, err)
	}
	return &OpError{Op: op, Service: name, Err: err}
}

func serviceName(svc *Service) string {
	if svc == nil {
		return ""
	}
	return svc.Name
}

// normalize sorts services by version and nodes by ID, merges services a
// driver returned twice for one version, and drops empty ones; nil when
// nothing is left. It sorts in place: drivers hand over fresh slices.
func normalize(svcs []*Service) []*Service {
	out := svcs[:0]
	for _, s := range svcs {
		if s != nil && len(s.Nodes) > 0 {
			out = append(out, s)
		}
	}
	if len(out) == 0 {
		return nil
	}
	slices.SortStableFunc(out, func(a, b *Service) int { return cmp.Compare(a.Version, b.Version) })
	merged := out[:1]
	for _, s := range out[1:] {
		last := merged[len(merged)-1]
		if s.Version == last.Version {
			last.Nodes = append(last.Nodes, s.Nodes...)
			continue
		}
		merged = append(merged, s)
	}
	for _, s := range merged {
		slices.SortFunc(s.Nodes, func(a, b *Node) int { return cmp.Compare(a.ID, b.ID) })
	}
	return merged
}
