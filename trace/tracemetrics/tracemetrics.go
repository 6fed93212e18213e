// Package tracemetrics publishes a Tracer's export figures to the metrics
// package, so that dropped spans show on the same dashboards as everything
// else (statsd or Prometheus):
//
//	m, _ := metrics.Open(ctx, os.Getenv("METRICS_URL"))
//	pub := tracemetrics.Publish(tracer, m, 10*time.Second)
//	defer pub.Close()
//
// Counters: trace.exported_total, trace.dropped_total,
// trace.failed_exports_total. Gauges: trace.queued (spans waiting) and
// trace.exporter_healthy (1 while the last export succeeded, 0 after a
// failure).
package tracemetrics

import (
	"sync"
	"time"

	"github.com/microos/go-os/metrics"
	"github.com/microos/go-os/trace"
)

// Publisher records a Tracer's figures on an interval. It owns one
// goroutine, stopped by Close.
type Publisher struct {
	tr                        *trace.Tracer
	exported, dropped, failed *metrics.Counter
	queued, healthy           *metrics.Gauge
	mu                        sync.Mutex
	last                      trace.Stats
	stop                      chan struct{}
	done                      chan struct{}
	closeOnce                 sync.Once
}

// Publish records tr's figures on m every interval (≤ 0 means 10 s) and
// once more on Close. It closes neither tr nor m.
func Publish(tr *trace.Tracer, m *metrics.Metrics, every time.Duration) *Publisher {
	if every <= 0 {
		every = 10 * time.Second
	}
	p := &Publisher{
		tr:       tr,
		exported: m.Counter("trace.exported_total", metrics.Help("Spans the exporter accepted.")),
		dropped:  m.Counter("trace.dropped_total", metrics.Help("Sampled spans that ended but were never exported (queue full, collector failing, tracer closed).")),
		failed:   m.Counter("trace.failed_exports_total", metrics.Help("Export calls that failed.")),
		queued:   m.Gauge("trace.queued", metrics.Help("Spans waiting for export.")),
		healthy:  m.Gauge("trace.exporter_healthy", metrics.Help("1 while the last export succeeded, 0 after a failure.")),
		stop:     make(chan struct{}),
		done:     make(chan struct{}),
	}
	go p.run(every)
	return p
}

func (p *Publisher) run(every time.Duration) {
	defer close(p.done)
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-t.C:
			p.Flush()
		case <-p.stop:
			return
		}
	}
}

// Flush records the figures now. The tracer's figures are running totals:
// counters get what grew since the last recording.
func (p *Publisher) Flush() {
	p.mu.Lock()
	defer p.mu.Unlock()
	// Read under the lock: a snapshot older than the last one recorded
	// would make a delta wrap around (uint64) to a huge count.
	st := p.tr.Stats()
	p.exported.Add(grew(st.Exported, p.last.Exported))
	p.dropped.Add(grew(st.Dropped, p.last.Dropped))
	p.failed.Add(grew(st.FailedExports, p.last.FailedExports))
	p.queued.Set(float64(st.Queued))
	if st.LastError == nil {
		p.healthy.Set(1)
	} else {
		p.healthy.Set(0)
	}
	p.last = st
}

// Close stops the goroutine and records the figures a last time. It is
// idempotent.
func (p *Publisher) Close() error {
	p.closeOnce.Do(func() {
		close(p.stop)
		<-p.done
		p.Flush()
	})
	return nil
}

// grew is what a running total gained, never negative.
func grew(now, before uint64) float64 {
	if now < before {
		return 0
	}
	return float64(now - before)
}
