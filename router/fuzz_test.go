package router_test

import (
	"context"
	"testing"

	"github.com/microos/go-os/router"
)

// Open's query comes from outside (an env var, a config file): whatever it
// holds, Open returns a router or an error, never panics.
func FuzzOpen(f *testing.F) {
	for _, seed := range []string{
		"strategy=p2c", "strategy=hash&version=1,2", "label=track:canary&label=tier:gold",
		"zone=eu-1a&panic=true", "label=:x", "panic=2", "strategy=", "version=&label=a:",
		"%zz", "strategy=round_robin;x",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, query string) {
		r, err := router.Open(context.Background(), "mem://?"+query)
		if err != nil {
			return
		}
		if err := r.Close(); err != nil {
			t.Fatalf("Close = %v", err)
		}
	})
}
