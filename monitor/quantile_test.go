package monitor

import (
	"math"
	"slices"
	"testing"
	"time"

	gometrics "github.com/microos/go-os/metrics"
	"github.com/microos/go-os/metrics/prometheusmetrics"
)

func cumulative(bounds []float64, counts ...uint64) []gometrics.Bucket {
	out := make([]gometrics.Bucket, len(bounds))
	for i, b := range bounds {
		out[i] = gometrics.Bucket{UpperBound: b, Count: counts[i]}
	}
	return out
}

// The cases of Prometheus' own promql/testdata/histograms.test
// ("testhistogram_bucket" at 50m: positive and negative lower buckets).
func TestBucketQuantileMatchesPrometheus(t *testing.T) {
	inf := math.Inf(1)
	positive := cumulative([]float64{0.1, 0.2, 1, inf}, 50, 70, 110, 120)
	negative := cumulative([]float64{-0.2, -0.1, 0.3, inf}, 10, 20, 20, 30)
	for _, c := range []struct {
		q             float64
		positive, neg float64
	}{
		{-0.1, math.Inf(-1), math.Inf(-1)},
		{1.01, inf, inf},
		{0, 0, -0.2},
		{0.2, 0.048, -0.2},
		{0.5, 0.15, -0.15},
		{0.8, 0.72, 0.3},
		{1, 1, 0.3},
	} {
		near := func(a, b float64) bool { return a == b || math.Abs(a-b) <= 1e-12 }
		if got := bucketQuantile(c.q, positive); !near(got, c.positive) {
			t.Errorf("q=%v positive: %v, want %v", c.q, got, c.positive)
		}
		if got := bucketQuantile(c.q, negative); !near(got, c.neg) {
			t.Errorf("q=%v negative: %v, want %v", c.q, got, c.neg)
		}
	}
	for name, b := range map[string][]gometrics.Bucket{
		"empty":        cumulative([]float64{0.1, inf}, 0, 0),
		"no +Inf":      cumulative([]float64{0.1, 0.2}, 1, 2),
		"one bucket":   cumulative([]float64{inf}, 3),
		"no buckets":   nil,
		"NaN quantile": positive,
	} {
		q := 0.5
		if name == "NaN quantile" {
			q = math.NaN()
		}
		if got := bucketQuantile(q, b); !math.IsNaN(got) {
			t.Errorf("%s: %v, want NaN", name, got)
		}
	}
	// a bucket that went down (scraped while moving) is forced monotonic
	// (1, 0, 4 reads as 1, 1, 4: rank 2 is a third into (2, 3]; unforced it
	// would be half-way)
	if got := bucketQuantile(0.5, cumulative([]float64{1, 2, 3, inf}, 1, 0, 4, 4)); math.Abs(got-(2+1.0/3)) > 1e-12 {
		t.Errorf("non-monotonic: %v, want 2.333", got)
	}
}

// record puts durations through the RequestMetrics every wrapper uses and
// returns the endpoint's stats as the monitor reads them.
func record(t *testing.T, m *gometrics.Metrics, durations []time.Duration, opts ...gometrics.HTTPOption) EndpointStats {
	t.Helper()
	rm := gometrics.NewRequestMetrics(m, "http.client", opts...)
	for _, d := range durations {
		rm.Record("inventory:8080", "GET", "2xx", d)
	}
	for _, e := range requestStats(m) {
		if e.Route == "inventory:8080" {
			return e
		}
	}
	t.Fatalf("no endpoint in %+v", requestStats(m))
	return EndpointStats{}
}

// A uniform distribution over 10 ms buckets: linear interpolation is exact.
func TestPercentilesUniform(t *testing.T) {
	bounds := make([]float64, 10)
	for i := range bounds {
		bounds[i] = float64(i+1) / 100 // 10 ms to 100 ms
	}
	var ds []time.Duration
	for k := 1; k <= 100; k++ {
		ds = append(ds, time.Duration(k)*time.Millisecond-500*time.Microsecond) // 0.5 ms .. 99.5 ms
	}
	for name, m := range map[string]*gometrics.Metrics{
		"memory":     gometrics.NewMemory(),
		"prometheus": gometrics.New(prometheusmetrics.New()),
	} {
		e := record(t, m, ds, gometrics.WithDurationBuckets(bounds...))
		m.Close()
		if !e.HasPercentiles || e.Count != 100 {
			t.Fatalf("%s: %+v", name, e)
		}
		for _, c := range []struct {
			got, want time.Duration
		}{{e.P50, 50 * time.Millisecond}, {e.P90, 90 * time.Millisecond}, {e.P99, 99 * time.Millisecond}} {
			if d := c.got - c.want; d < -time.Microsecond || d > time.Microsecond {
				t.Errorf("%s: percentile %v, want %v (%+v)", name, c.got, c.want, e)
			}
		}
	}
}

// An exponential distribution (mean 20 ms, its exact quantiles sampled)
// on the default buckets: each estimate lies in the bucket that holds the
// true quantile, which is all interpolation can promise.
func TestPercentilesExponentialDefaultBuckets(t *testing.T) {
	const n, mean = 10000, 0.020
	var ds []time.Duration
	for i := range n {
		u := (float64(i) + 0.5) / n
		ds = append(ds, seconds(-mean*math.Log(1-u)))
	}
	m := gometrics.NewMemory()
	defer m.Close()
	e := record(t, m, ds)
	bucket := func(v float64) int {
		i, _ := slices.BinarySearch(gometrics.DefaultBuckets, v)
		return i
	}
	for _, c := range []struct {
		q   float64
		got time.Duration
	}{{0.5, e.P50}, {0.9, e.P90}, {0.99, e.P99}} {
		truth := -mean * math.Log(1-c.q) // 13.9 ms, 46.1 ms, 92.1 ms
		if bucket(c.got.Seconds()) != bucket(truth) {
			t.Errorf("p%v = %v, true %v: not in the same bucket of %v", c.q*100, c.got, seconds(truth), gometrics.DefaultBuckets)
		}
		t.Logf("p%v estimate %v, true %v", c.q*100, c.got, seconds(truth))
	}
	if !(e.P50 < e.P90 && e.P90 < e.P99 && e.P99 <= e.Max) {
		t.Errorf("percentiles out of order: %+v", e)
	}
}

// Every request took 3 ms: interpolation alone says p50 = 3.75 ms (the
// middle of (2.5 ms, 5 ms]); memory keeps min and max, so the estimate is
// held to what was seen, while Prometheus (no min/max) gives what
// histogram_quantile would.
func TestPercentilesHeldInsideMinMax(t *testing.T) {
	ds := slices.Repeat([]time.Duration{3 * time.Millisecond}, 10)
	mem := gometrics.NewMemory()
	defer mem.Close()
	if e := record(t, mem, ds); e.P50 != 3*time.Millisecond || e.P99 != 3*time.Millisecond || e.Min != 3*time.Millisecond {
		t.Errorf("memory: %+v, want every percentile 3ms", e)
	}
	prom := gometrics.New(prometheusmetrics.New())
	defer prom.Close()
	if e := record(t, prom, ds); e.P50 != 3750*time.Microsecond || e.Max != 0 {
		t.Errorf("prometheus: %+v, want p50 3.75ms and no max", e)
	}
}

// Two series of one endpoint (global tags told apart) add their buckets.
func TestPercentilesMergeSeries(t *testing.T) {
	m := gometrics.NewMemory()
	defer m.Close()
	a := m.Timer("http.server.request_duration_seconds", gometrics.Labels("route", "method", "shard"), gometrics.Buckets(0.01, 0.02))
	for range 5 {
		a.With("route", "/x", "method", "GET", "shard", "a").Observe(5 * time.Millisecond)
		a.With("route", "/x", "method", "GET", "shard", "b").Observe(15 * time.Millisecond)
	}
	st := requestStats(m)
	if len(st) != 1 || st[0].Route != "/x" {
		t.Fatalf("%+v", st)
	}
	// 10 observations, 5 ≤ 10 ms: p50 is at the top of the first bucket.
	if e := st[0]; !e.HasPercentiles || e.P50 != 10*time.Millisecond || e.Min != 5*time.Millisecond || e.Max != 15*time.Millisecond {
		t.Fatalf("%+v", e)
	}
}
