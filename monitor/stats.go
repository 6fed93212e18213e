package monitor

import (
	"math"
	"runtime/metrics"
	"slices"
	"sort"
	"strings"
	"time"

	gometrics "github.com/microos/go-os/metrics"
)

// Stats are the runtime, process and request stats at one instant.
type Stats struct {
	Runtime  RuntimeStats    `json:"runtime"`
	Process  ProcessStats    `json:"process"`
	Requests []EndpointStats `json:"requests,omitempty"`
	Samples  []Sample        `json:"samples,omitempty"` // the last two minutes, one a second, for charts
}

// RuntimeStats come from runtime/metrics.
type RuntimeStats struct {
	Goroutines uint64        `json:"goroutines"`
	HeapBytes  uint64        `json:"heap_bytes"` // live and unswept heap objects
	TotalBytes uint64        `json:"total_bytes"`
	GCCycles   uint64        `json:"gc_cycles"`
	GCPauseP50 time.Duration `json:"gc_pause_p50_ns"`
	GCPauseP99 time.Duration `json:"gc_pause_p99_ns"`
	GCPauseMax time.Duration `json:"gc_pause_max_ns"`
}

// ProcessStats come from /proc/self on Linux; elsewhere Available is false
// and the rest zero.
type ProcessStats struct {
	Available bool          `json:"available"`
	CPUUser   time.Duration `json:"cpu_user_ns"`
	CPUSystem time.Duration `json:"cpu_system_ns"`
	RSSBytes  uint64        `json:"rss_bytes"`
	OpenFDs   int           `json:"open_fds"`
}

// EndpointStats are read from the metrics package's snapshot: the series
// metrics.NewRequestMetrics records (<side>.requests_total,
// <side>.errors_total, <side>.request_duration_seconds).
//
// P50, P90 and P99 are estimated from the latency histogram's buckets as
// Prometheus' histogram_quantile does (linear within a bucket; see
// metrics.DefaultBuckets for the default layout), then kept inside the
// observed [Min, Max] when the backend keeps them (memory). They are
// cumulative since the Metrics was made, like the counts. Without buckets
// (a backend that keeps none) HasPercentiles is false and they are 0.
// Min and Max are 0 on backends that do not keep them (Prometheus).
type EndpointStats struct {
	Side           string        `json:"side"` // http.server, grpc.client, ...
	Route          string        `json:"route"`
	Method         string        `json:"method"`
	Count          uint64        `json:"count"`
	Errors         uint64        `json:"errors"`
	Mean           time.Duration `json:"latency_mean_ns"`
	Min            time.Duration `json:"latency_min_ns"`
	Max            time.Duration `json:"latency_max_ns"`
	HasPercentiles bool          `json:"has_percentiles"`
	P50            time.Duration `json:"latency_p50_ns"`
	P90            time.Duration `json:"latency_p90_ns"`
	P99            time.Duration `json:"latency_p99_ns"`
}

// Sample is one point of the charts.
type Sample struct {
	At         time.Time `json:"at"`
	Goroutines uint64    `json:"goroutines"`
	HeapBytes  uint64    `json:"heap_bytes"`
	CPU        float64   `json:"cpu"` // cores used since the previous sample
	Requests   uint64    `json:"requests"`
}

var rtNames = []string{
	"/sched/goroutines:goroutines",
	"/memory/classes/heap/objects:bytes",
	"/memory/classes/total:bytes",
	"/gc/cycles/total:gc-cycles",
	"/sched/pauses/total/gc:seconds",
}

func readRuntime() RuntimeStats {
	s := make([]metrics.Sample, len(rtNames))
	for i, n := range rtNames {
		s[i].Name = n
	}
	metrics.Read(s)
	var r RuntimeStats
	u := func(i int) uint64 {
		if s[i].Value.Kind() == metrics.KindUint64 {
			return s[i].Value.Uint64()
		}
		return 0
	}
	r.Goroutines, r.HeapBytes, r.TotalBytes, r.GCCycles = u(0), u(1), u(2), u(3)
	if s[4].Value.Kind() == metrics.KindFloat64Histogram {
		h := s[4].Value.Float64Histogram()
		r.GCPauseP50 = quantile(h, 0.5)
		r.GCPauseP99 = quantile(h, 0.99)
		r.GCPauseMax = quantile(h, 1)
	}
	return r
}

// quantile is the upper bound of the bucket holding quantile q.
func quantile(h *metrics.Float64Histogram, q float64) time.Duration {
	var total uint64
	for _, c := range h.Counts {
		total += c
	}
	if total == 0 {
		return 0
	}
	want := uint64(math.Ceil(q * float64(total)))
	var n uint64
	for i, c := range h.Counts {
		n += c
		if n >= want && c > 0 {
			b := h.Buckets[i+1]
			if math.IsInf(b, 1) {
				b = h.Buckets[i]
			}
			return time.Duration(b * 1e9)
		}
	}
	return 0
}

// latency gathers the duration points of one endpoint: one, unless global
// tags split it into several series (their buckets are then summed).
type latency struct {
	count    uint64
	sum      float64
	min, max float64
	minMax   bool // some point kept min and max
	buckets  []gometrics.Bucket
	mixed    bool // points with different bounds: no percentiles
}

func (l *latency) add(p gometrics.Point) {
	if p.Count == 0 {
		return
	}
	if p.Min != 0 || p.Max != 0 {
		if !l.minMax {
			l.min, l.max, l.minMax = p.Min, p.Max, true
		} else {
			l.min, l.max = min(l.min, p.Min), max(l.max, p.Max)
		}
	}
	first := l.count == 0
	l.count += p.Count
	l.sum += p.Sum
	switch {
	case first:
		l.buckets = slices.Clone(p.Buckets)
	case !sameBounds(l.buckets, p.Buckets):
		l.mixed = true
	default:
		for i := range l.buckets {
			l.buckets[i].Count += p.Buckets[i].Count
		}
	}
}

func sameBounds(a, b []gometrics.Bucket) bool {
	return slices.EqualFunc(a, b, func(x, y gometrics.Bucket) bool { return x.UpperBound == y.UpperBound })
}

func (l *latency) fill(e *EndpointStats) {
	if l.count == 0 {
		return
	}
	e.Mean = seconds(l.sum / float64(l.count))
	if l.minMax {
		e.Min, e.Max = seconds(l.min), seconds(l.max)
	}
	if l.mixed || len(l.buckets) == 0 {
		return
	}
	q := func(q float64) time.Duration {
		v := bucketQuantile(q, l.buckets)
		if math.IsNaN(v) {
			return 0
		}
		if l.minMax {
			v = min(max(v, l.min), l.max) // the estimate can only be inside what was seen
		}
		return seconds(v)
	}
	e.HasPercentiles = true
	e.P50, e.P90, e.P99 = q(0.5), q(0.9), q(0.99)
}

func seconds(s float64) time.Duration { return time.Duration(math.Round(s * 1e9)) }

func requestStats(m *gometrics.Metrics) []EndpointStats {
	if m == nil {
		return nil
	}
	snap, err := m.Snapshot()
	if err != nil {
		return nil
	}
	type key struct{ side, route, method string }
	type endpoint struct {
		EndpointStats
		lat latency
	}
	by := map[key]*endpoint{}
	get := func(side string, p gometrics.Point) *endpoint {
		k := key{side, p.Label("route"), p.Label("method")}
		e := by[k]
		if e == nil {
			e = &endpoint{EndpointStats: EndpointStats{Side: side, Route: k.route, Method: k.method}}
			by[k] = e
		}
		return e
	}
	for _, p := range snap {
		name := strings.ReplaceAll(p.Name, "_", ".")
		for _, suf := range []string{".requests.total", ".errors.total", ".request.duration.seconds"} {
			if !strings.HasSuffix(name, suf) {
				continue
			}
			side := p.Name[:len(p.Name)-len(suf)]
			e := get(side, p)
			switch suf {
			case ".requests.total":
				e.Count += uint64(p.Value)
			case ".errors.total":
				e.Errors += uint64(p.Value)
			default:
				e.lat.add(p)
			}
		}
	}
	out := make([]EndpointStats, 0, len(by))
	for _, e := range by {
		e.lat.fill(&e.EndpointStats)
		out = append(out, e.EndpointStats)
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.Side != b.Side {
			return a.Side < b.Side
		}
		if a.Route != b.Route {
			return a.Route < b.Route
		}
		return a.Method < b.Method
	})
	return out
}

// Stats reads the runtime, process and request stats now.
func (m *Monitor) Stats() Stats {
	s := Stats{Runtime: readRuntime(), Process: readProcess(), Requests: requestStats(m.o.metrics)}
	m.statsMu.Lock()
	s.Samples = append([]Sample(nil), m.samples...)
	m.statsMu.Unlock()
	return s
}

func (m *Monitor) sample(prevCPU *time.Duration, prevAt *time.Time) {
	rt, pr := readRuntime(), readProcess()
	now := time.Now()
	smp := Sample{At: m.now(), Goroutines: rt.Goroutines, HeapBytes: rt.HeapBytes}
	cpu := pr.CPUUser + pr.CPUSystem
	if !prevAt.IsZero() && pr.Available {
		smp.CPU = float64(cpu-*prevCPU) / float64(now.Sub(*prevAt))
	}
	*prevCPU, *prevAt = cpu, now
	for _, e := range requestStats(m.o.metrics) {
		smp.Requests += e.Count
	}
	m.statsMu.Lock()
	m.samples = append(m.samples, smp)
	if len(m.samples) > 120 {
		m.samples = append(m.samples[:0:0], m.samples[len(m.samples)-120:]...)
	}
	m.statsMu.Unlock()
}

func (m *Monitor) sampleLoop() {
	defer m.wg.Done()
	var cpu time.Duration
	var at time.Time
	t := time.NewTicker(time.Second)
	defer t.Stop()
	m.sample(&cpu, &at)
	for {
		select {
		case <-m.stopCh:
			return
		case <-t.C:
			m.sample(&cpu, &at)
		}
	}
}
