package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

// The demo is documentation: it must keep running on the memory defaults.
func TestDemo(t *testing.T) {
	t.Setenv("KV_URL", "")
	var out bytes.Buffer
	if err := run(context.Background(), &out); err != nil {
		t.Fatalf("demo: %v\n%s", err, out.String())
	}
	for _, want := range []string{"visits = 100", "session:ada ="} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("demo output lacks %q:\n%s", want, out.String())
		}
	}
}
