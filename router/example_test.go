package router_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/microos/go-os/discovery"
	"github.com/microos/go-os/router"
)

func Example() {
	ctx := context.Background()
	reg := discovery.NewMemory()
	defer reg.Close()
	reg.Register(ctx, &discovery.Service{Name: "greeter", Nodes: []*discovery.Node{
		{ID: "greeter-1", Address: "10.0.0.1", Port: 8080},
		{ID: "greeter-2", Address: "10.0.0.2", Port: 8080},
	}})

	r := router.New(reg, router.WithStrategy(router.RoundRobin()))
	defer r.Close()
	seen := map[string]int{}
	for i := 0; i < 100; i++ {
		p, err := r.Pick(ctx, "greeter", "")
		if err != nil {
			panic(err)
		}
		seen[p.Node.Address]++
		p.Done(nil, time.Millisecond) // the call succeeded in 1 ms
	}
	fmt.Println(len(seen), "nodes, about half each:", seen["10.0.0.1:8080"] > 40 && seen["10.0.0.2:8080"] > 40)
	st, _ := r.ServiceStats("greeter")
	fmt.Println(st.Requests, "requests,", st.Errors, "errors")
	// Output:
	// 2 nodes, about half each: true
	// 100 requests, 0 errors
}

// Do retries on another node when a call fails.
func ExampleRouter_Do() {
	ctx := context.Background()
	reg := discovery.NewMemory()
	defer reg.Close()
	reg.Register(ctx, &discovery.Service{Name: "db", Nodes: []*discovery.Node{
		{ID: "db-1", Address: "10.0.0.1", Port: 5432},
		{ID: "db-2", Address: "10.0.0.2", Port: 5432},
	}})
	r := router.New(reg, router.WithStrategy(router.RoundRobin()),
		router.WithRetryPolicy(router.Retry{Attempts: 2, Backoff: time.Millisecond}))
	defer r.Close()

	for i := 0; i < 3; i++ {
		err := r.Do(ctx, "db", "", func(ctx context.Context, n *router.Node) error {
			if n.Address == "10.0.0.1:5432" {
				return errors.New("connection refused")
			}
			return nil
		})
		fmt.Println(err)
	}
	st, _ := r.ServiceStats("db")
	fmt.Println(st.Retries <= 3, st.Errors == st.Retries)
	// Output:
	// <nil>
	// <nil>
	// <nil>
	// true true
}

// A failing node is ejected; with every node ejected a pick fails at once.
func ExampleEjection() {
	ctx := context.Background()
	reg := discovery.NewMemory()
	defer reg.Close()
	reg.Register(ctx, &discovery.Service{Name: "api", Nodes: []*discovery.Node{
		{ID: "api-1", Address: "10.0.0.1", Port: 80},
	}})
	r := router.New(reg, router.WithEjection(router.Ejection{ConsecutiveFailures: 2, BaseTime: time.Minute}))
	defer r.Close()

	for i := 0; i < 2; i++ {
		p, _ := r.Pick(ctx, "api", "")
		p.Done(errors.New("503"), time.Millisecond)
	}
	_, err := r.Pick(ctx, "api", "")
	fmt.Println(errors.Is(err, router.ErrAllEjected))
	fmt.Println(err)
	// Output:
	// true
	// router: pick "api": router: all nodes ejected
}

// Requests with the same key go to the same node.
func ExampleConsistentHash() {
	ctx := context.Background()
	reg := discovery.NewMemory()
	defer reg.Close()
	reg.Register(ctx, &discovery.Service{Name: "cache", Nodes: []*discovery.Node{
		{ID: "cache-1", Address: "10.0.0.1", Port: 11211},
		{ID: "cache-2", Address: "10.0.0.2", Port: 11211},
		{ID: "cache-3", Address: "10.0.0.3", Port: 11211},
	}})
	r := router.New(reg, router.WithStrategy(router.ConsistentHash()))
	defer r.Close()

	first, _ := r.Pick(ctx, "cache", "user:42")
	first.Done(nil, 0)
	same := true
	for i := 0; i < 100; i++ {
		p, _ := r.Pick(ctx, "cache", "user:42")
		same = same && p.Node == first.Node
		p.Done(nil, 0)
	}
	fmt.Println(same)
	// Output:
	// true
}

// Open picks the discovery backend and the router's settings with one string.
func ExampleOpen() {
	ctx := context.Background()
	r, err := router.Open(ctx, "mem://?strategy=round_robin&version=2")
	if err != nil {
		panic(err)
	}
	defer r.Close()
	_, err = r.Pick(ctx, "nobody", "")
	fmt.Println(errors.Is(err, router.ErrNoNodes))
	// Output:
	// true
}

func ExampleLimiter() {
	l := router.NewLimiter(10, 3) // 10/s, bursts of 3
	for i := 0; i < 4; i++ {
		fmt.Print(l.Allow(), " ")
	}
	fmt.Println()
	// Output:
	// true true true false
}
