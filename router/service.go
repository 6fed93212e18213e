package router

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/microos/go-os/discovery"
	"github.com/microos/go-os/internal/health"
)

// service is the router's state for one service: its endpoints, the
// current picker, and its limits.
type service struct {
	r       *Router
	name    string
	ready   chan struct{} // closed once the first discovery result is in
	isReady atomic.Bool   // ready is closed: the picks' fast path
	once    sync.Once
	snap    atomic.Pointer[snapshot]

	throttle *Throttle
	limiter  *Limiter
	budget   *retryBudget
	inflight atomic.Int64
	hedgeAt  atomic.Int64 // ns after which Do hedges; 0: not yet known

	throttled, rateLimited, concurrencyLimited, refused, retries, hedges atomic.Uint64

	mu        sync.Mutex
	endpoints map[string]*Endpoint // by node ID
	all       []*Endpoint          // sorted by ID
	synced    bool                 // discovery answered at least once
	lastErr   error                // discovery's last failure, nil once it answers again
	failSince time.Time            // when discovery began failing
	failAt    time.Time            // discovery's last failure
	retired   NodeStats            // totals of the endpoints removed so far
}

// snapshot is what a pick reads: a picker over the routable endpoints, or
// the error to return when there is none.
type snapshot struct {
	picker Picker
	nodes  []*Endpoint // what picker picks from, for the half-open fallback
	err    error
}

func newService(r *Router, name string) *service {
	s := &service{r: r, name: name, ready: make(chan struct{}), endpoints: map[string]*Endpoint{}, budget: newRetryBudget(r.o.retry)}
	if r.o.throttleK > 0 {
		s.throttle = NewThrottle(r.o.throttleK, throttleWindow)
	}
	if r.o.rate > 0 {
		s.limiter = NewLimiter(r.o.rate, r.o.burst)
	}
	s.snap.Store(&snapshot{err: ErrNoNodes})
	return s
}

func (s *service) markReady() {
	s.once.Do(func() { s.isReady.Store(true); close(s.ready) })
}

// update applies the state discovery reported. Endpoints of nodes that
// stay keep their stats and ejection; a node whose address or metadata
// changed gets a new Endpoint that inherits them, since pickers and
// callers may still hold the old one.
func (s *service) update(svcs []*discovery.Service) {
	s.mu.Lock()
	defer s.mu.Unlock()
	next := make(map[string]*Endpoint, len(s.endpoints))
	all := make([]*Endpoint, 0, len(s.endpoints))
	for _, sv := range svcs {
		for _, dn := range sv.Nodes {
			n := fromDiscovery(sv, dn)
			if !s.keep(&n) {
				continue
			}
			ep := s.endpoints[n.ID]
			switch {
			case ep == nil:
				ep = &Endpoint{node: n, svc: s, endpointState: &endpointState{}}
			case !ep.node.equal(&n):
				ep = ep.moveTo(n)
			}
			next[n.ID] = ep
			all = append(all, ep)
		}
	}
	for id, ep := range s.endpoints {
		if next[id] == nil {
			s.retired.addEndpoint(ep)
		}
	}
	slices.SortFunc(all, func(a, b *Endpoint) int { return strings.Compare(a.node.ID, b.node.ID) })
	s.endpoints, s.all = next, all
	s.synced, s.lastErr = true, nil
	s.failSince, s.failAt = time.Time{}, time.Time{}
	s.rebuild()
	s.markReady()
}

func (s *service) keep(n *Node) bool {
	for _, f := range s.r.o.filters {
		if !f(n) {
			return false
		}
	}
	return true
}

// failed records a discovery failure. Known nodes stay routable: a
// registry outage must not take the callers down with it.
func (s *service) failed(err error, permanent bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.r.o.now()
	if s.lastErr == nil {
		s.failSince = now
	}
	s.lastErr, s.failAt = err, now
	s.r.o.logger.Warn("router: discovery failed; routing to the last known nodes", "service", s.name, "nodes", len(s.all), "err", err)
	if !s.synced {
		sentinel := ErrUnavailable
		if permanent {
			sentinel = ErrNoNodes
		}
		s.snap.Store(&snapshot{err: fmt.Errorf("%w: %w", sentinel, err)})
	}
	s.markReady()
}

// rebuild publishes a new picker over the routable endpoints. s.mu is held.
func (s *service) rebuild() {
	o := &s.r.o
	if len(s.all) == 0 {
		s.snap.Store(&snapshot{err: ErrNoNodes})
		return
	}
	routable := make([]*Endpoint, 0, len(s.all))
	for _, ep := range s.all {
		if !ep.ejected {
			routable = append(routable, ep)
		}
	}
	if len(routable) == 0 {
		if !o.panicRouting {
			s.snap.Store(&snapshot{err: ErrAllEjected})
			return
		}
		routable = append(routable, s.all...)
	}
	if o.zone != "" {
		near := make([]*Endpoint, 0, len(routable))
		for _, ep := range routable {
			if ep.node.Zone == o.zone {
				near = append(near, ep)
			}
		}
		if len(near) > 0 {
			routable = near
		}
	}
	s.snap.Store(&snapshot{picker: o.strategy.Build(routable), nodes: routable})
}

// moveTo returns a new endpoint for the changed node n with ep's state.
// Requests in flight stay counted on ep, whose Done they will call.
func (ep *Endpoint) moveTo(n Node) *Endpoint {
	return &Endpoint{node: n, svc: ep.svc, endpointState: ep.endpointState}
}

// pick chooses an endpoint, avoiding avoid when another is available.
func (s *service) pick(key string, avoid *Endpoint) (Picked, error) {
	if s.throttle != nil && !s.throttle.Allow() {
		s.throttled.Add(1)
		return Picked{}, ErrThrottled
	}
	if s.limiter != nil && !s.limiter.Allow() {
		s.rateLimited.Add(1)
		return Picked{}, ErrRateLimited
	}
	if max := s.r.o.maxInFlight; max > 0 {
		if s.inflight.Add(1) > max {
			s.inflight.Add(-1)
			s.concurrencyLimited.Add(1)
			return Picked{}, ErrConcurrencyLimited
		}
	}
	snap := s.snap.Load()
	if snap.picker == nil {
		if s.r.o.maxInFlight > 0 {
			s.inflight.Add(-1)
		}
		s.refused.Add(1)
		return Picked{}, snap.err
	}
	ep := snap.picker.Pick(key)
	for i := 0; ; i++ {
		switch {
		case i == 3:
			// The strategy keeps choosing a busy probe or the node to
			// avoid (least-outstanding does, once the others are busier):
			// take any other node that is neither, else send it anyway.
			for _, other := range snap.nodes {
				if other != avoid && !other.probing.Load() {
					ep = other
					break
				}
			}
			ep.outstanding.Add(1)
			return Picked{Node: &ep.node, ep: ep}, nil
		case ep == avoid:
		case !ep.probing.Load():
			ep.outstanding.Add(1)
			return Picked{Node: &ep.node, ep: ep}, nil
		case ep.outstanding.CompareAndSwap(0, 1):
			// Half-open: one request at a time probes a readmitted node,
			// so that a node still broken fails one request, not its share.
			return Picked{Node: &ep.node, ep: ep}, nil
		}
		ep = snap.picker.Pick("")
	}
}

// Picked is the node chosen for one request. Call Done exactly once when
// the request ends: it feeds the latency, the outcome and the end of the
// request back to the strategy, the ejection, the throttle and the stats.
type Picked struct {
	// Node is where to send the request. Read-only.
	Node *Node
	ep   *Endpoint
}

// Done reports the request's outcome: err nil for a success, and how long
// it took. A context.Canceled error (the caller gave up) is not held
// against the node. Done never blocks and does not allocate.
func (p Picked) Done(err error, latency time.Duration) {
	ep := p.ep
	if ep == nil {
		return
	}
	s := ep.svc
	ep.outstanding.Add(-1)
	if s.r.o.maxInFlight > 0 {
		s.inflight.Add(-1)
	}
	failed := err != nil && !errors.Is(err, context.Canceled)
	ep.requests.Add(1)
	if failed {
		ep.errors.Add(1)
	}
	ep.observe(latency, failed, s.r.o.penalty)
	if s.throttle != nil {
		s.throttle.Record(!failed)
	}
	cfg := &s.r.o.ejection
	if cfg.Disabled {
		return
	}
	if failed {
		n := ep.consecutive.Add(1)
		if ep.probing.Load() {
			s.eject(ep, "failed its probe")
		} else if cfg.ConsecutiveFailures > 0 && int(n) >= cfg.ConsecutiveFailures {
			s.eject(ep, "consecutive failures")
		}
		return
	}
	if ep.consecutive.Load() != 0 {
		ep.consecutive.Store(0)
	}
	if ep.probing.Load() {
		ep.probing.Store(false)
	}
}

// check is the service's part of Router.Check; nil when healthy.
func (s *service) check(now time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.lastErr != nil {
		return &Error{Op: "check", Service: s.name, Err: &health.Error{Kind: ErrUnavailable, Last: s.lastErr, Since: s.failSince, Age: now.Sub(s.failAt)}}
	}
	if snap := s.snap.Load(); snap.picker == nil && errors.Is(snap.err, ErrAllEjected) {
		return &Error{Op: "check", Service: s.name, Err: ErrAllEjected}
	}
	return nil
}
