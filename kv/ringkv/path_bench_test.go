package ringkv

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync/atomic"
	"testing"

	"github.com/microos/go-os/kv"
)

// The parts of a local Get, to see what the ring adds to the memory.
func BenchmarkPathLocalGet(b *testing.B) {
	r, err := New("http://self", []string{"http://self"})
	if err != nil {
		b.Fatal(err)
	}
	defer r.Close()
	ctx := context.Background()
	r.exec(ctx, call{op: "set", key: "k", value: []byte("v")})
	b.Run("local.get", func(b *testing.B) {
		for b.Loop() {
			r.local.get("k")
		}
	})
	b.Run("pref", func(b *testing.B) {
		v := r.view.Load()
		var buf [4]int
		for b.Loop() {
			v.pref("k", buf[:0])
		}
	})
	b.Run("exec", func(b *testing.B) {
		for b.Loop() {
			r.exec(ctx, call{op: "get", key: "k"})
		}
	})
	b.Run("store", func(b *testing.B) {
		s := r.Store()
		for b.Loop() {
			s.Get(ctx, "k")
		}
	})
	b.Run("memory", func(b *testing.B) {
		s := kv.NewMemory()
		s.Set(ctx, kv.Item{Key: "k", Value: []byte("v")})
		for b.Loop() {
			s.Get(ctx, "k")
		}
	})
}

// A Get on the primary with N=2 (the default): the fast path with read
// repair sampled (5% of reads queue a repair for the worker).
func BenchmarkGetPrimaryN2(b *testing.B) {
	var handlers [2]atomic.Pointer[http.Handler]
	urls := make([]string, 2)
	for i := range urls {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
			h := handlers[i].Load()
			if h == nil {
				http.Error(w, "starting", http.StatusServiceUnavailable)
				return
			}
			(*h).ServeHTTP(w, req)
		}))
		defer srv.Close()
		urls[i] = srv.URL
	}
	rings := make([]*Ring, 2)
	for i := range rings {
		r, err := New(urls[i], urls, WithReplicas(2))
		if err != nil {
			b.Fatal(err)
		}
		defer r.Close()
		h := r.Handler()
		handlers[i].Store(&h)
		rings[i] = r
	}
	ctx := context.Background()
	for _, r := range rings {
		if err := r.Settle(ctx); err != nil {
			b.Fatal(err)
		}
	}
	r := rings[0]
	v := r.view.Load()
	key := ""
	for i := 0; key == ""; i++ {
		if k := "n2-" + strconv.Itoa(i); v.pref(k, nil)[0] == v.self {
			key = k
		}
	}
	s := r.Store()
	defer s.Close()
	value := []byte("a small value of sixty-four bytes, as sessions and flags are....")
	if err := s.Set(ctx, kv.Item{Key: key, Value: value}); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.Get(ctx, key); err != nil {
			b.Fatal(err)
		}
	}
}
