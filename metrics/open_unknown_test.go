package metrics_test

import (
	"context"
	"testing"

	"github.com/microos/go-os/metrics"
)

// Every Open refuses a parameter it does not know, so that a typo never
// passes silently.
func TestOpenRefusesUnknownParameters(t *testing.T) {
	if _, err := metrics.Open(context.Background(), "mem://?namepsace=shop"); err == nil {
		t.Fatal("mem:// took an unknown parameter")
	}
	m, err := metrics.Open(context.Background(), "mem://?namespace=shop&tag=env:prod&max_series=10")
	if err != nil {
		t.Fatalf("the common parameters: %v", err)
	}
	m.Close()
}
