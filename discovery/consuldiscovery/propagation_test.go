package consuldiscovery_test

import (
	"context"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/microos/go-os/discovery"
	"github.com/microos/go-os/discovery/discoverytest"
)

func nodeIDs(svcs []*discovery.Service) []string {
	var out []string
	for _, n := range discovery.Nodes(svcs) {
		out = append(out, n.ID)
	}
	return out
}

// TestPropagation checks that a node registered by one client shows in
// another client's cache because the cache's blocking query woke up on
// the change, not because its wait ran out: every round must take well
// under the query's wait time (1 min). That bound holds on a loaded
// machine; the number itself (milliseconds) is BenchmarkPropagation's.
func TestPropagation(t *testing.T) {
	writer, reader := open(t), open(t)
	defer writer.Close()
	defer reader.Close()
	cache := discovery.NewCache(reader)
	defer cache.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	name := discoverytest.Name(t)
	if _, err := cache.GetService(ctx, name); err != discovery.ErrNotFound {
		t.Fatalf("first lookup = %v, want ErrNotFound", err)
	}
	var worst, total time.Duration
	const rounds = 10
	for i := range rounds {
		n := &discovery.Node{ID: name + "-" + string(rune('a'+i)), Address: "10.0.0.1", Port: 80}
		svc := &discovery.Service{Name: name, Nodes: []*discovery.Node{n}}
		start := time.Now()
		if err := writer.Register(ctx, svc, discovery.WithTTL(10*time.Second)); err != nil {
			t.Fatal(err)
		}
		for {
			svcs, _ := cache.GetService(ctx, name)
			if slices.Contains(nodeIDs(svcs), n.ID) {
				break
			}
			if time.Since(start) > 5*time.Second {
				t.Fatalf("node %s not in the other client's cache after 5s", n.ID)
			}
			time.Sleep(time.Millisecond)
		}
		took := time.Since(start)
		total += took
		worst = max(worst, took)
		defer writer.Deregister(context.Background(), svc)
	}
	t.Logf("propagation register → other client's cache over %d rounds: mean %s, worst %s",
		rounds, (total / rounds).Round(time.Microsecond), worst.Round(time.Microsecond))
	if worst >= 5*time.Second {
		t.Fatalf("worst propagation %s: the watch did not wake up on the change", worst)
	}
}

// BenchmarkPropagation measures register → seen in another client's
// cache, per registration.
func BenchmarkPropagation(b *testing.B) {
	writer, reader := open(b), open(b)
	defer writer.Close()
	defer reader.Close()
	cache := discovery.NewCache(reader)
	defer cache.Close()
	ctx := context.Background()
	name := discoverytest.Name(b)
	if _, err := cache.GetService(ctx, name); err != discovery.ErrNotFound {
		b.Fatalf("first lookup = %v, want ErrNotFound", err)
	}
	i := 0
	for b.Loop() {
		i++
		n := &discovery.Node{ID: name + "-" + strconv.Itoa(i), Address: "10.0.0.1", Port: 80}
		svc := &discovery.Service{Name: name, Nodes: []*discovery.Node{n}}
		if err := writer.Register(ctx, svc, discovery.WithTTL(10*time.Second)); err != nil {
			b.Fatal(err)
		}
		for {
			svcs, _ := cache.GetService(ctx, name)
			if slices.Contains(nodeIDs(svcs), n.ID) {
				break
			}
			time.Sleep(100 * time.Microsecond)
		}
		b.StopTimer()
		writer.Deregister(ctx, svc)
		b.StartTimer()
	}
}

// TestExpiredNodeLeavesCache: a node that stops heartbeating disappears
// from cached lookups within TTL + one watch round.
func TestExpiredNodeLeavesCache(t *testing.T) {
	writer, reader := open(t), open(t)
	defer writer.Close()
	defer reader.Close()
	cache := discovery.NewCache(reader)
	defer cache.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	name := discoverytest.Name(t)
	const ttl = time.Second
	svc := &discovery.Service{Name: name, Nodes: []*discovery.Node{{ID: name + "-1", Address: "10.0.0.1", Port: 80}}}
	registered := time.Now() // the agent starts the TTL when it gets the registration
	if err := writer.Register(ctx, svc, discovery.WithTTL(ttl)); err != nil {
		t.Fatal(err)
	}
	defer writer.Deregister(context.Background(), svc)
	for {
		if svcs, _ := cache.GetService(ctx, name); len(svcs) == 1 {
			break
		}
		if time.Since(registered) > 5*time.Second {
			t.Fatal("the node never showed in the cache")
		}
		time.Sleep(time.Millisecond)
	}
	for {
		_, err := cache.GetService(ctx, name)
		if err == discovery.ErrNotFound {
			break
		}
		if time.Since(registered) > ttl+2*time.Second {
			t.Fatalf("the node is still in the cache %s after its last heartbeat (TTL %s)", time.Since(registered), ttl)
		}
		time.Sleep(time.Millisecond)
	}
	gone := time.Since(registered)
	t.Logf("last heartbeat → gone from another client's cache: %s (TTL %s)", gone.Round(time.Millisecond), ttl)
	if gone < ttl {
		t.Fatalf("the node left the cache after %s, before its TTL", gone)
	}
}
