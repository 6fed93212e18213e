// Package monitormetrics publishes a monitor's state as gauges through the
// metrics package, on whatever backend it has (Prometheus, statsd,
// memory):
//
//	monitor.check.healthy           gauge  check, critical   1 passing, 0 failing
//	monitor.check.duration_seconds  gauge  check             the last run's duration
//	monitor.check.age_seconds       gauge  check             the age of the last result
//	monitor.status                  gauge  status            1 for the current status, 0 for the others
//	monitor.ready                   gauge                    1 when ready
package monitormetrics

import (
	"context"
	"strconv"

	"github.com/microos/go-os/metrics"
	"github.com/microos/go-os/monitor"
)

// Sink is a monitor.Sink writing gauges to a *metrics.Metrics.
type Sink struct {
	healthy, duration, age, status, ready *metrics.Gauge
	m                                     *metrics.Metrics
}

// New defines the gauges on m.
func New(m *metrics.Metrics) *Sink {
	return &Sink{
		m:        m,
		healthy:  m.Gauge("monitor.check.healthy", metrics.Labels("check", "critical"), metrics.Help("1 while the check passes, 0 while it fails.")),
		duration: m.Gauge("monitor.check.duration_seconds", metrics.Labels("check"), metrics.Help("Duration of the check's last run, in seconds.")),
		age:      m.Gauge("monitor.check.age_seconds", metrics.Labels("check"), metrics.Help("Age of the check's last result, in seconds.")),
		status:   m.Gauge("monitor.status", metrics.Labels("status"), metrics.Help("1 for the service's current status, 0 for the others.")),
		ready:    m.Gauge("monitor.ready", metrics.Help("1 while every critical check passes.")),
	}
}

// Name is "metrics".
func (s *Sink) Name() string { return "metrics" }

var statuses = []monitor.Status{monitor.StatusStarting, monitor.StatusRunning, monitor.StatusDegraded, monitor.StatusUnhealthy, monitor.StatusStopping}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// Publish sets the gauges from r; it fails only when the metrics backend
// reports itself unhealthy.
func (s *Sink) Publish(ctx context.Context, r monitor.Report) error {
	for _, c := range r.Checks {
		s.healthy.With("check", c.Name, "critical", strconv.FormatBool(c.Critical)).Set(b2f(c.OK))
		s.duration.With("check", c.Name).Set(c.Duration.Seconds())
		s.age.With("check", c.Name).Set(c.Age.Seconds())
	}
	for _, st := range statuses {
		s.status.With("status", string(st)).Set(b2f(st == r.Status))
	}
	s.ready.Set(b2f(r.Ready))
	return s.m.Check(ctx)
}
