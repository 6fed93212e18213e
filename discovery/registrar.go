package discovery

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/microos/go-os/internal/backoff"
	"github.com/microos/go-os/internal/health"
	"github.com/microos/go-os/internal/lifecycle"
)

// Registrar owns one registration: it registers the service, heartbeats
// (registers again) at an interval shorter than the TTL, which also puts
// the nodes back if the registry lost them (an agent restart), retries with
// capped exponential backoff and jitter for as long as it runs, and
// deregisters on Close. State tells how it is doing.
type Registrar struct {
	r                  Registry
	svc                *Service
	o                  options
	retryMin, retryMax time.Duration
	health             health.Tracker // the registration attempts

	stop       context.CancelFunc
	done       chan struct{}
	registered chan struct{} // closed at the first successful registration

	mu    sync.Mutex
	state RegistrarState

	closeOnce sync.Once
	shut      chan struct{} // closed when Shutdown's deregistration is done
	closeErr  error
}

// Status is where a Registrar stands.
type Status int

const (
	// StatusRegistering: the first registration has not succeeded yet.
	StatusRegistering Status = iota + 1
	// StatusRegistered: the last registration or heartbeat succeeded.
	StatusRegistered
	// StatusRetrying: the last attempt failed; the registrar is backing off.
	StatusRetrying
	// StatusClosed: Close ran; the nodes were deregistered (or Close's error says why not).
	StatusClosed
)

func (s Status) String() string {
	switch s {
	case StatusRegistering:
		return "registering"
	case StatusRegistered:
		return "registered"
	case StatusRetrying:
		return "retrying"
	case StatusClosed:
		return "closed"
	}
	return "Status(?)"
}

// RegistrarState is a snapshot of a Registrar's health, for health checks
// and status pages.
type RegistrarState struct {
	Status Status
	// LastError is the error of the last failed attempt (nil if none yet);
	// it is kept after a success, LastSuccess tells which came last.
	LastError error
	// LastSuccess is when the registration last succeeded (zero: never).
	LastSuccess time.Time
	// Failures counts the attempts that failed since the last success.
	Failures int
	// Registrations counts the successful registrations and heartbeats.
	Registrations int
}

// NewRegistrar validates svc, then registers it in the background and keeps
// it registered until Shutdown or Close. It returns at once: use
// WaitRegistered to wait for the first registration, Check or State to
// watch it. The registrar keeps a copy of svc, completed by WithService.
// It takes WithRegistrarTTL, WithHeartbeat, WithRetry, WithLogger,
// WithClock and WithService.
func NewRegistrar(r Registry, svc *Service, opts ...Option) (*Registrar, error) {
	o := collect(opts)
	svc, err := withIdentity(svc, o.service)
	if err == nil {
		err = Validate(svc)
	}
	if err != nil {
		return nil, &OpError{Op: "register", Service: serviceName(svc), Err: err}
	}
	if o.interval <= 0 {
		o.interval = 30 * time.Second
		if o.ttl > 0 {
			o.interval = o.ttl / 3
		}
	}
	if o.ttl > 0 && o.interval >= o.ttl {
		return nil, &OpError{Op: "register", Service: svc.Name,
			Err: Wrap(ErrInvalidService, errHeartbeat(o.interval, o.ttl))}
	}
	lo, hi := o.backoffRange(100*time.Millisecond, o.interval)
	hi = min(hi, o.interval)
	lo = min(lo, hi)
	ctx, stop := context.WithCancel(context.Background())
	g := &Registrar{
		r: r, svc: svc, o: o, retryMin: lo, retryMax: hi, stop: stop,
		done: make(chan struct{}), registered: make(chan struct{}), shut: make(chan struct{}),
		state: RegistrarState{Status: StatusRegistering},
	}
	g.health.Now = o.now
	go g.run(ctx)
	return g, nil
}

// withIdentity returns a copy of svc with what WithService said filled in,
// or an error if svc says otherwise.
func withIdentity(svc *Service, id identity) (*Service, error) {
	if svc == nil {
		return nil, Wrap(ErrInvalidService, errNilService)
	}
	c := svc.Clone()
	fill := func(field string, dst *string, v string) error {
		switch {
		case v == "" || *dst == v:
		case *dst == "":
			*dst = v
		default:
			return Wrap(ErrInvalidService, fmt.Errorf("%s %q differs from WithService's %q", field, *dst, v))
		}
		return nil
	}
	if err := fill("name", &c.Name, id.name); err != nil {
		return nil, err
	}
	if err := fill("version", &c.Version, id.version); err != nil {
		return nil, err
	}
	if id.instance != "" && len(c.Nodes) == 1 {
		if err := fill("node ID", &c.Nodes[0].ID, id.instance); err != nil {
			return nil, err
		}
	}
	return c, nil
}

func (g *Registrar) run(ctx context.Context) {
	defer close(g.done)
	bo := backoff.Backoff{Min: g.retryMin, Max: g.retryMax}
	log := g.o.logger.With("service", g.svc.Name)
	var opts []RegisterOption
	if g.o.ttl > 0 {
		opts = append(opts, WithTTL(g.o.ttl))
	}
	for {
		// One attempt may take at most one interval: a stalled registry
		// must not hold up the retries.
		actx, cancel := context.WithTimeout(ctx, g.o.interval)
		err := g.r.Register(actx, g.svc, opts...)
		cancel()
		if ctx.Err() != nil {
			return
		}
		g.health.Observe(err)
		wait := g.o.interval
		g.mu.Lock()
		if err != nil {
			if g.state.Failures == 0 {
				log.Warn("discovery: registration failed; retrying with backoff", "err", err)
			}
			g.state.LastError = err
			g.state.Failures++
			g.state.Status = StatusRetrying
			wait = bo.Next()
		} else {
			if g.state.Failures > 0 {
				log.Info("discovery: registration recovered", "failures", g.state.Failures)
			}
			if g.state.Registrations == 0 {
				close(g.registered)
			}
			g.state.Status = StatusRegistered
			g.state.LastSuccess = g.o.now()
			g.state.Failures = 0
			g.state.Registrations++
			bo.Reset()
		}
		g.mu.Unlock()
		if !backoff.SleepDone(ctx.Done(), wait) {
			return
		}
	}
}

// State returns the registrar's current state.
func (g *Registrar) State() RegistrarState {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.state
}

// WaitRegistered waits for the first successful registration, or ctx, or
// Close.
func (g *Registrar) WaitRegistered(ctx context.Context) error {
	select {
	case <-g.registered:
		return nil
	default:
	}
	select {
	case <-g.registered:
		return nil
	case <-g.done:
		return &OpError{Op: "register", Service: g.svc.Name, Err: ErrClosed}
	case <-ctx.Done():
		err := ctx.Err()
		if last := g.State().LastError; last != nil {
			err = Wrap(err, last)
		}
		return &OpError{Op: "register", Service: g.svc.Name, Err: err}
	}
}

// Check reports whether the registration holds: nil while the last
// registration or heartbeat succeeded; else an error wrapping
// ErrUnavailable (ErrForbidden when the registry refused the credentials)
// with the last attempt's error and its age, or saying the first
// registration is still to come; ErrClosed after Shutdown. It answers from
// memory and never blocks.
func (g *Registrar) Check(ctx context.Context) error {
	st := g.State()
	switch {
	case st.Status == StatusClosed:
		return &OpError{Op: "check", Service: g.svc.Name, Err: ErrClosed}
	case st.LastError != nil && errors.Is(st.LastError, ErrForbidden):
		if err := g.health.Check(ctx, ErrForbidden); err != nil {
			return err
		}
	}
	if err := g.health.Check(ctx, ErrUnavailable); err != nil {
		return err
	}
	if st.Registrations == 0 {
		return &OpError{Op: "check", Service: g.svc.Name, Err: Wrap(ErrUnavailable, errNotYetRegistered)}
	}
	return nil
}

var errNotYetRegistered = errors.New("not registered yet")

// Shutdown stops the heartbeats and deregisters the nodes within ctx; it
// returns the deregistration's error. It is idempotent: later calls wait
// for the first one's deregistration (within their own ctx) and return its
// result.
func (g *Registrar) Shutdown(ctx context.Context) error {
	g.closeOnce.Do(func() {
		g.stop()
		<-g.done // an attempt in flight is bounded by its ctx, which stop ended
		go func() {
			defer close(g.shut)
			g.closeErr = g.r.Deregister(ctx, g.svc)
			g.mu.Lock()
			g.state.Status = StatusClosed
			g.mu.Unlock()
		}()
	})
	select {
	case <-g.shut:
		return g.closeErr
	case <-ctx.Done():
		return &OpError{Op: "deregister", Service: g.svc.Name, Err: ctx.Err()}
	}
}

// Close is Shutdown bounded by lifecycle.CloseTimeout (5 s).
func (g *Registrar) Close() error { return lifecycle.Close(g.Shutdown) }
