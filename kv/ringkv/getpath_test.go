package ringkv_test

import (
	"context"
	"strconv"
	"testing"

	"github.com/microos/go-os/kv"
	"github.com/microos/go-os/kv/ringkv"
)

// A Get on the primary takes a short path only while the instance is a
// stable member: once it is leaving, its Gets go to the next owner, as
// every other call does, so they never read its stale copies.
func TestGetThroughLeavingPrimary(t *testing.T) {
	ctx := context.Background()
	nodes := cluster(t, 2, ringkv.WithReplicas(2))
	s := nodes[0].ring.Store()
	defer s.Close()
	const keys = 40
	for i := 0; i < keys; i++ {
		if err := s.Set(ctx, kv.Item{Key: "lp-" + strconv.Itoa(i), Value: []byte(strconv.Itoa(i))}); err != nil {
			t.Fatal(err)
		}
	}
	for i := 0; i < keys; i++ {
		k := "lp-" + strconv.Itoa(i)
		if it, err := s.Get(ctx, k); err != nil || string(it.Value) != strconv.Itoa(i) {
			t.Fatalf("%s before the leave = %q, %v", k, it.Value, err)
		}
	}
	if err := nodes[0].ring.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	// New values through the other instance, which decides them while
	// the leaving one refuses: the leaving one's copies are stale now.
	s1 := nodes[1].ring.Store()
	defer s1.Close()
	for i := 0; i < keys; i++ {
		if err := s1.Set(ctx, kv.Item{Key: "lp-" + strconv.Itoa(i), Value: []byte("new-" + strconv.Itoa(i))}); err != nil {
			t.Fatal(err)
		}
	}
	for i := 0; i < keys; i++ {
		k := "lp-" + strconv.Itoa(i)
		if it, err := s.Get(ctx, k); err != nil || string(it.Value) != "new-"+strconv.Itoa(i) {
			t.Fatalf("%s through the leaving instance = %q, %v", k, it.Value, err)
		}
	}
}
