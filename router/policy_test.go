package router

import (
	"context"
	"errors"
	"strconv"
	"testing"
	"time"

	"github.com/microos/go-os/discovery"
)

// newTestRouter returns a router over n nodes of service "api" whose
// ejection clock is clock (advanced by the test, evaluate called by it).
func newTestRouter(t *testing.T, n int, clock *simClock, opts ...Option) (*Router, *service) {
	t.Helper()
	reg := discovery.NewMemory()
	t.Cleanup(func() { reg.Close() })
	svc := &discovery.Service{Name: "api"}
	for i := 0; i < n; i++ {
		svc.Nodes = append(svc.Nodes, &discovery.Node{ID: "api-" + strconv.Itoa(i), Address: "10.0.0." + strconv.Itoa(i), Port: 80,
			Metadata: map[string]string{MetaWeight: strconv.Itoa(i)}})
	}
	if err := reg.Register(context.Background(), svc); err != nil {
		t.Fatal(err)
	}
	r := New(reg, append([]Option{withClock(clock.now)}, opts...)...)
	t.Cleanup(func() { r.Close() })
	s, err := r.service(context.Background(), "api")
	if err != nil {
		t.Fatal(err)
	}
	return r, s
}

func newClock() *simClock {
	c := &simClock{}
	c.ns.Store(time.Unix(1_800_000_000, 0).UnixNano())
	return c
}

func (c *simClock) advance(d time.Duration) { c.ns.Add(int64(d)) }

func TestErrorRateEjectsAndProbeFailureDoubles(t *testing.T) {
	clock := newClock()
	_, s := newTestRouter(t, 3, clock, WithStrategy(RoundRobin()), WithThrottle(0),
		WithEjection(Ejection{ConsecutiveFailures: -1, ErrorRate: 0.5, MinRequests: 10, BaseTime: time.Second}))
	boom := errors.New("boom")
	// api-1 fails 2 requests in 3: the error rate, not failures in a row.
	fails := 0
	for i := 0; i < 90; i++ {
		p, err := s.pick("", nil)
		if err != nil {
			t.Fatal(err)
		}
		var e error
		if p.Node.ID == "api-1" {
			fails++
			if fails%3 != 0 {
				e = boom
			}
		}
		p.Done(e, time.Millisecond)
	}
	clock.advance(time.Second)
	s.evaluate(clock.now())
	if !ejected(s, "api-1") || ejected(s, "api-0") {
		t.Fatalf("after an interval at 50%% errors, api-1 ejected = %v (api-0 %v)", ejected(s, "api-1"), ejected(s, "api-0"))
	}
	// Back after BaseTime, half-open; a failed probe ejects it for 2×.
	clock.advance(time.Second)
	s.evaluate(clock.now())
	if ejected(s, "api-1") {
		t.Fatal("api-1 not readmitted after BaseTime")
	}
	for {
		p, _ := s.pick("", nil)
		if p.Node.ID == "api-1" {
			p.Done(boom, time.Millisecond)
			break
		}
		p.Done(nil, time.Millisecond)
	}
	if !ejected(s, "api-1") {
		t.Fatal("a failed probe did not eject api-1 again")
	}
	clock.advance(1500 * time.Millisecond)
	s.evaluate(clock.now())
	if !ejected(s, "api-1") {
		t.Fatal("the second ejection did not last twice as long")
	}
	clock.advance(time.Second)
	s.evaluate(clock.now())
	if ejected(s, "api-1") {
		t.Fatal("api-1 not readmitted after 2×BaseTime")
	}
	// A successful probe closes it.
	for {
		p, _ := s.pick("", nil)
		p.Done(nil, time.Millisecond)
		if p.Node.ID == "api-1" {
			break
		}
	}
	if s.endpoints["api-1"].probing.Load() {
		t.Error("api-1 still half-open after a successful probe")
	}
}

func ejected(s *service, id string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.endpoints[id].ejected
}

func TestMaxFractionCapsEjection(t *testing.T) {
	clock := newClock()
	_, s := newTestRouter(t, 4, clock, WithThrottle(0),
		WithEjection(Ejection{ConsecutiveFailures: 1, MaxFraction: 0.5}))
	for i := 0; i < 40; i++ {
		p, err := s.pick("", nil)
		if err != nil {
			t.Fatalf("pick %d: %v (MaxFraction 0.5 must keep half the nodes)", i, err)
		}
		p.Done(errors.New("boom"), time.Millisecond)
	}
	n := 0
	for _, ep := range s.all {
		if ejected(s, ep.node.ID) {
			n++
		}
	}
	if n != 2 {
		t.Errorf("%d of 4 nodes ejected, want MaxFraction's 2", n)
	}
}

func TestLimitsRefuseLocally(t *testing.T) {
	clock := newClock()
	r, s := newTestRouter(t, 2, clock, WithMaxConcurrent(2), WithRateLimit(0.001, 3), WithThrottle(0))
	a, _ := r.Pick(context.Background(), "api", "")
	b, _ := r.Pick(context.Background(), "api", "")
	if _, err := r.Pick(context.Background(), "api", ""); !errors.Is(err, ErrConcurrencyLimited) || !Local(err) {
		t.Fatalf("third concurrent pick = %v, want ErrConcurrencyLimited", err)
	}
	a.Done(nil, 0)
	b.Done(nil, 0)
	_, err := r.Pick(context.Background(), "api", "")
	if !errors.Is(err, ErrRateLimited) {
		t.Fatalf("fourth pick in a burst of 3 = %v, want ErrRateLimited", err)
	}
	st := s.stats()
	if st.ConcurrencyLimited != 1 || st.RateLimited != 1 {
		t.Errorf("stats: %d concurrency limited, %d rate limited; want 1 and 1", st.ConcurrencyLimited, st.RateLimited)
	}
}

func TestThrottleRejectsAFailingService(t *testing.T) {
	clock := newClock()
	r, _ := newTestRouter(t, 2, clock, WithEjection(Ejection{Disabled: true}))
	throttled := 0
	for i := 0; i < 500; i++ {
		p, err := r.Pick(context.Background(), "api", "")
		if errors.Is(err, ErrThrottled) {
			throttled++
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		p.Done(errors.New("boom"), time.Millisecond)
	}
	if throttled < 100 {
		t.Errorf("%d of 500 picks throttled while every request fails, want most", throttled)
	}
	st, _ := r.ServiceStats("api")
	if st.Throttled != uint64(throttled) {
		t.Errorf("Stats.Throttled = %d, want %d", st.Throttled, throttled)
	}
}

func TestWeightedFollowsWeights(t *testing.T) {
	eps := []*Endpoint{
		NewEndpoint(Node{ID: "drained", Metadata: map[string]string{MetaWeight: "0"}}),
		NewEndpoint(Node{ID: "one"}),
		NewEndpoint(Node{ID: "three", Metadata: map[string]string{MetaWeight: "3"}}),
	}
	p := Weighted().Build(eps)
	count := map[string]int{}
	for i := 0; i < 40000; i++ {
		count[p.Pick("").node.ID]++
	}
	if count["drained"] != 0 {
		t.Errorf("a node of weight 0 got %d picks", count["drained"])
	}
	if ratio := float64(count["three"]) / float64(count["one"]); ratio < 2.7 || ratio > 3.3 {
		t.Errorf("weight 3 vs 1 got a ratio of %.2f, want about 3 (%v)", ratio, count)
	}
}

func TestLeastOutstandingAvoidsBusyNodes(t *testing.T) {
	for _, n := range []int{4, 20} {
		eps := make([]*Endpoint, n)
		for i := range eps {
			eps[i] = NewEndpoint(Node{ID: strconv.Itoa(i)})
			eps[i].outstanding.Store(10)
		}
		eps[n-1].outstanding.Store(0)
		p := LeastOutstanding().Build(eps)
		idle := 0
		for i := 0; i < 1000; i++ {
			if p.Pick("") == eps[n-1] {
				idle++
			}
		}
		// Exact below 8 nodes; best of two above, which finds it in ≈2/n of picks.
		if want := 1000 * 3 / (2 * n); (n <= 8 && idle != 1000) || idle < want/2 {
			t.Errorf("%d nodes: the idle node got %d of 1000 picks", n, idle)
		}
	}
}

func TestWithFilter(t *testing.T) {
	clock := newClock()
	_, s := newTestRouter(t, 4, clock, WithFilter(func(n *Node) bool { return n.ID != "api-3" }))
	if len(s.all) != 3 {
		t.Errorf("WithFilter kept %d nodes, want 3", len(s.all))
	}
}

// Half-open: a readmitted node takes one request at a time until its probe
// answers, not its full share of everything in flight.
func TestHalfOpenSendsOneProbe(t *testing.T) {
	clock := newClock()
	_, s := newTestRouter(t, 2, clock, WithStrategy(LeastOutstanding()), WithThrottle(0),
		WithEjection(Ejection{ConsecutiveFailures: 1, BaseTime: 100 * time.Millisecond, MaxFraction: 1}))
	// Fail api-0 once: ejected.
	for {
		p, err := s.pick("", nil)
		if err != nil {
			t.Fatal(err)
		}
		if p.Node.ID == "api-0" {
			p.Done(errors.New("boom"), time.Millisecond)
			break
		}
		p.Done(nil, time.Millisecond)
	}
	clock.advance(time.Second)
	s.evaluate(time.Unix(0, clock.ns.Load())) // readmitted half-open
	var picks []Picked
	toProbe := 0
	for i := 0; i < 100; i++ {
		p, err := s.pick("", nil)
		if err != nil {
			t.Fatal(err)
		}
		if p.Node.ID == "api-0" {
			toProbe++
		}
		picks = append(picks, p)
	}
	for _, p := range picks {
		p.Done(nil, time.Millisecond)
	}
	if toProbe != 1 {
		t.Fatalf("%d of 100 concurrent requests went to the node on probation, want 1", toProbe)
	}
}

// Requests picked before a node's metadata changed still count: their
// results reach the node's stats and its ejection.
func TestResultsSurviveANodeChange(t *testing.T) {
	clock := newClock()
	r, s := newTestRouter(t, 1, clock, WithThrottle(0), WithEjection(Ejection{ConsecutiveFailures: 1, MaxFraction: 1}))
	var picks []Picked
	for i := 0; i < 5; i++ {
		p, err := s.pick("", nil)
		if err != nil {
			t.Fatal(err)
		}
		picks = append(picks, p)
	}
	// Re-register api-0 with other metadata: its endpoint is remade.
	if err := s.r.res.(discovery.Registry).Register(context.Background(), &discovery.Service{Name: "api", Nodes: []*discovery.Node{
		{ID: "api-0", Address: "10.0.0.0", Port: 80, Metadata: map[string]string{"canary": "true"}}}}); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(5 * time.Second); ; {
		p, err := s.pick("", nil)
		if err == nil {
			p.Done(context.Canceled, 0) // not held against the node
			if p.Node.Metadata["canary"] == "true" {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatal("the router never saw the changed node")
		}
		time.Sleep(5 * time.Millisecond)
	}
	for _, p := range picks {
		p.Done(errors.New("boom"), time.Millisecond)
	}
	st, _ := r.ServiceStats("api")
	if len(st.Nodes) != 1 || st.Nodes[0].Errors != 5 || st.Nodes[0].Ejections != 1 {
		t.Fatalf("stats after results from before the change: %+v", st.Nodes)
	}
}
