package routertest

import (
	"strconv"
	"sync"
	"testing"

	"github.com/microos/go-os/router"
)

// RunStrategy checks a Strategy on its own: its pickers return only the
// endpoints they were built from, reach every one of them (with or
// without a key), do not allocate, and are safe for concurrent use.
func RunStrategy(t *testing.T, s router.Strategy) {
	if s.Name() == "" {
		t.Error("Strategy.Name() is empty")
	}
	eps := func(n int) []*router.Endpoint {
		out := make([]*router.Endpoint, n)
		for i := range out {
			out[i] = router.NewEndpoint(router.Node{Service: "svc", ID: "node-" + strconv.Itoa(i), Address: "10.0.0." + strconv.Itoa(i) + ":80"})
		}
		return out
	}
	t.Run("SingleEndpoint", func(t *testing.T) {
		one := eps(1)
		p := s.Build(one)
		for _, key := range []string{"", "k"} {
			if got := p.Pick(key); got != one[0] {
				t.Fatalf("Pick(%q) over one endpoint = %v", key, got)
			}
		}
	})
	t.Run("OnlyAndEveryEndpoint", func(t *testing.T) {
		all := eps(10)
		p := s.Build(all)
		member := map[*router.Endpoint]bool{}
		for _, e := range all {
			member[e] = true
		}
		seenNoKey, seenKey := map[*router.Endpoint]int{}, map[*router.Endpoint]int{}
		for i := 0; i < 2000; i++ {
			e := p.Pick("")
			if !member[e] {
				t.Fatalf("Pick returned an endpoint it was not built from: %v", e)
			}
			seenNoKey[e]++
		}
		for i := 0; i < 2000; i++ {
			e := p.Pick("key-" + strconv.Itoa(i))
			if !member[e] {
				t.Fatalf("Pick returned an endpoint it was not built from: %v", e)
			}
			seenKey[e]++
		}
		if len(seenNoKey) != 10 || len(seenKey) != 10 {
			t.Errorf("2000 picks reached %d endpoints without a key and %d with keys, want 10", len(seenNoKey), len(seenKey))
		}
	})
	t.Run("NoAllocations", func(t *testing.T) {
		p := s.Build(eps(100))
		if n := testing.AllocsPerRun(1000, func() { p.Pick("") }); n != 0 {
			t.Errorf("Pick allocates %v times per call, want 0", n)
		}
	})
	t.Run("Concurrent", func(t *testing.T) {
		all := eps(5)
		p := s.Build(all)
		var wg sync.WaitGroup
		for g := 0; g < 4; g++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := 0; i < 1000; i++ {
					if p.Pick(strconv.Itoa(i%7)) == nil {
						t.Error("Pick returned nil")
						return
					}
				}
			}()
		}
		wg.Wait()
	})
}
