package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/microos/go-os/discovery"
)

// demoDiscovery shows three instances of two services registering
// themselves on the in-memory registry, a client looking them up from its
// cache, a node that stops heartbeating leaving lookups, and the cache
// answering (with its age) while the registry is down, then converging.
func demoDiscovery(ctx context.Context, w io.Writer) error {
	reg := discovery.NewMemory(discovery.WithRetry(5*time.Millisecond, 50*time.Millisecond))
	defer reg.Close()

	instances := []*discovery.Service{
		{Name: "billing", Version: "1.4.2", Nodes: []*discovery.Node{{ID: "billing-a", Address: "10.0.1.10", Port: 8080, Zone: "eu-west-1a"}}},
		{Name: "billing", Version: "1.5.0", Nodes: []*discovery.Node{{ID: "billing-b", Address: "10.0.2.10", Port: 8080, Zone: "eu-west-1b",
			Metadata: map[string]string{"canary": "true"}}}},
		{Name: "payments", Version: "2.0.0", Nodes: []*discovery.Node{{ID: "payments-a", Address: "10.0.1.20", Port: 9090, Zone: "eu-west-1a"}}},
	}
	var registrars []*discovery.Registrar
	defer func() {
		for _, g := range registrars {
			g.Close()
		}
	}()
	for _, svc := range instances {
		g, err := discovery.NewRegistrar(reg, svc, discovery.WithRegistrarTTL(300*time.Millisecond))
		if err != nil {
			return err
		}
		registrars = append(registrars, g)
		if err := g.WaitRegistered(ctx); err != nil {
			return err
		}
	}
	names, err := reg.ListServices(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "discovery: %d instances registered (TTL 300ms, heartbeat 100ms); services: %v\n", len(instances), names)

	cache := discovery.NewCache(reg, discovery.WithMaxStale(time.Minute))
	defer cache.Close()
	billing, err := cache.GetService(ctx, "billing")
	if err != nil {
		return err
	}
	for _, s := range billing {
		for _, n := range s.Nodes {
			fmt.Fprintf(w, "discovery: billing %s at %s:%d in %s %v\n", s.Version, n.Address, n.Port, n.Zone, n.Metadata)
		}
	}
	start := time.Now()
	const lookups = 100000
	for range lookups {
		if _, err := cache.GetService(ctx, "billing"); err != nil {
			return err
		}
	}
	fmt.Fprintf(w, "discovery: %d cached lookups in %s (%.0f ns each, no I/O)\n",
		lookups, time.Since(start).Round(time.Microsecond), float64(time.Since(start).Nanoseconds())/lookups)

	// billing-c registers once, then its process hangs: no heartbeat.
	hung := &discovery.Service{Name: "billing", Version: "1.5.0", Nodes: []*discovery.Node{{ID: "billing-c", Address: "10.0.3.10", Port: 8080}}}
	if err := reg.Register(ctx, hung, discovery.WithTTL(200*time.Millisecond)); err != nil {
		return err
	}
	registered := time.Now()
	count := func() int { s, _ := cache.GetService(ctx, "billing"); return len(discovery.Nodes(s)) }
	if err := discoveryWaitFor(ctx, func() bool { return count() == 3 }); err != nil {
		return err
	}
	if err := discoveryWaitFor(ctx, func() bool { return count() == 2 }); err != nil {
		return err
	}
	fmt.Fprintf(w, "discovery: billing-c stopped heartbeating (TTL 200ms) and left cached lookups %s after it registered\n",
		time.Since(registered).Round(10*time.Millisecond))

	// The registry goes down: the cache keeps answering with its age.
	if _, err := cache.GetService(ctx, "payments"); err != nil {
		return err
	}
	reg.Fail(errors.New("connection refused"))
	if err := discoveryWaitFor(ctx, func() bool { a, _ := cache.Lookup(ctx, "payments"); return a.Err != nil }); err != nil {
		return err
	}
	if err := discoveryWaitFor(ctx, func() bool { return registrars[2].State().Status == discovery.StatusRetrying }); err != nil {
		return err
	}
	a, err := cache.Lookup(ctx, "payments")
	if err != nil {
		return err
	}
	st := registrars[2].State()
	fmt.Fprintf(w, "discovery: registry down; payments still answers %s from the cache, %s old (unavailable: %v); registrar %s after %d failures\n",
		discovery.Nodes(a.Services)[0].ID, a.Age.Round(time.Millisecond), errors.Is(a.Err, discovery.ErrUnavailable), st.Status, st.Failures)
	reg.Heal()
	if err := discoveryWaitFor(ctx, func() bool { a, _ := cache.Lookup(ctx, "payments"); return a.Err == nil }); err != nil {
		return err
	}
	if err := discoveryWaitFor(ctx, func() bool { return registrars[2].State().Status == discovery.StatusRegistered }); err != nil {
		return err
	}
	fmt.Fprintf(w, "discovery: registry back; the cache is fresh again and the registrar is %s\n", registrars[2].State().Status)
	return nil
}

// discoveryWaitFor polls cond until it holds or ctx ends.
func discoveryWaitFor(ctx context.Context, cond func() bool) error {
	for !cond() {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(2 * time.Millisecond):
		}
	}
	return nil
}
