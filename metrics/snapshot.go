package metrics

import (
	"cmp"
	"slices"
	"strings"
)

// Point is the value of one series at the time of a Snapshot.
type Point struct {
	Name   string // the full name as the backend has it: Desc.Name in memory, underscores for dots on Prometheus
	Kind   Kind
	Labels []Label // global tags and bound labels, sorted by key
	// Value is a counter's total or a gauge's current value.
	Value float64
	// Count, Sum, Min and Max summarise a histogram's or timer's
	// observations (for a timer, in seconds). Min and Max are 0 when Count
	// is, and on backends that do not keep them (Prometheus).
	Count    uint64
	Sum      float64
	Min, Max float64
	// Buckets are a histogram's or timer's cumulative bucket counts, as
	// Prometheus' le buckets: ascending bounds, each count the number of
	// observations ≤ its bound, the last bound +Inf with a count of Count.
	// Nil for counters and gauges, and on backends that keep no buckets.
	Buckets []Bucket
}

// Bucket is one cumulative bucket of a histogram's or timer's Point.
type Bucket struct {
	UpperBound float64 // inclusive; +Inf for the last bucket
	Count      uint64  // observations ≤ UpperBound
}

// DefaultBuckets are the bucket bounds of a histogram or timer that sets
// no Buckets, on the memory and Prometheus backends: Prometheus' default
// buckets (5 ms to 10 s) with 100 µs to 1 ms below them, so that the
// percentiles of a fast endpoint are not all interpolated inside [0, 5 ms].
// Do not modify it.
var DefaultBuckets = []float64{.0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10}

// Label returns the value of the label key, or "".
func (p Point) Label(key string) string {
	for _, l := range p.Labels {
		if l.Key == key {
			return l.Value
		}
	}
	return ""
}

// Snapshot is the value of every series of a backend, sorted by name, then
// labels.
type Snapshot []Point

// Find returns the first point called name whose labels include every
// key/value pair of kv.
func (s Snapshot) Find(name string, kv ...string) (Point, bool) {
	for _, p := range s {
		if p.Name == name && p.matches(kv) {
			return p, true
		}
	}
	return Point{}, false
}

// Value returns the Value (for a histogram or timer, the Count) of the
// point Find returns, or 0.
func (s Snapshot) Value(name string, kv ...string) float64 {
	p, ok := s.Find(name, kv...)
	if !ok {
		return 0
	}
	if p.Kind == KindHistogram || p.Kind == KindTimer {
		return float64(p.Count)
	}
	return p.Value
}

func (p Point) matches(kv []string) bool {
	for i := 0; i+1 < len(kv); i += 2 {
		found := false
		for _, l := range p.Labels {
			if l.Key == kv[i] {
				found = l.Value == kv[i+1]
				break
			}
		}
		if !found {
			return false
		}
	}
	return true
}

// Sort orders the points by name, then labels; drivers call it before
// returning a Snapshot.
func (s Snapshot) Sort() {
	for i := range s {
		slices.SortFunc(s[i].Labels, func(a, b Label) int { return strings.Compare(a.Key, b.Key) })
	}
	slices.SortFunc(s, func(a, b Point) int {
		if c := strings.Compare(a.Name, b.Name); c != 0 {
			return c
		}
		return slices.CompareFunc(a.Labels, b.Labels, func(x, y Label) int {
			return cmp.Or(strings.Compare(x.Key, y.Key), strings.Compare(x.Value, y.Value))
		})
	})
}

// PointLabels returns the labels of a series as a Point carries them: the
// desc's tags and labels paired with values, sorted by key.
func PointLabels(desc *Desc, values []string) []Label {
	out := make([]Label, 0, len(desc.Tags)+len(values))
	out = append(out, desc.Tags...)
	for i, k := range desc.Labels {
		out = append(out, Label{Key: k, Value: values[i]})
	}
	slices.SortFunc(out, func(a, b Label) int { return strings.Compare(a.Key, b.Key) })
	return out
}
