package statsdmetrics_test

import (
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/microos/go-os/internal/testenv"
	"github.com/microos/go-os/metrics"
	"github.com/microos/go-os/metrics/metricstest"
	"github.com/microos/go-os/metrics/statsdmetrics"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// statsd_exporter reads both the DogStatsD and the InfluxDB tag formats
// and shows what it received on its /metrics page.
func TestConformanceExporter(t *testing.T) {
	for _, format := range []statsdmetrics.TagFormat{statsdmetrics.Datadog, statsdmetrics.Influx} {
		t.Run(format.String(), func(t *testing.T) {
			daemon, metricsURL := testenv.Statsd(t)
			// Through a relay the Check case cuts; the daemon is the real one.
			relay := newUDPRelay(t, daemon)
			metricstest.Run(t, metricstest.Harness{
				New: func(t *testing.T, opts ...metrics.Option) *metrics.Metrics {
					d, err := statsdmetrics.New(relay.addr, statsdmetrics.WithTagFormat(format), statsdmetrics.WithFlushInterval(time.Hour))
					if err != nil {
						t.Fatal(err)
					}
					return metrics.New(d, opts...)
				},
				Cut:     relay.Cut,
				Restore: relay.Restore,
				Flush:   flush,
				Read: func(t *testing.T, m *metrics.Metrics) metrics.Snapshot {
					m.Driver().(*statsdmetrics.Driver).Flush()
					snap, err := metricstest.Scrape(metricsURL)
					if err != nil {
						t.Fatalf("scrape statsd_exporter: %v", err)
					}
					return snap
				},
			})
		})
	}
}

// The Etsy daemon reads Graphite ;k=v tags and lists what it holds on its
// admin port.
func TestConformanceGraphite(t *testing.T) {
	addr, admin := testenv.StatsdGraphite(t)
	metricstest.Run(t, metricstest.Harness{
		New: func(t *testing.T, opts ...metrics.Option) *metrics.Metrics {
			d, err := statsdmetrics.New(addr, statsdmetrics.WithTagFormat(statsdmetrics.Graphite), statsdmetrics.WithFlushInterval(time.Hour))
			if err != nil {
				t.Fatal(err)
			}
			return metrics.New(d, opts...)
		},
		Read: func(t *testing.T, m *metrics.Metrics) metrics.Snapshot {
			m.Driver().(*statsdmetrics.Driver).Flush()
			return readEtsy(t, admin, m)
		},
		LabelValue: func(v string) string { return strings.ReplaceAll(v, "/", "-") },
	})
}

// flush sends what m buffers, reaching the driver through As.
func flush(m *metrics.Metrics) {
	var d *statsdmetrics.Driver
	if m.As(&d) {
		d.Flush()
	}
}
