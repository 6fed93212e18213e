package discovery

import (
	"cmp"
	"context"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// New returns the portable Registry in front of a backend's driver. Every
// constructor in this module returns one; a new backend needs only a
// Driver. Validation, sorting, use-after-Close and the watch loop (retries,
// backoff, diffing into events) are the same code on every backend.
func New(d Driver, opts ...Option) Registry {
	return newRegistry(d, collect(opts))
}

func newRegistry(d Driver, o options) *registry {
	return &registry{d: d, o: o, stops: map[*context.CancelFunc]struct{}{}}
}

type registry struct {
	d Driver
	o options

	closed    atomic.Bool
	closeOnce sync.Once
	closeErr  error
	watches   sync.WaitGroup
	mu        sync.Mutex                       // guards stops; orders watches.Add against Close's Wait
	stops     map[*context.CancelFunc]struct{} // of the running watches, which Close ends
}

func (r *registry) Register(ctx context.Context, svc *Service, opts ...RegisterOption) error {
	start := r.start()
	err := r.register(ctx, svc, opts)
	r.observe(ctx, "register", serviceName(svc), start, err)
	return err
}

func (r *registry) register(ctx context.Context, svc *Service, opts []RegisterOption) error {
	var ro RegisterOptions
	for _, opt := range opts {
		opt(&ro)
	}
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
	if err := r.d.Register(ctx, svc, ro); err != nil {
		return r.fail("register", name, err)
	}
	return nil
}

func (r *registry) Deregister(ctx context.Context, svc *Service) error {
	start := r.start()
	err := r.deregister(ctx, svc)
	r.observe(ctx, "deregister", serviceName(svc), start, err)
	return err
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
	if err := r.d.Deregister(ctx, svc); err != nil {
		return r.fail("deregister", name, err)
	}
	return nil
}

func (r *registry) GetService(ctx context.Context, name string) ([]*Service, error) {
	start := r.start()
	svcs, err := r.getService(ctx, name)
	r.observe(ctx, "getservice", name, start, err)
	return svcs, err
}

func (r *registry) getService(ctx context.Context, name string) ([]*Service, error) {
	if r.closed.Load() {
		return nil, &OpError{Op: "getservice", Service: name, Err: ErrClosed}
	}
	if err := ValidateName(name); err != nil {
		return nil, &OpError{Op: "getservice", Service: name, Err: err}
	}
	svcs, err := r.d.GetService(ctx, name)
	if err != nil {
		return nil, r.fail("getservice", name, err)
	}
	svcs = normalize(svcs)
	if svcs == nil {
		return nil, ErrNotFound
	}
	return svcs, nil
}

func (r *registry) ListServices(ctx context.Context) ([]string, error) {
	start := r.start()
	names, err := r.listServices(ctx)
	r.observe(ctx, "listservices", "", start, err)
	return names, err
}

func (r *registry) listServices(ctx context.Context) ([]string, error) {
	if r.closed.Load() {
		return nil, &OpError{Op: "listservices", Err: ErrClosed}
	}
	names, err := r.d.ListServices(ctx)
	if err != nil {
		return nil, r.fail("listservices", "", err)
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

func (r *registry) Close() error {
	r.closeOnce.Do(func() {
		r.mu.Lock()
		r.closed.Store(true)
		for stop := range r.stops {
			(*stop)()
		}
		r.mu.Unlock()
		r.watches.Wait()
		r.closeErr = r.d.Close()
	})
	return r.closeErr
}

// fail wraps a driver's error with the operation and service; a call that
// raced with Close reports ErrClosed.
func (r *registry) fail(op, name string, err error) error {
	if r.closed.Load() {
		err = Wrap(ErrClosed, err)
	}
	return &OpError{Op: op, Service: name, Err: err}
}

func (r *registry) start() time.Time {
	if len(r.o.observers) == 0 {
		return time.Time{}
	}
	return time.Now()
}

func (r *registry) observe(ctx context.Context, op, service string, start time.Time, err error) {
	if len(r.o.observers) == 0 {
		return
	}
	took := time.Since(start)
	for _, obs := range r.o.observers {
		obs(ctx, op, service, took, err)
	}
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
