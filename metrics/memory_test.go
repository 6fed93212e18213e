package metrics_test

import (
	"math"
	"slices"
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

// Buckets sorts and de-duplicates the bounds and drops what no bucket can
// have as a bound (NaN; +Inf, which is always the last bucket).
func TestMemoryBucketsOption(t *testing.T) {
	m := metrics.NewMemory()
	h := m.Histogram("sizes", metrics.Buckets(1, math.NaN(), math.Inf(1), 1, 0.5, math.Inf(-1)))
	for _, v := range []float64{0.5, 0.7, 1, 3} {
		h.Observe(v)
	}
	snap, _ := m.Snapshot()
	p, _ := snap.Find("sizes")
	want := []metrics.Bucket{{UpperBound: 0.5, Count: 1}, {UpperBound: 1, Count: 3}, {UpperBound: math.Inf(1), Count: 4}}
	if !slices.Equal(p.Buckets, want) || p.Count != 4 || p.Min != 0.5 || p.Max != 3 {
		t.Fatalf("%+v, want buckets %v", p, want)
	}
}
