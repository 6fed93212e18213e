package metrics

import (
	"math"
	"sort"
	"sync"

	"github.com/microos/go-os/metrics/internal/cell"
)

// NewMemory returns a Metrics that keeps exact values in process, safe for
// concurrent use: what unit tests, the monitor package and the embedded
// default use. Read the values back with Snapshot.
func NewMemory(opts ...Option) *Metrics { return New(newMemory(), opts...) }

type memory struct {
	mu     sync.Mutex
	series []memSeries
}

type memSeries interface{ point() Point }

func newMemory() *memory { return &memory{} }

func (m *memory) add(s memSeries) {
	m.mu.Lock()
	m.series = append(m.series, s)
	m.mu.Unlock()
}

func (m *memory) Counter(desc *Desc, values []string) (CounterSeries, error) {
	s := &memCounter{desc: desc, values: values}
	m.add(s)
	return s, nil
}

func (m *memory) Gauge(desc *Desc, values []string) (GaugeSeries, error) {
	s := &memGauge{desc: desc, values: values}
	m.add(s)
	return s, nil
}

func (m *memory) Histogram(desc *Desc, values []string) (HistogramSeries, error) {
	s := newMemHistogram(desc, values)
	m.add(s)
	return s, nil
}

// Snapshot reads every series. Values recorded while it runs land in this
// snapshot or the next.
func (m *memory) Snapshot() (Snapshot, error) {
	m.mu.Lock()
	series := m.series[:len(m.series):len(m.series)]
	m.mu.Unlock()
	out := make(Snapshot, 0, len(series))
	for _, s := range series {
		out = append(out, s.point())
	}
	out.Sort()
	return out, nil
}

// Close keeps the values readable: a test may read them after closing.
func (m *memory) Close() error { return nil }

type memCounter struct {
	desc   *Desc
	values []string
	v      cell.Counter
}

func (c *memCounter) Add(d float64)              { c.v.Add(d) }
func (c *memCounter) CounterCell() *cell.Counter { return &c.v }

func (c *memCounter) point() Point {
	return Point{Name: c.desc.Name, Kind: c.desc.Kind, Labels: PointLabels(c.desc, c.values), Value: c.v.Load()}
}

type memGauge struct {
	desc   *Desc
	values []string
	v      cell.Float
}

func (g *memGauge) Set(v float64) { g.v.Store(v) }
func (g *memGauge) Add(d float64) { g.v.Add(d) }

func (g *memGauge) point() Point {
	return Point{Name: g.desc.Name, Kind: g.desc.Kind, Labels: PointLabels(g.desc, g.values), Value: g.v.Load()}
}

type memHistogram struct {
	desc   *Desc
	values []string
	bounds []float64 // finite upper bounds, ascending; counts has one more, for +Inf

	mu       sync.Mutex
	count    uint64
	sum      float64
	min, max float64
	counts   []uint64 // per bucket, not cumulative
}

func newMemHistogram(desc *Desc, values []string) *memHistogram {
	bounds := desc.Buckets
	if len(bounds) == 0 {
		bounds = DefaultBuckets
	}
	return &memHistogram{desc: desc, values: values, bounds: bounds, counts: make([]uint64, len(bounds)+1)}
}

func (h *memHistogram) Observe(v float64) {
	i := bucketIndex(h.bounds, v)
	h.mu.Lock()
	if h.count == 0 {
		h.min, h.max = v, v
	} else {
		h.min, h.max = math.Min(h.min, v), math.Max(h.max, v)
	}
	h.count++
	h.sum += v
	h.counts[i]++
	h.mu.Unlock()
}

// bucketIndex is the index of the first bound ≥ v (len(bounds) for the
// +Inf bucket): buckets are inclusive of their upper bound, as Prometheus'.
// A linear scan beats a binary search on the few bounds a histogram has.
func bucketIndex(bounds []float64, v float64) int {
	if len(bounds) > 32 {
		return sort.SearchFloat64s(bounds, v)
	}
	for i, b := range bounds {
		if v <= b {
			return i
		}
	}
	return len(bounds)
}

func (h *memHistogram) point() Point {
	p := Point{Name: h.desc.Name, Kind: h.desc.Kind, Labels: PointLabels(h.desc, h.values), Buckets: make([]Bucket, len(h.counts))}
	h.mu.Lock()
	defer h.mu.Unlock()
	p.Count, p.Sum, p.Min, p.Max = h.count, h.sum, h.min, h.max
	var n uint64
	for i, c := range h.counts {
		n += c
		p.Buckets[i] = Bucket{UpperBound: math.Inf(1), Count: n}
		if i < len(h.bounds) {
			p.Buckets[i].UpperBound = h.bounds[i]
		}
	}
	return p
}
