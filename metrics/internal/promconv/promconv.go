// Package promconv turns gathered or parsed Prometheus metric families into
// a metrics.Snapshot, for the Prometheus driver and the conformance suite.
package promconv

import (
	"cmp"
	"math"
	"slices"

	dto "github.com/prometheus/client_model/go"

	"github.com/microos/go-os/metrics"
)

// Snapshot converts families: counters, gauges and untyped metrics to a
// Value, summaries to Count and Sum, histograms to Count, Sum and Buckets.
func Snapshot(families []*dto.MetricFamily) metrics.Snapshot {
	var snap metrics.Snapshot
	for _, f := range families {
		for _, m := range f.GetMetric() {
			p := metrics.Point{Name: f.GetName()}
			for _, l := range m.GetLabel() {
				p.Labels = append(p.Labels, metrics.Label{Key: l.GetName(), Value: l.GetValue()})
			}
			switch f.GetType() {
			case dto.MetricType_COUNTER:
				p.Kind, p.Value = metrics.KindCounter, m.GetCounter().GetValue()
			case dto.MetricType_GAUGE:
				p.Kind, p.Value = metrics.KindGauge, m.GetGauge().GetValue()
			case dto.MetricType_UNTYPED:
				p.Kind, p.Value = metrics.KindGauge, m.GetUntyped().GetValue()
			case dto.MetricType_SUMMARY:
				p.Kind, p.Count, p.Sum = metrics.KindHistogram, m.GetSummary().GetSampleCount(), m.GetSummary().GetSampleSum()
			case dto.MetricType_HISTOGRAM:
				h := m.GetHistogram()
				p.Kind, p.Count, p.Sum, p.Buckets = metrics.KindHistogram, h.GetSampleCount(), h.GetSampleSum(), buckets(h)
			default:
				continue
			}
			snap = append(snap, p)
		}
	}
	snap.Sort()
	return snap
}

// buckets returns a histogram's cumulative buckets ending with +Inf, which
// client_golang leaves implicit (its count is the sample count) and the
// text format writes out.
func buckets(h *dto.Histogram) []metrics.Bucket {
	bs := h.GetBucket()
	out := make([]metrics.Bucket, 0, len(bs)+1)
	for _, b := range bs {
		out = append(out, metrics.Bucket{UpperBound: b.GetUpperBound(), Count: b.GetCumulativeCount()})
	}
	slices.SortFunc(out, func(a, b metrics.Bucket) int { return cmp.Compare(a.UpperBound, b.UpperBound) })
	if len(out) == 0 || !math.IsInf(out[len(out)-1].UpperBound, 1) {
		out = append(out, metrics.Bucket{UpperBound: math.Inf(1), Count: h.GetSampleCount()})
	}
	return out
}
