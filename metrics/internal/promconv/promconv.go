// Package promconv turns gathered or parsed Prometheus metric families into
// a metrics.Snapshot, for the Prometheus driver and the conformance suite.
package promconv

import (
	dto "github.com/prometheus/client_model/go"

	"github.com/microos/go-os/metrics"
)

// Snapshot converts families: counters, gauges and untyped metrics to a
// Value, summaries and histograms to Count and Sum.
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
				p.Kind, p.Count, p.Sum = metrics.KindHistogram, m.GetHistogram().GetSampleCount(), m.GetHistogram().GetSampleSum()
			default:
				continue
			}
			snap = append(snap, p)
		}
	}
	snap.Sort()
	return snap
}
