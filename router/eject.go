package router

import (
	"time"
)

// Ejection is outlier detection per node (Envoy's outlier_detection): a
// node that fails ConsecutiveFailures requests in a row, or ErrorRate of
// at least MinRequests requests within an Interval, stops getting traffic
// for BaseTime, doubled for each ejection in a row up to MaxTime. When its
// time is up it is readmitted half-open: its next result decides, a
// success keeps it, a failure ejects it again at once. The zero value
// takes every default.
type Ejection struct {
	// Disabled turns ejection off: nodes are only left by discovery.
	Disabled bool
	// ConsecutiveFailures ejects a node after that many failures in a row
	// (default 5; negative: never on this ground).
	ConsecutiveFailures int
	// ErrorRate ejects a node whose share of failures over an Interval
	// reaches it (default 0.5; negative: never on this ground).
	ErrorRate float64
	// MinRequests is how many results an Interval needs before ErrorRate
	// judges the node (default 10).
	MinRequests int
	// Interval is how often error rates are evaluated and ejected nodes
	// whose time is up are readmitted (default 1 s).
	Interval time.Duration
	// BaseTime is the first ejection's length (default 5 s).
	BaseTime time.Duration
	// MaxTime caps the growing ejection length (default 5 min).
	MaxTime time.Duration
	// MaxFraction is the largest share of a service's nodes ejected at
	// once (default 1: all of them, then picks fail with ErrAllEjected
	// unless WithPanicRouting).
	MaxFraction float64
}

func (e Ejection) withDefaults() Ejection {
	if e.ConsecutiveFailures == 0 {
		e.ConsecutiveFailures = 5
	}
	if e.ErrorRate == 0 {
		e.ErrorRate = 0.5
	}
	if e.MinRequests <= 0 {
		e.MinRequests = 10
	}
	if e.Interval <= 0 {
		e.Interval = time.Second
	}
	if e.BaseTime <= 0 {
		e.BaseTime = 5 * time.Second
	}
	if e.MaxTime < e.BaseTime {
		e.MaxTime = max(5*time.Minute, e.BaseTime)
	}
	if e.MaxFraction <= 0 || e.MaxFraction > 1 {
		e.MaxFraction = 1
	}
	return e
}

// eject takes ep out of the picker for its back-off, unless it is gone,
// already out, or MaxFraction is reached.
func (s *service) eject(ep *Endpoint, why string) {
	cfg := &s.r.o.ejection
	s.mu.Lock()
	defer s.mu.Unlock()
	cur := s.endpoints[ep.node.ID]
	if cur == nil || cur.endpointState != ep.endpointState || cur.ejected {
		return // gone, or out already
	}
	ep = cur // the node may have changed since the pick: eject what routes now
	out := 0
	for _, e := range s.all {
		if e.ejected {
			out++
		}
	}
	if float64(out+1) > cfg.MaxFraction*float64(len(s.all))+1e-9 {
		return
	}
	ep.ejected = true
	ep.probing.Store(false)
	ep.consecutive.Store(0)
	ep.streak++
	d := cfg.BaseTime
	for i := 1; i < ep.streak && d < cfg.MaxTime; i++ {
		d *= 2
	}
	d = min(d, cfg.MaxTime)
	ep.ejectedUntil = s.r.o.now().Add(d)
	ep.ejections.Add(1)
	s.r.o.logger.Warn("router: node ejected", "service", s.name, "node", ep.node.ID, "address", ep.node.Address, "reason", why, "for", d)
	s.rebuild()
}

// evaluate runs once per Interval: it ejects nodes over the error rate and
// readmits those whose ejection is over.
func (s *service) evaluate(now time.Time) {
	cfg := &s.r.o.ejection
	var overRate []*Endpoint
	s.mu.Lock()
	changed := false
	for _, ep := range s.all {
		req, errs := ep.requests.Load(), ep.errors.Load()
		dr, de := req-ep.lastRequests, errs-ep.lastErrors
		ep.lastRequests, ep.lastErrors = req, errs
		if dr == 0 {
			// Nothing to learn from an idle node's EWMA: let it decay, so
			// that P2C tries again a node that was slow once.
			ep.ewma.Store(ep.ewma.Load() / 2)
		}
		switch {
		case ep.ejected:
			if !now.Before(ep.ejectedUntil) {
				ep.ejected = false
				ep.probing.Store(true)
				changed = true
				s.r.o.logger.Info("router: node readmitted half-open", "service", s.name, "node", ep.node.ID)
			}
		case cfg.ErrorRate > 0 && dr >= uint64(cfg.MinRequests) && float64(de) >= cfg.ErrorRate*float64(dr):
			overRate = append(overRate, ep)
		case de == 0 && dr > 0 && ep.streak > 0 && !ep.probing.Load():
			ep.streak-- // a clean interval forgives one past ejection
		}
	}
	if changed {
		s.rebuild()
	}
	s.mu.Unlock()
	for _, ep := range overRate {
		s.eject(ep, "error rate")
	}
}
