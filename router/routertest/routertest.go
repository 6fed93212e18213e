// Package routertest is the conformance suite of the router: Run routes
// over a discovery backend (the memory registry in the router package,
// Consul against a real agent) and checks what every deployment relies
// on; RunStrategy checks a Strategy on its own. When a behaviour of the
// router matters, it is here.
package routertest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/microos/go-os/discovery"
	"github.com/microos/go-os/oserr"
	"github.com/microos/go-os/router"
)

// Harness describes the discovery backend under test.
type Harness struct {
	// Registry returns a registry on the backend; the suite registers its
	// nodes through it, routes over it, and closes it. Every test uses
	// service names of its own.
	Registry func(t *testing.T) discovery.Registry
	// Propagation bounds how long a registration takes to reach a watch
	// (default 5 s); the suite polls until then.
	Propagation time.Duration
	// Outage returns a registry on a path to the backend that the suite
	// can cut (stop: kill a server of the test's own, or stop a
	// testenv.Proxy) and restore (start), for the Check case. The registry
	// should retry quickly (discovery.WithRetry). Required.
	Outage func(t *testing.T) (reg discovery.Registry, stop, start func())
}

// Run runs the suite.
func Run(t *testing.T, h Harness) {
	if h.Propagation <= 0 {
		h.Propagation = 5 * time.Second
	}
	run := randomHex(4)
	tests := []struct {
		name string
		fn   func(t *testing.T, e *env)
	}{
		{"PicksRegisteredNodes", testPicksRegistered},
		{"FollowsChanges", testFollowsChanges},
		{"UnknownService", testUnknownService},
		{"VersionAndLabelFilters", testFilters},
		{"ZonePreferenceFallsBack", testZoneFallback},
		{"EjectionAndProbe", testEjection},
		{"AllEjected", testAllEjected},
		{"DoRetriesOnAnotherNode", testDoRetries},
		{"ConsistentHashIsStable", testHashStable},
		{"Stats", testStats},
		{"ConcurrentPicks", testConcurrent},
		{"Close", testClose},
	}
	t.Run("CheckFollowsDiscovery", func(t *testing.T) {
		t.Parallel()
		testCheck(t, h, "routertest-"+run+"-check")
	})
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			reg := h.Registry(t)
			t.Cleanup(func() { reg.Close() })
			e := &env{t: t, reg: reg, h: h, service: "routertest-" + run + "-" + strings.ToLower(tc.name)}
			tc.fn(t, e)
		})
	}
}

type env struct {
	t       *testing.T
	reg     discovery.Registry
	h       Harness
	service string
	port    int
}

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return c
}

// node describes a node to register: id, version, zone and metadata.
type node struct {
	id, version, zone string
	meta              map[string]string
}

// register registers the nodes (each on its own loopback port) and
// returns their addresses by id.
func (e *env) register(nodes ...node) map[string]string {
	e.t.Helper()
	addrs := map[string]string{}
	for _, n := range nodes {
		e.port++
		dn := &discovery.Node{ID: e.service + "-" + n.id, Address: "127.0.0.1", Port: 20000 + e.port, Zone: n.zone, Metadata: n.meta}
		svc := &discovery.Service{Name: e.service, Version: n.version, Nodes: []*discovery.Node{dn}}
		if err := e.reg.Register(ctx(e.t), svc); err != nil {
			e.t.Fatalf("register %s: %v", n.id, err)
		}
		e.t.Cleanup(func() { e.reg.Deregister(context.Background(), svc) })
		addrs[n.id] = "127.0.0.1:" + strconv.Itoa(dn.Port)
	}
	return addrs
}

func (e *env) deregister(n node) {
	e.t.Helper()
	svc := &discovery.Service{Name: e.service, Version: n.version, Nodes: []*discovery.Node{{ID: e.service + "-" + n.id, Address: "127.0.0.1"}}}
	if err := e.reg.Deregister(ctx(e.t), svc); err != nil {
		e.t.Fatalf("deregister %s: %v", n.id, err)
	}
}

func (e *env) router(opts ...router.Option) *router.Router {
	r := router.New(e.reg, opts...)
	e.t.Cleanup(func() { r.Close() })
	return r
}

// picks picks n times (reporting success to Done) and counts the addresses.
func (e *env) picks(r *router.Router, n int, key string) (map[string]int, error) {
	seen := map[string]int{}
	for i := 0; i < n; i++ {
		p, err := r.Pick(ctx(e.t), e.service, key)
		if err != nil {
			return seen, err
		}
		seen[p.Node.Address]++
		p.Done(nil, time.Millisecond)
	}
	return seen, nil
}

// eventually polls cond until it holds or Propagation passes.
func (e *env) eventually(what string, cond func() (bool, string)) {
	e.t.Helper()
	deadline := time.Now().Add(e.h.Propagation)
	for {
		ok, state := cond()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			e.t.Fatalf("after %v: %s; last state: %s", e.h.Propagation, what, state)
		}
		time.Sleep(5 * time.Millisecond) // polling an external system
	}
}

// sameSet reports whether seen has exactly the addresses of want.
func sameSet(seen map[string]int, want ...string) bool {
	if len(seen) != len(want) {
		return false
	}
	for _, w := range want {
		if seen[w] == 0 {
			return false
		}
	}
	return true
}

func testPicksRegistered(t *testing.T, e *env) {
	a := e.register(node{id: "a"}, node{id: "b"}, node{id: "c"})
	r := e.router(router.WithStrategy(router.RoundRobin()))
	e.eventually("round robin should reach the three nodes", func() (bool, string) {
		seen, err := e.picks(r, 30, "")
		return err == nil && sameSet(seen, a["a"], a["b"], a["c"]), fmt.Sprint(seen, err)
	})
	seen, err := e.picks(r, 300, "")
	if err != nil {
		t.Fatal(err)
	}
	for id, addr := range a {
		if seen[addr] < 50 || seen[addr] > 150 {
			t.Errorf("node %s got %d of 300 round-robin picks, want about 100: %v", id, seen[addr], seen)
		}
	}
}

func testFollowsChanges(t *testing.T, e *env) {
	a := e.register(node{id: "a"}, node{id: "b"})
	r := e.router(router.WithStrategy(router.RoundRobin()))
	e.eventually("both nodes picked", func() (bool, string) {
		seen, err := e.picks(r, 20, "")
		return err == nil && sameSet(seen, a["a"], a["b"]), fmt.Sprint(seen, err)
	})
	c := e.register(node{id: "c"})
	e.eventually("a node registered later is picked", func() (bool, string) {
		seen, err := e.picks(r, 30, "")
		return err == nil && sameSet(seen, a["a"], a["b"], c["c"]), fmt.Sprint(seen, err)
	})
	e.deregister(node{id: "a"})
	e.eventually("a deregistered node is no longer picked", func() (bool, string) {
		seen, err := e.picks(r, 30, "")
		return err == nil && sameSet(seen, a["b"], c["c"]), fmt.Sprint(seen, err)
	})
	e.deregister(node{id: "b"})
	e.deregister(node{id: "c"})
	e.eventually("a service without nodes fails with ErrNoNodes", func() (bool, string) {
		_, err := r.Pick(ctx(t), e.service, "")
		return errors.Is(err, router.ErrNoNodes), fmt.Sprint(err)
	})
}

func testUnknownService(t *testing.T, e *env) {
	r := e.router()
	_, err := r.Pick(ctx(t), e.service, "")
	if !errors.Is(err, router.ErrNoNodes) {
		t.Fatalf("Pick of an unknown service = %v, want ErrNoNodes", err)
	}
	var re *router.Error
	if !errors.As(err, &re) || re.Service != e.service || !strings.Contains(err.Error(), e.service) {
		t.Errorf("error %v does not name the service", err)
	}
	_, err = r.Pick(ctx(t), "bad name!", "")
	if !errors.Is(err, router.ErrNoNodes) && !errors.Is(err, discovery.ErrInvalidService) {
		t.Errorf("Pick of an invalid name = %v, want ErrNoNodes or ErrInvalidService", err)
	}
}

func testFilters(t *testing.T, e *env) {
	a := e.register(
		node{id: "v1", version: "1.0"},
		node{id: "v2", version: "2.0"},
		node{id: "canary", version: "2.0", meta: map[string]string{"track": "canary"}},
	)
	byVersion := e.router(router.WithVersion("2.0"))
	e.eventually("WithVersion keeps only that version", func() (bool, string) {
		seen, err := e.picks(byVersion, 60, "")
		return err == nil && sameSet(seen, a["v2"], a["canary"]), fmt.Sprint(seen, err)
	})
	byLabel := e.router(router.WithLabels(map[string]string{"track": "canary"}))
	e.eventually("WithLabels keeps only the labelled node", func() (bool, string) {
		seen, err := e.picks(byLabel, 30, "")
		return err == nil && sameSet(seen, a["canary"]), fmt.Sprint(seen, err)
	})
	none := e.router(router.WithVersion("3.0"))
	if _, err := none.Pick(ctx(t), e.service, ""); !errors.Is(err, router.ErrNoNodes) {
		t.Errorf("Pick with a version nobody runs = %v, want ErrNoNodes", err)
	}
}

func testZoneFallback(t *testing.T, e *env) {
	a := e.register(node{id: "a1", zone: "a"}, node{id: "a2", zone: "a"}, node{id: "b1", zone: "b"})
	r := e.router(router.PreferZone("a"), router.WithEjection(router.Ejection{ConsecutiveFailures: 1, BaseTime: time.Hour}))
	e.eventually("PreferZone keeps the zone's nodes", func() (bool, string) {
		seen, err := e.picks(r, 40, "")
		return err == nil && sameSet(seen, a["a1"], a["a2"]), fmt.Sprint(seen, err)
	})
	// Fail zone a's nodes until both are ejected: traffic falls back to b.
	for i := 0; i < 100; i++ {
		p, err := r.Pick(ctx(t), e.service, "")
		if err != nil {
			t.Fatal(err)
		}
		if p.Node.Zone == "b" {
			p.Done(nil, time.Millisecond)
			break
		}
		p.Done(errors.New("boom"), time.Millisecond)
	}
	seen, err := e.picks(r, 20, "")
	if err != nil || !sameSet(seen, a["b1"]) {
		t.Fatalf("with zone a ejected, picks = %v, %v; want only %s", seen, err, a["b1"])
	}
}

func testEjection(t *testing.T, e *env) {
	a := e.register(node{id: "good"}, node{id: "bad"})
	base := 200 * time.Millisecond
	r := e.router(router.WithStrategy(router.RoundRobin()), router.WithEjection(router.Ejection{
		ConsecutiveFailures: 3, BaseTime: base, Interval: 10 * time.Millisecond, ErrorRate: -1,
	}))
	e.eventually("both nodes picked", func() (bool, string) {
		seen, err := e.picks(r, 20, "")
		return err == nil && sameSet(seen, a["good"], a["bad"]), fmt.Sprint(seen, err)
	})
	// Fail the bad node three times in a row.
	failures := 0
	for failures < 3 {
		p, err := r.Pick(ctx(t), e.service, "")
		if err != nil {
			t.Fatal(err)
		}
		if p.Node.Address == a["bad"] {
			failures++
			p.Done(errors.New("boom"), time.Millisecond)
		} else {
			p.Done(nil, time.Millisecond)
		}
	}
	ejectedAt := time.Now()
	seen, err := e.picks(r, 20, "")
	if err != nil || !sameSet(seen, a["good"]) {
		t.Fatalf("after 3 failures in a row, picks = %v, %v; want only the good node", seen, err)
	}
	st, _ := r.ServiceStats(e.service)
	if st.Ejections != 1 {
		t.Errorf("Stats.Ejections = %d, want 1", st.Ejections)
	}
	// After BaseTime the node is readmitted half-open.
	e.eventually("the ejected node is probed again after its ejection time", func() (bool, string) {
		seen, err := e.picks(r, 20, "")
		return err == nil && seen[a["bad"]] > 0, fmt.Sprint(seen, err)
	})
	if d := time.Since(ejectedAt); d < base {
		t.Errorf("node readmitted after %v, before its ejection time %v", d, base)
	}
}

func testAllEjected(t *testing.T, e *env) {
	a := e.register(node{id: "a"}, node{id: "b"})
	ej := router.WithEjection(router.Ejection{ConsecutiveFailures: 1, BaseTime: time.Hour})
	rr := router.WithStrategy(router.RoundRobin())
	strict := e.router(ej, rr)
	lenient := e.router(ej, rr, router.WithPanicRouting())
	for _, r := range []*router.Router{strict, lenient} {
		e.eventually("both nodes known", func() (bool, string) {
			seen, err := e.picks(r, 40, "")
			return err == nil && sameSet(seen, a["a"], a["b"]), fmt.Sprint(seen, err)
		})
		for i := 0; i < 2; i++ {
			p, err := r.Pick(ctx(t), e.service, "")
			if err != nil {
				t.Fatalf("pick %d: %v", i, err)
			}
			p.Done(errors.New("boom"), time.Millisecond)
		}
	}
	start := time.Now()
	if _, err := strict.Pick(ctx(t), e.service, ""); !errors.Is(err, router.ErrAllEjected) || time.Since(start) > time.Second {
		t.Errorf("Pick with every node ejected = %v after %v, want ErrAllEjected at once", err, time.Since(start))
	}
	seen, err := e.picks(lenient, 40, "")
	if err != nil || !sameSet(seen, a["a"], a["b"]) {
		t.Errorf("with panic routing and every node ejected, picks = %v, %v; want both nodes", seen, err)
	}
}

func testDoRetries(t *testing.T, e *env) {
	a := e.register(node{id: "up"}, node{id: "down"})
	r := e.router(router.WithStrategy(router.RoundRobin()), router.WithRetryPolicy(router.Retry{Attempts: 3, Backoff: time.Millisecond}))
	e.eventually("both nodes picked", func() (bool, string) {
		seen, err := e.picks(r, 20, "")
		return err == nil && sameSet(seen, a["up"], a["down"]), fmt.Sprint(seen, err)
	})
	refused := errors.New("connection refused")
	for i := 0; i < 20; i++ {
		var tried []string
		err := r.Do(ctx(t), e.service, "", func(_ context.Context, n *router.Node) error {
			tried = append(tried, n.Address)
			if n.Address == a["down"] {
				return refused
			}
			return nil
		})
		if err != nil {
			t.Fatalf("Do with one node down and 3 attempts = %v (tried %v)", err, tried)
		}
	}
	// With no retry the failure comes back, wrapped and reachable.
	once := e.router(router.WithStrategy(router.RoundRobin()))
	var err error
	for i := 0; i < 10 && err == nil; i++ {
		err = once.Do(ctx(t), e.service, "", func(_ context.Context, n *router.Node) error {
			if n.Address == a["down"] {
				return refused
			}
			return nil
		})
	}
	if !errors.Is(err, refused) {
		t.Errorf("Do without retries = %v, want the node's error", err)
	}
	st, _ := r.ServiceStats(e.service)
	if st.Retries == 0 {
		t.Errorf("Stats.Retries = 0 after retried calls")
	}
}

func testHashStable(t *testing.T, e *env) {
	a := e.register(node{id: "a"}, node{id: "b"}, node{id: "c"}, node{id: "d"})
	r := e.router(router.WithStrategy(router.ConsistentHash()))
	e.eventually("every node known", func() (bool, string) {
		seen := map[string]int{}
		for i := 0; i < 200; i++ {
			s, err := e.picks(r, 1, "user:"+strconv.Itoa(i))
			if err != nil {
				return false, err.Error()
			}
			for k, v := range s {
				seen[k] += v
			}
		}
		return sameSet(seen, a["a"], a["b"], a["c"], a["d"]), fmt.Sprint(seen)
	})
	for i := 0; i < 50; i++ {
		key := "user:" + strconv.Itoa(i)
		seen, err := e.picks(r, 10, key)
		if err != nil || len(seen) != 1 {
			t.Fatalf("key %q went to %v (%v), want one node", key, seen, err)
		}
	}
	// Another router (another client process) maps keys the same way.
	other := e.router(router.WithStrategy(router.ConsistentHash()))
	e.eventually("the second router knows every node", func() (bool, string) {
		for i := 0; i < 50; i++ {
			key := "user:" + strconv.Itoa(i)
			s1, err1 := e.picks(r, 1, key)
			s2, err2 := e.picks(other, 1, key)
			if err1 != nil || err2 != nil || fmt.Sprint(s1) != fmt.Sprint(s2) {
				return false, fmt.Sprint(key, s1, s2, err1, err2)
			}
		}
		return true, ""
	})
}

func testStats(t *testing.T, e *env) {
	e.register(node{id: "a"}, node{id: "b"})
	r := e.router(router.WithEjection(router.Ejection{Disabled: true}))
	e.eventually("both nodes known", func() (bool, string) {
		_, err := e.picks(r, 1, "")
		st, _ := r.ServiceStats(e.service)
		return len(st.Nodes) == 2, fmt.Sprint(st.Nodes, err)
	})
	before, _ := r.ServiceStats(e.service)
	for i := 0; i < 10; i++ {
		p, err := r.Pick(ctx(t), e.service, "")
		if err != nil {
			t.Fatal(err)
		}
		var failure error
		if i%5 == 0 {
			failure = errors.New("boom")
		}
		p.Done(failure, 3*time.Millisecond)
	}
	st, ok := r.ServiceStats(e.service)
	if !ok || st.Service != e.service {
		t.Fatalf("ServiceStats = %+v, %v", st, ok)
	}
	if got := st.Requests - before.Requests; got != 10 {
		t.Errorf("Requests grew by %d, want 10", got)
	}
	if got := st.Errors - before.Errors; got != 2 {
		t.Errorf("Errors grew by %d, want 2", got)
	}
	var sum uint64
	for _, n := range st.Nodes {
		sum += n.Requests
		if n.Outstanding != 0 {
			t.Errorf("node %s has %d outstanding after every Done", n.Node.ID, n.Outstanding)
		}
	}
	if sum != st.Requests {
		t.Errorf("node requests sum to %d, service says %d", sum, st.Requests)
	}
	if q := st.Latency.Quantile(0.5); q < 1600*time.Microsecond || q > 3200*time.Microsecond {
		t.Errorf("median latency %v, want within the bucket of 3ms [1.6ms, 3.2ms]", q)
	}
	all := r.Stats()
	if len(all) != 1 || all[0].Service != e.service {
		t.Errorf("Stats() = %v, want the one service routed to", all)
	}
}

func testConcurrent(t *testing.T, e *env) {
	a := e.register(node{id: "a"}, node{id: "b"}, node{id: "c"})
	r := e.router()
	e.eventually("every node known", func() (bool, string) {
		_, err := e.picks(r, 1, "")
		st, _ := r.ServiceStats(e.service)
		return len(st.Nodes) == 3, fmt.Sprint(st.Nodes, err)
	})
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 500; i++ {
				p, err := r.Pick(context.Background(), e.service, "")
				if err != nil {
					errs <- err
					return
				}
				if p.Node.Address != a["a"] && p.Node.Address != a["b"] && p.Node.Address != a["c"] {
					errs <- fmt.Errorf("picked unknown node %v", p.Node)
					return
				}
				p.Done(nil, time.Microsecond)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// testCheck: Router.Check is nil while discovery answers, unavailable
// (the shared class) while it fails — picks still go to the last known
// nodes —, nil again once it is back; and it names a service whose nodes
// are all ejected.
func testCheck(t *testing.T, h Harness, service string) {
	if h.Outage == nil {
		t.Fatal("routertest.Harness.Outage is nil: the backend must say how it goes down")
	}
	reg, stop, start := h.Outage(t)
	t.Cleanup(func() { reg.Close() })
	e := &env{t: t, reg: reg, h: h, service: service}
	a := e.register(node{id: "a"})
	r := e.router(router.WithEjection(router.Ejection{ConsecutiveFailures: 1, BaseTime: time.Hour}))
	e.eventually("the node known", func() (bool, string) {
		seen, err := e.picks(r, 1, "")
		return err == nil && seen[a["a"]] == 1, fmt.Sprint(seen, err)
	})
	if err := r.Check(ctx(t)); err != nil {
		t.Fatalf("Check with discovery up = %v", err)
	}
	stop()
	e.eventually("Check to say discovery is unavailable", func() (bool, string) {
		err := r.Check(ctx(t))
		return errors.Is(err, oserr.Unavailable) && errors.Is(err, router.ErrUnavailable), fmt.Sprint(err)
	})
	if _, err := e.picks(r, 5, ""); err != nil {
		t.Fatalf("picks while discovery is down = %v, want the last known node", err)
	}
	start()
	e.register(node{id: "a"}) // a fresh backend may have lost it
	e.eventually("Check to be nil once discovery is back", func() (bool, string) {
		err := r.Check(ctx(t))
		return err == nil, fmt.Sprint(err)
	})
	p, err := r.Pick(ctx(t), e.service, "")
	if err != nil {
		t.Fatal(err)
	}
	p.Done(errors.New("boom"), time.Millisecond)
	e.eventually("Check to name the all-ejected service", func() (bool, string) {
		err := r.Check(ctx(t))
		return errors.Is(err, router.ErrAllEjected) && strings.Contains(fmt.Sprint(err), e.service), fmt.Sprint(err)
	})
}

func testClose(t *testing.T, e *env) {
	e.register(node{id: "a"})
	r := router.New(e.reg)
	if _, err := r.Pick(ctx(t), e.service, ""); err != nil && !errors.Is(err, router.ErrNoNodes) {
		t.Fatal(err)
	}
	if err := r.Close(); err != nil {
		t.Fatalf("Close = %v", err)
	}
	if err := r.Close(); err != nil {
		t.Fatalf("second Close = %v", err)
	}
	if err := r.Shutdown(ctx(t)); err != nil {
		t.Fatalf("Shutdown after Close = %v", err)
	}
	if err := r.Check(ctx(t)); !errors.Is(err, router.ErrClosed) || !errors.Is(err, oserr.Closed) {
		t.Errorf("Check after Close = %v, want ErrClosed", err)
	}
	if _, err := r.Pick(ctx(t), e.service, ""); !errors.Is(err, router.ErrClosed) {
		t.Errorf("Pick after Close = %v, want ErrClosed", err)
	}
	err := r.Do(ctx(t), e.service, "", func(context.Context, *router.Node) error { return nil })
	if !errors.Is(err, router.ErrClosed) {
		t.Errorf("Do after Close = %v, want ErrClosed", err)
	}
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}
