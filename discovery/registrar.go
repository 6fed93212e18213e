package discovery

import (
	"context"
	"github.com/microos/go-os/internal/backoff"
	"log/slog"
	"sync"
	"time"
)

// Registrar owns one registration: it registers the service, heartbeats
// (registers again) at an interval shorter than the TTL, which also puts
// the nodes back if the registry lost them (an agent restart), retries with
// capped exponential backoff and jitter for as long as it runs, and
// deregisters on Close. State tells how it is doing.
type Registrar struct {
	r   Registry
	svc *Service
	o   registrarOptions

	stop       context.CancelFunc
	done       chan struct{}
	registered chan struct{} // closed at the first successful registration

	mu    sync.Mutex
	state RegistrarState

	closeOnce sync.Once
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

// RegistrarOption configures a Registrar.
type RegistrarOption func(*registrarOptions)

type registrarOptions struct {
	ttl, interval      time.Duration
	retryMin, retryMax time.Duration
	deregisterTimeout  time.Duration
	logger             *slog.Logger
}

// WithRegistrarTTL sets the TTL of the registration (default 30 s): a node
// whose process dies without Close leaves lookups within it. 0 registers
// without TTL (and heartbeats only to re-register after a loss).
func WithRegistrarTTL(ttl time.Duration) RegistrarOption {
	return func(o *registrarOptions) { o.ttl = ttl }
}

// WithHeartbeat sets the interval between heartbeats (default TTL/3, or
// 30 s without TTL). It must be shorter than the TTL.
func WithHeartbeat(d time.Duration) RegistrarOption {
	return func(o *registrarOptions) { o.interval = d }
}

// WithRegistrarRetry sets the backoff after a failure (default 100 ms
// doubling up to the heartbeat interval, with jitter).
func WithRegistrarRetry(min, max time.Duration) RegistrarOption {
	return func(o *registrarOptions) { o.retryMin, o.retryMax = min, max }
}

// WithDeregisterTimeout bounds the deregistration Close does (default 5 s).
func WithDeregisterTimeout(d time.Duration) RegistrarOption {
	return func(o *registrarOptions) { o.deregisterTimeout = d }
}

// WithRegistrarLogger sets where the registrar logs its failures and
// recoveries; by default nothing is logged.
func WithRegistrarLogger(l *slog.Logger) RegistrarOption {
	return func(o *registrarOptions) { o.logger = l }
}

// NewRegistrar validates svc, then registers it in the background and keeps
// it registered until Close. It returns at once: use WaitRegistered to wait
// for the first registration, State to watch it. The registrar keeps a copy
// of svc.
func NewRegistrar(r Registry, svc *Service, opts ...RegistrarOption) (*Registrar, error) {
	if err := Validate(svc); err != nil {
		return nil, &OpError{Op: "register", Service: serviceName(svc), Err: err}
	}
	o := registrarOptions{ttl: 30 * time.Second, retryMin: 100 * time.Millisecond, deregisterTimeout: 5 * time.Second}
	for _, opt := range opts {
		opt(&o)
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
	if o.retryMax <= 0 || o.retryMax > o.interval {
		o.retryMax = o.interval
	}
	if o.retryMin <= 0 || o.retryMin > o.retryMax {
		o.retryMin = min(100*time.Millisecond, o.retryMax)
	}
	if o.logger == nil {
		o.logger = slog.New(slog.DiscardHandler)
	}
	ctx, stop := context.WithCancel(context.Background())
	g := &Registrar{
		r: r, svc: svc.Clone(), o: o, stop: stop,
		done: make(chan struct{}), registered: make(chan struct{}),
		state: RegistrarState{Status: StatusRegistering},
	}
	go g.run(ctx)
	return g, nil
}

func (g *Registrar) run(ctx context.Context) {
	defer close(g.done)
	bo := backoff.Backoff{Min: g.o.retryMin, Max: g.o.retryMax}
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
			g.state.LastSuccess = time.Now()
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

// Close stops the heartbeats and deregisters the nodes, waiting at most the
// WithDeregisterTimeout; it returns the deregistration's error. It is
// idempotent.
func (g *Registrar) Close() error {
	g.closeOnce.Do(func() {
		g.stop()
		<-g.done
		ctx, cancel := context.WithTimeout(context.Background(), g.o.deregisterTimeout)
		defer cancel()
		g.closeErr = g.r.Deregister(ctx, g.svc)
		g.mu.Lock()
		g.state.Status = StatusClosed
		g.mu.Unlock()
	})
	return g.closeErr
}
