package discovery_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/microos/go-os/discovery"
)

func Example() {
	ctx := context.Background()
	reg, err := discovery.Open(ctx, "mem://")
	if err != nil {
		panic(err)
	}
	defer reg.Close()

	// Each instance keeps itself registered until Close.
	for i, addr := range []string{"10.0.0.1", "10.0.0.2"} {
		me := &discovery.Service{Name: "payments", Version: "2.1.0",
			Nodes: []*discovery.Node{{ID: fmt.Sprintf("payments-%d", i), Address: addr, Port: 8080, Zone: "eu-west-1a"}}}
		registrar, err := discovery.NewRegistrar(reg, me, discovery.WithRegistrarTTL(15*time.Second))
		if err != nil {
			panic(err)
		}
		defer registrar.Close()
		if err := registrar.WaitRegistered(ctx); err != nil {
			panic(err)
		}
	}

	// Clients look services up in a cache that a watch keeps fresh.
	cache := discovery.NewCache(reg)
	defer cache.Close()
	services, err := cache.GetService(ctx, "payments")
	if err != nil {
		panic(err)
	}
	for _, n := range discovery.Nodes(services) {
		fmt.Printf("%s %s:%d in %s\n", n.ID, n.Address, n.Port, n.Zone)
	}
	_, err = cache.GetService(ctx, "shipping")
	fmt.Println(errors.Is(err, discovery.ErrNotFound))
	// Output:
	// payments-0 10.0.0.1:8080 in eu-west-1a
	// payments-1 10.0.0.2:8080 in eu-west-1a
	// true
}

func ExampleRegistry_Watch() {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	reg := discovery.NewMemory()
	defer reg.Close()

	events, err := reg.Watch(ctx, "search")
	if err != nil {
		panic(err)
	}
	fmt.Println((<-events).Type) // the current state first: no node yet

	node := &discovery.Node{ID: "search-1", Address: "10.0.0.9", Port: 9200}
	svc := &discovery.Service{Name: "search", Nodes: []*discovery.Node{node}}
	reg.Register(ctx, svc, discovery.WithTTL(50*time.Millisecond)) // and no heartbeat
	ev := <-events
	fmt.Println(ev.Type, ev.Node.ID, len(ev.Services))
	ev = <-events // the TTL expired
	fmt.Println(ev.Type, ev.Node.ID, len(ev.Services))
	// Output:
	// sync
	// add search-1 1
	// remove search-1 0
}

func ExampleCache_Lookup() {
	ctx := context.Background()
	reg := discovery.NewMemory(discovery.WithRetry(time.Millisecond, 10*time.Millisecond))
	defer reg.Close()
	reg.Register(ctx, &discovery.Service{Name: "users", Nodes: []*discovery.Node{{ID: "users-1", Address: "10.0.0.3"}}})

	cache := discovery.NewCache(reg, discovery.WithMaxStale(time.Hour))
	defer cache.Close()
	a, _ := cache.Lookup(ctx, "users")
	fmt.Println(len(a.Services), a.Age, a.Err)

	reg.Fail(errors.New("connection refused")) // the registry goes down
	for a.Err == nil {                         // until the cache's watch notices
		time.Sleep(time.Millisecond)
		a, _ = cache.Lookup(ctx, "users")
	}
	// Still answering, from the last state known, with its age.
	fmt.Println(len(a.Services), a.Age >= 0, errors.Is(a.Err, discovery.ErrUnavailable))
	// Output:
	// 1 0s <nil>
	// 1 true true
}

func ExampleMemory_Fail() {
	ctx := context.Background()
	reg := discovery.NewMemory()
	defer reg.Close()
	reg.Fail(nil)
	_, err := reg.GetService(ctx, "users")
	fmt.Println(errors.Is(err, discovery.ErrUnavailable))
	reg.Heal()
	_, err = reg.GetService(ctx, "users")
	fmt.Println(err)
	// Output:
	// true
	// discovery: service not found
}
