package router

import (
	"context"
	"slices"
	"strings"
	"sync"
	"time"
)

// Stats is what the router recorded for one service since it started
// routing to it.
type Stats struct {
	Service string
	// Requests and Errors count the results reported with Done (Errors:
	// those with a non-nil error other than context.Canceled), over every
	// node the service has had.
	Requests, Errors uint64
	// Ejections counts the nodes ejected, over every node the service has had.
	Ejections uint64
	// Throttled, RateLimited, ConcurrencyLimited and Refused count picks
	// refused locally: by the adaptive throttle, the rate limit, the
	// concurrency limit, and for want of a routable node.
	Throttled, RateLimited, ConcurrencyLimited, Refused uint64
	// Retries counts the retries Do and Transport made, Hedges the hedged
	// calls Do sent (Retry.HedgeAfter).
	Retries, Hedges uint64
	// Latency is the distribution of the results' latencies.
	Latency Histogram
	// Nodes are the service's current nodes, by ID.
	Nodes []NodeStats
	// DiscoveryErr is discovery's last failure while it has not recovered:
	// the router is routing to the last nodes it knew.
	DiscoveryErr error
}

// NodeStats is what the router recorded for one node.
type NodeStats struct {
	Node                        Node
	Requests, Errors, Ejections uint64
	Outstanding                 int64
	// EWMA is the latency average P2C uses (failures count as slow).
	EWMA    time.Duration
	Latency Histogram
	// Ejected: the node gets no traffic until its ejection ends.
	Ejected bool
}

func (n *NodeStats) addEndpoint(ep *Endpoint) {
	n.Requests += ep.requests.Load()
	n.Errors += ep.errors.Load()
	n.Ejections += ep.ejections.Load()
	n.Latency.add(ep.latency.snapshot())
}

// Stats returns the stats of every service the router has routed to,
// sorted by service name.
func (r *Router) Stats() []Stats {
	m := *r.services.Load()
	out := make([]Stats, 0, len(m))
	for _, s := range m {
		out = append(out, s.stats())
	}
	slices.SortFunc(out, func(a, b Stats) int { return strings.Compare(a.Service, b.Service) })
	return out
}

// ServiceStats returns the stats of one service, and false if the router
// has not routed to it.
func (r *Router) ServiceStats(service string) (Stats, bool) {
	s := (*r.services.Load())[service]
	if s == nil {
		return Stats{Service: service}, false
	}
	return s.stats(), true
}

func (s *service) stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := Stats{
		Service:            s.name,
		Requests:           s.retired.Requests,
		Errors:             s.retired.Errors,
		Ejections:          s.retired.Ejections,
		Latency:            s.retired.Latency,
		Throttled:          s.throttled.Load(),
		RateLimited:        s.rateLimited.Load(),
		ConcurrencyLimited: s.concurrencyLimited.Load(),
		Refused:            s.refused.Load(),
		Retries:            s.retries.Load(),
		Hedges:             s.hedges.Load(),
		DiscoveryErr:       s.lastErr,
		Nodes:              make([]NodeStats, 0, len(s.all)),
	}
	for _, ep := range s.all {
		n := NodeStats{Node: ep.node, Outstanding: ep.outstanding.Load(), EWMA: ep.Latency(), Ejected: ep.ejected}
		n.addEndpoint(ep)
		st.Requests += n.Requests
		st.Errors += n.Errors
		st.Ejections += n.Ejections
		st.Latency.add(n.Latency)
		st.Nodes = append(st.Nodes, n)
	}
	return st
}

// Sink receives the router's stats on an interval (WithSink). Publish runs
// on the router's goroutine, with a ctx that ends at the next interval.
type Sink interface {
	Publish(ctx context.Context, stats []Stats) error
}

// SinkFunc is a function used as a Sink.
type SinkFunc func(ctx context.Context, stats []Stats) error

// Publish calls f.
func (f SinkFunc) Publish(ctx context.Context, stats []Stats) error { return f(ctx, stats) }

// MemorySink keeps the last stats published, for tests and for a status
// page. It is safe for concurrent use.
type MemorySink struct {
	mu    sync.Mutex
	last  []Stats
	count int
}

// NewMemorySink returns an empty MemorySink.
func NewMemorySink() *MemorySink { return &MemorySink{} }

// Publish keeps stats.
func (m *MemorySink) Publish(_ context.Context, stats []Stats) error {
	m.mu.Lock()
	m.last = stats
	m.count++
	m.mu.Unlock()
	return nil
}

// Last returns the stats last published (nil before the first) and how
// many times stats were published.
func (m *MemorySink) Last() ([]Stats, int) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.last, m.count
}
