// Command demo runs go-os's packages together on their embedded in-memory
// defaults: no servers needed.
//
//	go run ./examples/demo
//
// Each package shows what it gives a service; set KV_URL (for example
// redis://127.0.0.1:16379/0 after scripts/backends up) to run the kv part
// on a real backend.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"time"

	_ "github.com/microos/go-os/kv/memcachekv"
	_ "github.com/microos/go-os/kv/rediskv"
)

func main() {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := run(ctx, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "demo:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, w io.Writer) error {
	kvURL := os.Getenv("KV_URL")
	if kvURL == "" {
		kvURL = "mem://"
	}
	steps := []struct {
		name string
		run  func(context.Context, io.Writer) error
	}{
		{"config", demoConfig},
		{"discovery", demoDiscovery},
		{"router", demoRouter},
		{"kv", func(ctx context.Context, w io.Writer) error { return demoKV(ctx, w, kvURL) }},
		{"metrics", demoMetrics},
		{"trace", demoTrace},
		{"log", demoLog},
	}
	for _, s := range steps {
		fmt.Fprintf(w, "== %s\n", s.name)
		if err := s.run(ctx, w); err != nil {
			return fmt.Errorf("%s: %w", s.name, err)
		}
	}
	return nil
}
