package router

import (
	"sync/atomic"
	"time"
)

// Endpoint is a node together with the state the router keeps for it:
// requests in flight, latency, stats and ejection. Strategies read it to
// choose; only the router writes it. An Endpoint lives as long as its node
// stays registered, across picker rebuilds.
type Endpoint struct {
	node Node
	svc  *service
	// The state lives apart from the node so that an endpoint remade for
	// a changed node (new address, metadata or version) shares it with
	// the old one: requests picked before the change report into the same
	// counters, ejection and stats.
	*endpointState
}

type endpointState struct {
	outstanding atomic.Int64
	ewma        atomic.Int64 // latency EWMA in ns; 0 until the first result
	consecutive atomic.Int32 // failures since the last success
	requests    atomic.Uint64
	errors      atomic.Uint64
	ejections   atomic.Uint64
	latency     histogram
	probing     atomic.Bool // readmitted after ejection: the next result decides

	// Guarded by svc.mu.
	ejected      bool
	ejectedUntil time.Time
	streak       int // ejections in a row, for the growing back-off
	lastRequests uint64
	lastErrors   uint64
}

// Node is the node this endpoint routes to.
func (e *Endpoint) Node() *Node { return &e.node }

// Outstanding is the number of picks of this endpoint whose Done has not
// been called yet.
func (e *Endpoint) Outstanding() int64 { return e.outstanding.Load() }

// Latency is the endpoint's latency EWMA (peak-sensitive: a slow result
// raises it at once, fast ones lower it gradually), with failures counted
// as slow. It is 0 before the first result.
func (e *Endpoint) Latency() time.Duration { return time.Duration(e.ewma.Load()) }

// ewmaShift sets how much of the old EWMA survives a faster result: 1/8, so
// about 8 results move it most of the way (no clock read per result).
const ewmaShift = 3

func (e *Endpoint) observe(latency time.Duration, failed bool, penalty time.Duration) {
	lat := int64(latency)
	if failed && lat < int64(penalty) {
		lat = int64(penalty)
	}
	old := e.ewma.Load()
	next := lat
	if old != 0 && lat < old {
		next = old - (old-lat)>>ewmaShift
	}
	// A lost update under a race only delays the average by one result.
	e.ewma.Store(next)
	e.latency.record(latency)
}

// NewEndpoint returns an endpoint for n that belongs to no router, to test
// a Strategy on its own (routertest.RunStrategy does).
func NewEndpoint(n Node) *Endpoint { return &Endpoint{node: n, endpointState: &endpointState{}} }
