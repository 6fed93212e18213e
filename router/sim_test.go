package router

import (
	"container/heap"
	"context"
	"errors"
	"math/rand/v2"
	"slices"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/microos/go-os/discovery"
)

// The simulations run the real router (discovery, strategies, ejection,
// Done feedback) in virtual time: requests complete in the order of their
// simulated latencies, so that seconds of traffic take milliseconds and
// the results do not depend on the machine's load.

type simClock struct{ ns atomic.Int64 }

func (c *simClock) now() time.Time { return time.Unix(0, c.ns.Load()) }

type simEvent struct {
	at   time.Duration
	p    Picked
	lat  time.Duration
	err  error
	node int
}

type simQueue []simEvent

func (q simQueue) Len() int           { return len(q) }
func (q simQueue) Less(i, j int) bool { return q[i].at < q[j].at }
func (q simQueue) Swap(i, j int)      { q[i], q[j] = q[j], q[i] }
func (q *simQueue) Push(x any)        { *q = append(*q, x.(simEvent)) }
func (q *simQueue) Pop() any {
	old := *q
	e := old[len(old)-1]
	*q = old[:len(old)-1]
	return e
}

type simResult struct {
	latencies []time.Duration // of completed requests, in completion order
	perNode   [][]int         // perNode[second][node]: requests started
	failed    int             // requests that failed
}

func (s *simResult) quantile(q float64) time.Duration {
	l := slices.Clone(s.latencies)
	slices.Sort(l)
	return l[int(q*float64(len(l)-1))]
}

// simulate sends traffic from `inflight` concurrent callers for `length`
// of virtual time to nodes whose latency and outcome model gives.
func simulate(t *testing.T, nodes int, inflight int, length time.Duration, model func(node int, at time.Duration) (time.Duration, error), opts ...Option) simResult {
	t.Helper()
	reg := discovery.NewMemory()
	defer reg.Close()
	svc := &discovery.Service{Name: "sim"}
	for i := 0; i < nodes; i++ {
		svc.Nodes = append(svc.Nodes, &discovery.Node{ID: "n" + strconv.Itoa(i), Address: "10.0.0." + strconv.Itoa(i), Port: 80})
	}
	if err := reg.Register(context.Background(), svc); err != nil {
		t.Fatal(err)
	}
	clock := &simClock{}
	clock.ns.Store(time.Unix(1_800_000_000, 0).UnixNano())
	start := clock.ns.Load()
	// withClock: evaluate runs below in virtual time, never from the router's ticker.
	r := New(reg, append([]Option{withClock(clock.now), WithThrottle(0)}, opts...)...)
	defer r.Close()
	s, err := r.service(context.Background(), "sim")
	if err != nil {
		t.Fatal(err)
	}
	interval := r.o.ejection.Interval
	nodeOf := map[string]int{}
	for i, n := range svc.Nodes {
		nodeOf[n.Address+":80"] = i
	}

	var res simResult
	q := &simQueue{}
	issue := func(now time.Duration) {
		sec := int(now / time.Second)
		for len(res.perNode) <= sec {
			res.perNode = append(res.perNode, make([]int, nodes))
		}
		p, err := s.pick("", nil)
		if err != nil {
			t.Fatalf("pick at %v: %v", now, err)
		}
		n := nodeOf[p.Node.Address]
		res.perNode[sec][n]++
		lat, err := model(n, now)
		heap.Push(q, simEvent{at: now + lat, p: p, lat: lat, err: err, node: n})
	}
	for i := 0; i < inflight; i++ {
		issue(0)
	}
	nextEval := interval
	for q.Len() > 0 {
		ev := heap.Pop(q).(simEvent)
		for ev.at >= nextEval {
			clock.ns.Store(start + int64(nextEval))
			s.evaluate(clock.now())
			nextEval += interval
		}
		clock.ns.Store(start + int64(ev.at))
		ev.p.Done(ev.err, ev.lat)
		res.latencies = append(res.latencies, ev.lat)
		if ev.err != nil {
			res.failed++
		}
		if ev.at < length {
			issue(ev.at)
		}
	}
	return res
}

func jitter(d time.Duration) time.Duration {
	return time.Duration(float64(d) * (0.5 + rand.Float64()))
}

// 10 nodes, one 10× slower: P2C's p99 must be at most half of round robin's.
func TestSimulationSlowNode(t *testing.T) {
	model := func(node int, _ time.Duration) (time.Duration, error) {
		if node == 3 {
			return jitter(10 * time.Millisecond), nil
		}
		return jitter(time.Millisecond), nil
	}
	rr := simulate(t, 10, 20, 10*time.Second, model, WithStrategy(RoundRobin()))
	p2 := simulate(t, 10, 20, 10*time.Second, model, WithStrategy(P2C()))
	rr99, p299 := rr.quantile(0.99), p2.quantile(0.99)
	share := func(r simResult) float64 {
		var slow, all int
		for _, sec := range r.perNode {
			for n, c := range sec {
				all += c
				if n == 3 {
					slow += c
				}
			}
		}
		return float64(slow) / float64(all)
	}
	t.Logf("slow node: p99 round_robin %v, p2c %v (ratio %.3f); p50 %v vs %v; slow node's share %.2f%% vs %.2f%% of %d vs %d requests",
		rr99, p299, float64(p299)/float64(rr99), rr.quantile(0.5), p2.quantile(0.5), 100*share(rr), 100*share(p2), len(rr.latencies), len(p2.latencies))
	if float64(p299) > 0.5*float64(rr99) {
		t.Errorf("p2c p99 %v is more than half of round robin's %v", p299, rr99)
	}
}

// A node failing every request gets < 5% of the traffic within the first
// second, and is probed back (and gets its share again) after it recovers.
func TestSimulationFailingNode(t *testing.T) {
	const recovery = 3 * time.Second
	model := func(node int, at time.Duration) (time.Duration, error) {
		if node == 7 && at < recovery {
			return jitter(500 * time.Microsecond), errors.New("503")
		}
		return jitter(time.Millisecond), nil
	}
	for _, strategy := range []Strategy{RoundRobin(), P2C(), LeastOutstanding(), Random()} {
		t.Run(strategy.Name(), func(t *testing.T) {
			res := simulate(t, 10, 20, 12*time.Second, model, WithStrategy(strategy),
				WithEjection(Ejection{BaseTime: 2 * time.Second, Interval: 100 * time.Millisecond}))
			share := func(sec int) float64 {
				all := 0
				for _, c := range res.perNode[sec] {
					all += c
				}
				return float64(res.perNode[sec][7]) / float64(all)
			}
			last := len(res.perNode) - 1
			t.Logf("%s: failing node's share: first second %.3f%% (%d requests), last second %.2f%%; %d of %d requests failed",
				strategy.Name(), 100*share(0), res.perNode[0][7], 100*share(last), res.failed, len(res.latencies))
			if share(0) >= 0.05 {
				t.Errorf("the failing node got %.2f%% of the first second's traffic, want < 5%%", 100*share(0))
			}
			if share(last) < 0.05 {
				t.Errorf("after recovery the node gets %.2f%% of the traffic, want its share back (≈10%%)", 100*share(last))
			}
		})
	}
}
