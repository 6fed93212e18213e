package metrics_test

import (
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/microos/go-os/metrics"
	"github.com/microos/go-os/metrics/metricstest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestMemoryConformance(t *testing.T) {
	metricstest.Run(t, metricstest.Harness{
		New: func(t *testing.T, opts ...metrics.Option) *metrics.Metrics { return metrics.NewMemory(opts...) },
		Read: func(t *testing.T, m *metrics.Metrics) metrics.Snapshot {
			snap, err := m.Snapshot()
			if err != nil {
				t.Fatalf("Snapshot: %v", err)
			}
			return snap
		},
		Timeout: 100 * time.Millisecond,
		Buckets: true,
	})
}
