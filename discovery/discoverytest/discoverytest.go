// Package discoverytest is the conformance suite of discovery registries:
// every backend runs it (memory in the discovery package, Consul against a
// real agent), and it is the specification of the behaviour they share.
package discoverytest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/microos/go-os/discovery"
	"github.com/microos/go-os/oserr"
)

// Options tune the suite to a backend.
type Options struct {
	// TTL is the shortest TTL the backend honours (default 1 s). The expiry
	// tests take a few TTLs.
	TTL time.Duration
	// Propagation bounds how long a change takes to show in reads and
	// watches (default 5 s): tests poll until then.
	Propagation time.Duration
	// Outage returns a registry on a backend of the test's own (not the
	// shared one), with stop to take that backend down (kill the server,
	// cut its path with testenv.Proxy, Memory.Fail) and start to bring it
	// back, for the Check case: healthy → nil, stopped → unavailable within
	// the ctx, back → nil. The registry should retry quickly
	// (discovery.WithRetry). The case fails when Outage is nil: every
	// backend must say how it goes down.
	Outage func(t *testing.T) (r discovery.Registry, stop, start func())
}

// Run runs the suite. open returns a new registry on the backend under test
// (its state may be shared with other registries and tests: every test
// uses service names of its own); Run closes it. The backend may hold
// services the suite did not register.
func Run(t *testing.T, open func(t *testing.T) discovery.Registry, opts ...Options) {
	var o Options
	if len(opts) > 0 {
		o = opts[0]
	}
	if o.TTL <= 0 {
		o.TTL = time.Second
	}
	if o.Propagation <= 0 {
		o.Propagation = 5 * time.Second
	}
	s := &suite{open: open, o: o}
	tests := []struct {
		name string
		fn   func(*testing.T, discovery.Registry)
	}{
		{"RegisterGetDeregister", s.registerGetDeregister},
		{"NotFound", s.notFound},
		{"Versions", s.versions},
		{"MetadataRoundTrip", s.metadataRoundTrip},
		{"UpdateNode", s.updateNode},
		{"ReRegisterIsIdempotent", s.reRegister},
		{"DeregisterUnknown", s.deregisterUnknown},
		{"ListServices", s.listServices},
		{"ManyServicesAndNodes", s.manyServicesAndNodes},
		{"TTLExpiry", s.ttlExpiry},
		{"HeartbeatKeepsAlive", s.heartbeatKeepsAlive},
		{"WatchEvents", s.watchEvents},
		{"WatchSeesExpiry", s.watchSeesExpiry},
		{"WatchEndsWithContext", s.watchEndsWithContext},
		{"InvalidInput", s.invalidInput},
		{"ResultsAreSorted", s.resultsAreSorted},
		{"CanceledContext", s.canceledContext},
		{"Close", s.close},
	}
	t.Run("CheckFollowsTheBackend", func(t *testing.T) {
		t.Parallel()
		s.checkFollowsTheBackend(t)
	})
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := open(t)
			t.Cleanup(func() { r.Close() })
			tc.fn(t, r)
		})
	}
}

type suite struct {
	open func(t *testing.T) discovery.Registry
	o    Options
}

// Name returns a service name no other test uses, so that tests share a
// backend (and its leftovers) safely.
func Name(t testing.TB) string {
	var b [6]byte
	rand.Read(b[:])
	return "goos-test-" + hex.EncodeToString(b[:])
}

func node(svc, id string, port int) *discovery.Node {
	return &discovery.Node{ID: svc + "-" + id, Address: "10.0.0." + fmt.Sprint(port%250+1), Port: port}
}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func mustRegister(t *testing.T, r discovery.Registry, svc *discovery.Service, opts ...discovery.RegisterOption) {
	t.Helper()
	if err := r.Register(ctxT(t), svc, opts...); err != nil {
		t.Fatalf("Register(%s): %v", svc.Name, err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = r.Deregister(ctx, svc)
	})
}

// ids returns "version/id" for every node, in the order returned.
func ids(svcs []*discovery.Service) []string {
	var out []string
	for _, s := range svcs {
		for _, n := range s.Nodes {
			out = append(out, s.Version+"/"+n.ID)
		}
	}
	return out
}

// eventually polls cond until it holds or the propagation bound passes.
func (s *suite) eventually(t *testing.T, what string, cond func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(s.o.Propagation)
	for {
		ok, got := cond()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("after %s: %s; last seen: %s", s.o.Propagation, what, got)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// waitNodes polls GetService until it returns exactly want ("version/id").
func (s *suite) waitNodes(t *testing.T, r discovery.Registry, name string, want ...string) []*discovery.Service {
	t.Helper()
	var got []*discovery.Service
	s.eventually(t, fmt.Sprintf("GetService(%s) should return %v", name, want), func() (bool, string) {
		svcs, err := r.GetService(ctxT(t), name)
		if len(want) == 0 {
			return errors.Is(err, discovery.ErrNotFound), fmt.Sprintf("%v, %v", ids(svcs), err)
		}
		got = svcs
		return err == nil && slices.Equal(ids(svcs), want), fmt.Sprintf("%v, %v", ids(svcs), err)
	})
	return got
}

func (s *suite) registerGetDeregister(t *testing.T, r discovery.Registry) {
	name := Name(t)
	svc := &discovery.Service{Name: name, Version: "1.0.0", Nodes: []*discovery.Node{node(name, "a", 8080), node(name, "b", 8081)}}
	mustRegister(t, r, svc)
	got := s.waitNodes(t, r, name, "1.0.0/"+name+"-a", "1.0.0/"+name+"-b")
	if got[0].Name != name || got[0].Nodes[0].Address != svc.Nodes[0].Address || got[0].Nodes[1].Port != 8081 {
		t.Fatalf("GetService returned %+v, want the registered nodes", got[0])
	}
	if err := r.Deregister(ctxT(t), &discovery.Service{Name: name, Nodes: svc.Nodes[:1]}); err != nil {
		t.Fatalf("Deregister: %v", err)
	}
	s.waitNodes(t, r, name, "1.0.0/"+name+"-b")
	if err := r.Deregister(ctxT(t), svc); err != nil {
		t.Fatalf("Deregister: %v", err)
	}
	s.waitNodes(t, r, name)
}

func (s *suite) notFound(t *testing.T, r discovery.Registry) {
	svcs, err := r.GetService(ctxT(t), Name(t))
	if err != discovery.ErrNotFound {
		t.Fatalf("GetService(unknown) = %v, %v; want the bare ErrNotFound", svcs, err)
	}
}

func (s *suite) versions(t *testing.T, r discovery.Registry) {
	name := Name(t)
	mustRegister(t, r, &discovery.Service{Name: name, Version: "2.0", Nodes: []*discovery.Node{node(name, "new", 1)}})
	mustRegister(t, r, &discovery.Service{Name: name, Version: "1.0", Nodes: []*discovery.Node{node(name, "old", 2)}})
	mustRegister(t, r, &discovery.Service{Name: name, Nodes: []*discovery.Node{node(name, "none", 3)}})
	got := s.waitNodes(t, r, name, "/"+name+"-none", "1.0/"+name+"-old", "2.0/"+name+"-new")
	if len(got) != 3 {
		t.Fatalf("GetService returned %d services, want one per version (3)", len(got))
	}
}

func (s *suite) metadataRoundTrip(t *testing.T, r discovery.Registry) {
	name := Name(t)
	meta := map[string]string{
		"protocol": "grpc", "weight": "10", "empty": "", "Mixed_Case-key": "value with spaces, unicode: é ✓",
		"long": string(make([]byte, 0)) + fmt.Sprintf("%0512d", 7),
	}
	n := &discovery.Node{ID: name + "-1", Address: "host-1.internal", Port: 65535, Metadata: meta, Zone: "eu-west-1b"}
	mustRegister(t, r, &discovery.Service{Name: name, Version: "v1+build.7", Nodes: []*discovery.Node{n}})
	got := s.waitNodes(t, r, name, "v1+build.7/"+name+"-1")
	if g := got[0].Nodes[0]; !g.Equal(n) {
		t.Fatalf("node read back as %+v\nwant %+v", g, n)
	}
	// A node without metadata reads back without metadata.
	bare := &discovery.Node{ID: name + "-2", Address: "::1", Port: 0}
	mustRegister(t, r, &discovery.Service{Name: name, Version: "v1+build.7", Nodes: []*discovery.Node{bare}})
	got = s.waitNodes(t, r, name, "v1+build.7/"+name+"-1", "v1+build.7/"+name+"-2")
	if g := got[0].Nodes[1]; len(g.Metadata) != 0 || g.Zone != "" || g.Address != "::1" || g.Port != 0 {
		t.Fatalf("bare node read back as %+v", g)
	}
}

func (s *suite) updateNode(t *testing.T, r discovery.Registry) {
	name := Name(t)
	n := node(name, "a", 80)
	mustRegister(t, r, &discovery.Service{Name: name, Version: "1", Nodes: []*discovery.Node{n}})
	s.waitNodes(t, r, name, "1/"+n.ID)
	changed := &discovery.Node{ID: n.ID, Address: "10.9.9.9", Port: 81, Metadata: map[string]string{"k": "v"}, Zone: "z"}
	mustRegister(t, r, &discovery.Service{Name: name, Version: "2", Nodes: []*discovery.Node{changed}})
	s.eventually(t, "the re-registered node to read back changed", func() (bool, string) {
		svcs, err := r.GetService(ctxT(t), name)
		if err != nil || len(svcs) != 1 || len(svcs[0].Nodes) != 1 {
			return false, fmt.Sprint(ids(svcs), err)
		}
		return svcs[0].Version == "2" && svcs[0].Nodes[0].Equal(changed), fmt.Sprintf("%s %+v", svcs[0].Version, svcs[0].Nodes[0])
	})
}

func (s *suite) reRegister(t *testing.T, r discovery.Registry) {
	name := Name(t)
	svc := &discovery.Service{Name: name, Nodes: []*discovery.Node{node(name, "a", 1)}}
	for range 3 {
		mustRegister(t, r, svc, discovery.WithTTL(30*time.Second))
	}
	s.waitNodes(t, r, name, "/"+name+"-a")
}

func (s *suite) deregisterUnknown(t *testing.T, r discovery.Registry) {
	name := Name(t)
	if err := r.Deregister(ctxT(t), &discovery.Service{Name: name, Nodes: []*discovery.Node{{ID: name + "-ghost"}}}); err != nil {
		t.Fatalf("Deregister(unknown node) = %v, want nil", err)
	}
}

func (s *suite) listServices(t *testing.T, r discovery.Registry) {
	a, b := Name(t), Name(t)
	mustRegister(t, r, &discovery.Service{Name: a, Nodes: []*discovery.Node{node(a, "1", 1)}})
	bs := &discovery.Service{Name: b, Nodes: []*discovery.Node{node(b, "1", 1)}}
	mustRegister(t, r, bs)
	s.eventually(t, "ListServices to hold both services, sorted", func() (bool, string) {
		names, err := r.ListServices(ctxT(t))
		return err == nil && slices.Contains(names, a) && slices.Contains(names, b) && slices.IsSorted(names), fmt.Sprint(len(names), " names, ", err)
	})
	if err := r.Deregister(ctxT(t), bs); err != nil {
		t.Fatal(err)
	}
	s.eventually(t, "ListServices to drop a service without nodes", func() (bool, string) {
		names, err := r.ListServices(ctxT(t))
		return err == nil && slices.Contains(names, a) && !slices.Contains(names, b), fmt.Sprint(err)
	})
}

func (s *suite) manyServicesAndNodes(t *testing.T, r discovery.Registry) {
	const services, nodes = 20, 10
	names := make([]string, services)
	var wg sync.WaitGroup
	errs := make(chan error, services)
	for i := range names {
		names[i] = Name(t)
		svc := &discovery.Service{Name: names[i], Version: "1"}
		for j := range nodes {
			svc.Nodes = append(svc.Nodes, node(names[i], fmt.Sprint(j), 1000+j))
		}
		t.Cleanup(func() { _ = r.Deregister(context.Background(), svc) })
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs <- r.Register(ctxT(t), svc)
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatalf("concurrent Register: %v", err)
		}
	}
	for _, name := range names {
		var want []string
		for j := range nodes {
			want = append(want, fmt.Sprintf("1/%s-%d", name, j))
		}
		slices.Sort(want)
		s.waitNodes(t, r, name, want...)
	}
	got, err := r.ListServices(ctxT(t))
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range names {
		if !slices.Contains(got, name) {
			t.Fatalf("ListServices misses %s", name)
		}
	}
}

func (s *suite) ttlExpiry(t *testing.T, r discovery.Registry) {
	name := Name(t)
	keep := &discovery.Service{Name: name, Nodes: []*discovery.Node{node(name, "forever", 1)}}
	mustRegister(t, r, keep)
	mustRegister(t, r, &discovery.Service{Name: name, Nodes: []*discovery.Node{node(name, "mortal", 2)}}, discovery.WithTTL(s.o.TTL))
	s.waitNodes(t, r, name, "/"+name+"-forever", "/"+name+"-mortal")
	start := time.Now()
	s.waitNodes(t, r, name, "/"+name+"-forever")
	if took := time.Since(start); took < s.o.TTL/2 {
		t.Fatalf("the node expired after %s, before its TTL %s", took, s.o.TTL)
	}
}

func (s *suite) heartbeatKeepsAlive(t *testing.T, r discovery.Registry) {
	name := Name(t)
	svc := &discovery.Service{Name: name, Nodes: []*discovery.Node{node(name, "a", 1)}}
	mustRegister(t, r, svc, discovery.WithTTL(s.o.TTL))
	s.waitNodes(t, r, name, "/"+name+"-a")
	until := time.Now().Add(3 * s.o.TTL)
	for time.Now().Before(until) {
		if err := r.Register(ctxT(t), svc, discovery.WithTTL(s.o.TTL)); err != nil {
			t.Fatalf("heartbeat: %v", err)
		}
		if _, err := r.GetService(ctxT(t), name); err != nil {
			t.Fatalf("GetService between heartbeats: %v (the node expired though heartbeated every TTL/4)", err)
		}
		time.Sleep(s.o.TTL / 4) // the heartbeat period under test, not a synchronisation
	}
}

// nextEvent returns the next event of the watch, skipping the EventError
// of a backend hiccup, or fails the test after the propagation bound.
func (s *suite) nextEvent(t *testing.T, ch <-chan discovery.Event) discovery.Event {
	t.Helper()
	timer := time.NewTimer(s.o.Propagation)
	defer timer.Stop()
	for {
		select {
		case ev, ok := <-ch:
			if !ok {
				t.Fatalf("the watch ended early")
			}
			if ev.Type == discovery.EventError {
				t.Logf("watch error (retried): %v", ev.Err)
				continue
			}
			return ev
		case <-timer.C:
			t.Fatalf("no watch event within %s", s.o.Propagation)
		}
	}
}

func (s *suite) expect(t *testing.T, ch <-chan discovery.Event, typ discovery.EventType, id string, state ...string) discovery.Event {
	t.Helper()
	ev := s.nextEvent(t, ch)
	if ev.Type != typ || (id != "" && (ev.Node == nil || ev.Node.ID != id)) || !slices.Equal(ids(ev.Services), state) {
		var got string
		if ev.Node != nil {
			got = ev.Node.ID
		}
		t.Fatalf("event %s node %q state %v; want %s node %q state %v", ev.Type, got, ids(ev.Services), typ, id, state)
	}
	return ev
}

func (s *suite) watchEvents(t *testing.T, r discovery.Registry) {
	name := Name(t)
	first := node(name, "a", 1)
	mustRegister(t, r, &discovery.Service{Name: name, Version: "1", Nodes: []*discovery.Node{first}})
	s.waitNodes(t, r, name, "1/"+first.ID)

	ctx, cancel := context.WithCancel(ctxT(t))
	defer cancel()
	ch, err := r.Watch(ctx, name)
	if err != nil {
		t.Fatal(err)
	}
	ev := s.expect(t, ch, discovery.EventSync, "", "1/"+first.ID)
	if ev.Service != name || ev.Time.IsZero() {
		t.Fatalf("sync event names service %q at %v", ev.Service, ev.Time)
	}

	second := node(name, "b", 2)
	mustRegister(t, r, &discovery.Service{Name: name, Version: "1", Nodes: []*discovery.Node{second}})
	ev = s.expect(t, ch, discovery.EventAdd, second.ID, "1/"+first.ID, "1/"+second.ID)
	if ev.Version != "1" || !ev.Node.Equal(second) {
		t.Fatalf("add event: version %q node %+v", ev.Version, ev.Node)
	}

	moved := second.Clone()
	moved.Port, moved.Metadata = 3, map[string]string{"k": "v"}
	mustRegister(t, r, &discovery.Service{Name: name, Version: "1", Nodes: []*discovery.Node{moved}})
	ev = s.expect(t, ch, discovery.EventUpdate, second.ID, "1/"+first.ID, "1/"+second.ID)
	if !ev.Node.Equal(moved) {
		t.Fatalf("update event node %+v, want %+v", ev.Node, moved)
	}

	if err := r.Deregister(ctxT(t), &discovery.Service{Name: name, Nodes: []*discovery.Node{first}}); err != nil {
		t.Fatal(err)
	}
	s.expect(t, ch, discovery.EventRemove, first.ID, "1/"+second.ID)

	// A heartbeat is not a change.
	if err := r.Register(ctxT(t), &discovery.Service{Name: name, Version: "1", Nodes: []*discovery.Node{moved}}); err != nil {
		t.Fatal(err)
	}
	if err := r.Deregister(ctxT(t), &discovery.Service{Name: name, Nodes: []*discovery.Node{moved}}); err != nil {
		t.Fatal(err)
	}
	ev = s.expect(t, ch, discovery.EventRemove, second.ID)
	if ev.Services != nil {
		t.Fatalf("a service without nodes has state %v, want nil", ids(ev.Services))
	}
}

func (s *suite) watchSeesExpiry(t *testing.T, r discovery.Registry) {
	name := Name(t)
	ctx, cancel := context.WithCancel(ctxT(t))
	defer cancel()
	ch, err := r.Watch(ctx, name)
	if err != nil {
		t.Fatal(err)
	}
	s.expect(t, ch, discovery.EventSync, "")
	n := node(name, "mortal", 1)
	mustRegister(t, r, &discovery.Service{Name: name, Nodes: []*discovery.Node{n}}, discovery.WithTTL(s.o.TTL))
	s.expect(t, ch, discovery.EventAdd, n.ID, "/"+n.ID)
	s.expect(t, ch, discovery.EventRemove, n.ID)
}

func (s *suite) watchEndsWithContext(t *testing.T, r discovery.Registry) {
	ctx, cancel := context.WithCancel(ctxT(t))
	ch, err := r.Watch(ctx, Name(t))
	if err != nil {
		t.Fatal(err)
	}
	s.expect(t, ch, discovery.EventSync, "")
	cancel()
	timer := time.NewTimer(s.o.Propagation)
	defer timer.Stop()
	for {
		select {
		case _, ok := <-ch:
			if !ok {
				return
			}
		case <-timer.C:
			t.Fatal("the watch channel was not closed after its ctx was cancelled")
		}
	}
}

func (s *suite) invalidInput(t *testing.T, r discovery.Registry) {
	name := Name(t)
	ok := func() *discovery.Node { return node(name, "ok", 1) }
	bad := map[string]*discovery.Service{
		"nil service":      nil,
		"empty name":       {Nodes: []*discovery.Node{ok()}},
		"name with space":  {Name: "a b", Nodes: []*discovery.Node{ok()}},
		"name with slash":  {Name: "a/b", Nodes: []*discovery.Node{ok()}},
		"no nodes":         {Name: name},
		"nil node":         {Name: name, Nodes: []*discovery.Node{nil}},
		"empty ID":         {Name: name, Nodes: []*discovery.Node{{Address: "h"}}},
		"ID with slash":    {Name: name, Nodes: []*discovery.Node{{ID: "a/b", Address: "h"}}},
		"no address":       {Name: name, Nodes: []*discovery.Node{{ID: name + "-x"}}},
		"negative port":    {Name: name, Nodes: []*discovery.Node{{ID: name + "-x", Address: "h", Port: -1}}},
		"port too large":   {Name: name, Nodes: []*discovery.Node{{ID: name + "-x", Address: "h", Port: 65536}}},
		"bad metadata key": {Name: name, Nodes: []*discovery.Node{{ID: name + "-x", Address: "h", Metadata: map[string]string{"a.b": "v"}}}},
		"reserved key":     {Name: name, Nodes: []*discovery.Node{{ID: name + "-x", Address: "h", Metadata: map[string]string{"goos-version": "v"}}}},
		"duplicate IDs":    {Name: name, Nodes: []*discovery.Node{ok(), ok()}},
	}
	for what, svc := range bad {
		err := r.Register(ctxT(t), svc)
		if !errors.Is(err, discovery.ErrInvalidService) {
			t.Errorf("Register(%s) = %v, want ErrInvalidService", what, err)
		}
	}
	if err := r.Register(ctxT(t), &discovery.Service{Name: name, Nodes: []*discovery.Node{ok()}}, discovery.WithTTL(-time.Second)); !errors.Is(err, discovery.ErrInvalidService) {
		t.Errorf("Register(negative TTL) = %v, want ErrInvalidService", err)
	}
	if _, err := r.GetService(ctxT(t), "a b"); !errors.Is(err, discovery.ErrInvalidService) {
		t.Errorf("GetService(a b) = %v, want ErrInvalidService", err)
	}
	if _, err := r.Watch(ctxT(t), ""); !errors.Is(err, discovery.ErrInvalidService) {
		t.Errorf("Watch(\"\") = %v, want ErrInvalidService", err)
	}
	if _, err := r.GetService(ctxT(t), name); err != discovery.ErrNotFound {
		t.Errorf("after refused registrations GetService = %v, want ErrNotFound (nothing stored)", err)
	}
}

func (s *suite) resultsAreSorted(t *testing.T, r discovery.Registry) {
	name := Name(t)
	svc := &discovery.Service{Name: name, Version: "1"}
	for _, id := range []string{"m", "c", "x", "a", "k"} {
		svc.Nodes = append(svc.Nodes, node(name, id, 1))
	}
	mustRegister(t, r, svc)
	s.waitNodes(t, r, name, "1/"+name+"-a", "1/"+name+"-c", "1/"+name+"-k", "1/"+name+"-m", "1/"+name+"-x")
}

func (s *suite) canceledContext(t *testing.T, r discovery.Registry) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	name := Name(t)
	if err := r.Register(ctx, &discovery.Service{Name: name, Nodes: []*discovery.Node{node(name, "a", 1)}}); err == nil {
		_ = r.Deregister(context.Background(), &discovery.Service{Name: name, Nodes: []*discovery.Node{node(name, "a", 1)}})
		t.Fatal("Register with a cancelled ctx succeeded")
	}
	if _, err := r.GetService(ctx, name); err == nil || errors.Is(err, discovery.ErrNotFound) {
		t.Fatalf("GetService with a cancelled ctx = %v, want ctx's error", err)
	}
}

// checkFollowsTheBackend: Check is nil while the backend answers, says
// "unavailable" (the shared class) once the registry's watch has seen the
// backend fail, without blocking past its ctx, and is nil again once the
// watch has seen it come back.
func (s *suite) checkFollowsTheBackend(t *testing.T) {
	if s.o.Outage == nil {
		t.Fatal("discoverytest.Options.Outage is nil: the backend must say how it goes down")
	}
	r, stop, start := s.o.Outage(t)
	t.Cleanup(func() { r.Close() })
	name := Name(t)
	ctx, cancel := context.WithCancel(ctxT(t))
	defer cancel()
	ch, err := r.Watch(ctx, name)
	if err != nil {
		t.Fatal(err)
	}
	s.expect(t, ch, discovery.EventSync, "")
	if err := r.Check(ctxT(t)); err != nil {
		t.Fatalf("Check with the backend up = %v, want nil", err)
	}
	stop()
	// The watch records the failure before it reports it.
	waitFor(t, ch, s.o.Propagation+30*time.Second, discovery.EventError)
	cctx, ccancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer ccancel()
	err = r.Check(cctx)
	if !errors.Is(err, oserr.Unavailable) || !errors.Is(err, discovery.ErrUnavailable) {
		t.Fatalf("Check with the backend down = %v, want discovery.ErrUnavailable (class unavailable)", err)
	}
	if cctx.Err() != nil {
		t.Fatal("Check blocked until its ctx ended")
	}
	start()
	waitFor(t, ch, s.o.Propagation+60*time.Second, discovery.EventSync)
	if err := r.Check(ctxT(t)); err != nil {
		t.Fatalf("Check with the backend back = %v, want nil", err)
	}
	cancel()
	for range ch {
	}
}

// waitFor receives from the watch until an event of type typ.
func waitFor(t *testing.T, ch <-chan discovery.Event, within time.Duration, typ discovery.EventType) {
	t.Helper()
	timer := time.NewTimer(within)
	defer timer.Stop()
	for {
		select {
		case ev, ok := <-ch:
			if !ok {
				t.Fatalf("the watch ended before an %s event", typ)
			}
			if ev.Type == typ {
				return
			}
		case <-timer.C:
			t.Fatalf("no %s event within %s", typ, within)
		}
	}
}

func (s *suite) close(t *testing.T, r discovery.Registry) {
	name := Name(t)
	ch, err := r.Watch(context.Background(), name)
	if err != nil {
		t.Fatal(err)
	}
	s.expect(t, ch, discovery.EventSync, "")
	if err := r.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := r.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if err := r.Shutdown(ctxT(t)); err != nil {
		t.Fatalf("Shutdown after Close: %v", err)
	}
	for range ch { // Close ends the watch
	}
	if err := r.Check(ctxT(t)); !errors.Is(err, discovery.ErrClosed) || !errors.Is(err, oserr.Closed) {
		t.Errorf("Check after Close = %v, want ErrClosed", err)
	}
	svc := &discovery.Service{Name: name, Nodes: []*discovery.Node{node(name, "a", 1)}}
	if err := r.Register(ctxT(t), svc); !errors.Is(err, discovery.ErrClosed) {
		t.Errorf("Register after Close = %v, want ErrClosed", err)
	}
	if err := r.Deregister(ctxT(t), svc); !errors.Is(err, discovery.ErrClosed) {
		t.Errorf("Deregister after Close = %v, want ErrClosed", err)
	}
	if _, err := r.GetService(ctxT(t), name); !errors.Is(err, discovery.ErrClosed) {
		t.Errorf("GetService after Close = %v, want ErrClosed", err)
	}
	if _, err := r.ListServices(ctxT(t)); !errors.Is(err, discovery.ErrClosed) {
		t.Errorf("ListServices after Close = %v, want ErrClosed", err)
	}
	if _, err := r.Watch(ctxT(t), name); !errors.Is(err, discovery.ErrClosed) {
		t.Errorf("Watch after Close = %v, want ErrClosed", err)
	}
}
