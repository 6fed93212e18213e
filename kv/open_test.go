package kv_test

import (
	"context"
	"testing"

	"github.com/microos/go-os/kv"
)

// A misspelt parameter is an error, never silently ignored.
func TestOpenRefusesUnknownParameters(t *testing.T) {
	for _, raw := range []string{"mem://?namspace=typo", "mem://?namespace=a&ttl=1s"} {
		if s, err := kv.Open(context.Background(), raw); err == nil {
			s.Close()
			t.Errorf("Open(%q) accepted it", raw)
		}
	}
	s, err := kv.Open(context.Background(), "mem://?namespace=ok:")
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
}
