package router

import (
	"math/rand/v2"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/microos/go-os/internal/hashring"
)

// Strategy chooses the node for each request. Build is called whenever the
// set of routable endpoints changes (discovery update, ejection,
// readmission) and may allocate; the Picker it returns is an immutable
// snapshot (grpc-go's balancer.Picker model).
type Strategy interface {
	// Name identifies the strategy in Open's strategy= parameter and in stats.
	Name() string
	// Build returns a picker over endpoints, which is never empty. The
	// picker may keep the slice; the router never modifies it.
	Build(endpoints []*Endpoint) Picker
}

// Picker picks one endpoint of its snapshot. Pick must be safe for
// concurrent use, must not block and should not allocate: it runs on every
// request. key is the request's routing key ("" when it has none); only
// hashing strategies look at it.
type Picker interface {
	Pick(key string) *Endpoint
}

// Strategies returns every built-in strategy, by name.
func Strategies() map[string]Strategy {
	out := map[string]Strategy{}
	for _, s := range []Strategy{RoundRobin(), Random(), LeastOutstanding(), P2C(), Weighted(), ConsistentHash()} {
		out[s.Name()] = s
	}
	return out
}

type strategyFunc struct {
	name  string
	build func([]*Endpoint) Picker
}

func (s strategyFunc) Name() string                 { return s.name }
func (s strategyFunc) Build(eps []*Endpoint) Picker { return s.build(eps) }

// RoundRobin cycles through the nodes. The position survives across calls
// and picker rebuilds are started at a random offset, so that many clients
// do not all start on the first node.
//
// To scale with cores the counter is sharded like Envoy's per-worker
// balancers: each P (processor) usually reuses its own counter, so one
// goroutine sees strict rotation, and with S shards every node's share is
// within S picks of every other's.
func RoundRobin() Strategy {
	return strategyFunc{"round_robin", func(eps []*Endpoint) Picker { return newRoundRobin(eps) }}
}

type rrShard struct {
	next atomic.Uint64
	_    [56]byte // one cache line per shard
}

type roundRobin struct {
	eps    []*Endpoint
	shards []rrShard
	handed atomic.Uint32
	pool   sync.Pool
}

func newRoundRobin(eps []*Endpoint) *roundRobin {
	n := runtime.GOMAXPROCS(0)
	rr := &roundRobin{eps: eps, shards: make([]rrShard, n)}
	for i := range rr.shards {
		rr.shards[i].next.Store(rand.Uint64())
	}
	// The pool is per-P: Get returns the shard this P used last, without
	// allocating (a pointer fits in an interface).
	rr.pool.New = func() any { return &rr.shards[int(rr.handed.Add(1))%len(rr.shards)] }
	return rr
}

func (rr *roundRobin) Pick(string) *Endpoint {
	s := rr.pool.Get().(*rrShard)
	i := s.next.Add(1)
	rr.pool.Put(s)
	return rr.eps[i%uint64(len(rr.eps))]
}

// Random picks a node uniformly at random.
func Random() Strategy {
	return strategyFunc{"random", func(eps []*Endpoint) Picker { return randomPicker(eps) }}
}

type randomPicker []*Endpoint

func (r randomPicker) Pick(string) *Endpoint { return r[rand.IntN(len(r))] }

// LeastOutstanding picks the node with the fewest requests in flight: the
// exact minimum over up to 8 nodes (ties go to a random one), the better of
// two random nodes beyond (Envoy's LEAST_REQUEST), which is nearly as good
// and costs the same at any size.
func LeastOutstanding() Strategy {
	return strategyFunc{"least_outstanding", func(eps []*Endpoint) Picker { return leastOutstanding(eps) }}
}

type leastOutstanding []*Endpoint

func (l leastOutstanding) Pick(string) *Endpoint {
	n := len(l)
	if n > 8 {
		a, b := two(n)
		if l[b].outstanding.Load() < l[a].outstanding.Load() {
			return l[b]
		}
		return l[a]
	}
	start := rand.IntN(n)
	best := l[start]
	min := best.outstanding.Load()
	for i := 1; i < n; i++ {
		e := l[(start+i)%n]
		if o := e.outstanding.Load(); o < min {
			best, min = e, o
		}
	}
	return best
}

// two returns two distinct random indices below n (n ≥ 2).
func two(n int) (int, int) {
	r := rand.Uint64()
	a := int((r & 0xffffffff) * uint64(n) >> 32)
	b := int((r >> 32) * uint64(n-1) >> 32)
	if b >= a {
		b++
	}
	return a, b
}

// P2C is power of two choices over a peak-sensitive latency EWMA
// (Finagle's and go-zero's balancer): of two random nodes it picks the one
// with the lower latency × (requests in flight + 1). A node that turns slow
// or starts failing (failures count as slow, see WithFailurePenalty) loses
// its traffic within a few requests, without a central scan.
func P2C() Strategy {
	return strategyFunc{"p2c", func(eps []*Endpoint) Picker { return p2c(eps) }}
}

type p2c []*Endpoint

func (p p2c) Pick(string) *Endpoint {
	if len(p) == 1 {
		return p[0]
	}
	a, b := two(len(p))
	ea, eb := p[a], p[b]
	if cost(eb) < cost(ea) {
		return eb
	}
	return ea
}

func cost(e *Endpoint) int64 {
	return (e.ewma.Load() + 1) * (e.outstanding.Load() + 1)
}

// Weighted picks a node at random in proportion to its weight (MetaWeight
// in its metadata, default 1). Nodes of weight 0 get traffic only when no
// node has a weight.
func Weighted() Strategy {
	return strategyFunc{"weighted", func(eps []*Endpoint) Picker { return newWeighted(eps) }}
}

type weighted struct {
	eps []*Endpoint
	cum []uint64 // cum[i] = sum of weights of eps[:i+1]
}

func newWeighted(eps []*Endpoint) Picker {
	w := &weighted{eps: eps, cum: make([]uint64, len(eps))}
	var total uint64
	for i, e := range eps {
		total += uint64(e.node.Weight())
		w.cum[i] = total
	}
	if total == 0 {
		return randomPicker(eps)
	}
	return w
}

func (w *weighted) Pick(string) *Endpoint {
	r := rand.Uint64N(w.cum[len(w.cum)-1])
	i, _ := slices.BinarySearch(w.cum, r+1)
	return w.eps[i]
}

// ConsistentHash routes a request by its key on a ketama ring of the
// nodes' IDs, so that requests for one key (a user, a shard) reach the same
// node while the node set is stable, and only about 1/N of the keys move
// when one of N nodes comes or goes (ejection included). Requests without
// a key go to a random node. The ring is ketama's (internal/hashring, as
// memcachekv uses), so a pick costs an MD5 of the key: about 200 ns.
func ConsistentHash() Strategy {
	return strategyFunc{"hash", func(eps []*Endpoint) Picker { return newHashPicker(eps) }}
}

type hashPicker struct {
	eps  []*Endpoint
	ring *hashring.Ring
}

func newHashPicker(eps []*Endpoint) Picker {
	ids := make([]string, len(eps))
	for i, e := range eps {
		ids[i] = e.node.ID
	}
	return &hashPicker{eps: eps, ring: hashring.New(ids...)}
}

func (h *hashPicker) Pick(key string) *Endpoint {
	if key == "" {
		return h.eps[rand.IntN(len(h.eps))]
	}
	return h.eps[h.ring.Locate(key)]
}
