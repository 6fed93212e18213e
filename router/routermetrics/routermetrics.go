// Package routermetrics publishes the router's stats to the metrics
// package, so that they reach statsd or Prometheus like every other
// metric of the service:
//
//	m, _ := metrics.Open(ctx, os.Getenv("METRICS_URL"))
//	r := router.New(reg, router.WithSink(routermetrics.Sink(m), 10*time.Second))
//
// Counters (labels service, node): router.requests_total,
// router.errors_total, router.ejections_total; per service:
// router.refused_total (label reason: throttled, rate_limited,
// concurrency_limited, no_node), router.retries_total,
// router.hedges_total. Gauges: router.outstanding, router.ejected (0 or
// 1) and router.latency_ewma_seconds per node; router.latency_p50_seconds
// and router.latency_p99_seconds per service.
package routermetrics

import (
	"context"
	"sync"

	"github.com/microos/go-os/metrics"
	"github.com/microos/go-os/router"
)

// Sink returns a router.Sink that records every publication on m. The
// router's stats are running totals; the sink adds to each counter what
// grew since the last publication. It does not close m.
func Sink(m *metrics.Metrics) router.Sink {
	node := metrics.Labels("service", "node")
	svc := metrics.Labels("service")
	return &sink{
		requests:    m.Counter("router.requests_total", node, metrics.Help("Requests the router sent to the node, by outcome reported with Done.")),
		errors:      m.Counter("router.errors_total", node, metrics.Help("Requests to the node that failed.")),
		ejections:   m.Counter("router.ejections_total", node, metrics.Help("Times the node was ejected for failing.")),
		refused:     m.Counter("router.refused_total", metrics.Labels("service", "reason"), metrics.Help("Requests the router refused locally.")),
		retries:     m.Counter("router.retries_total", svc, metrics.Help("Retries on another node.")),
		hedges:      m.Counter("router.hedges_total", svc, metrics.Help("Hedged requests sent.")),
		outstanding: m.Gauge("router.outstanding", node, metrics.Help("Requests in flight to the node.")),
		ejected:     m.Gauge("router.ejected", node, metrics.Help("1 while the node is ejected.")),
		ewma:        m.Gauge("router.latency_ewma_seconds", node, metrics.Help("The node's latency EWMA used by P2C.")),
		p50:         m.Gauge("router.latency_p50_seconds", svc, metrics.Help("Median latency of the service's requests.")),
		p99:         m.Gauge("router.latency_p99_seconds", svc, metrics.Help("99th percentile latency of the service's requests.")),
		last:        map[key]uint64{},
	}
}

type sink struct {
	requests, errors, ejections, refused, retries, hedges *metrics.Counter
	outstanding, ejected, ewma, p50, p99                  *metrics.Gauge

	mu   sync.Mutex // Publish is called from one goroutine, but may be shared
	last map[key]uint64
}

// key names one counter series: the counter, the service and the value
// of its second label, if any.
type key struct {
	c             *metrics.Counter
	service, term string
}

func (s *sink) Publish(_ context.Context, stats []router.Stats) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, st := range stats {
		for _, n := range st.Nodes {
			s.add(s.requests, n.Requests, st.Service, "node", n.Node.ID)
			s.add(s.errors, n.Errors, st.Service, "node", n.Node.ID)
			s.add(s.ejections, n.Ejections, st.Service, "node", n.Node.ID)
			labels := []string{"service", st.Service, "node", n.Node.ID}
			s.outstanding.With(labels...).Set(float64(n.Outstanding))
			ejected := 0.0
			if n.Ejected {
				ejected = 1
			}
			s.ejected.With(labels...).Set(ejected)
			s.ewma.With(labels...).Set(n.EWMA.Seconds())
		}
		s.add(s.refused, st.Throttled, st.Service, "reason", "throttled")
		s.add(s.refused, st.RateLimited, st.Service, "reason", "rate_limited")
		s.add(s.refused, st.ConcurrencyLimited, st.Service, "reason", "concurrency_limited")
		s.add(s.refused, st.Refused, st.Service, "reason", "no_node")
		s.add(s.retries, st.Retries, st.Service, "", "")
		s.add(s.hedges, st.Hedges, st.Service, "", "")
		if st.Latency.Count() > 0 {
			s.p50.With("service", st.Service).Set(st.Latency.Quantile(0.5).Seconds())
			s.p99.With("service", st.Service).Set(st.Latency.Quantile(0.99).Seconds())
		}
	}
	return nil
}

// add records on c what total grew by since the last publication, for
// the service and, unless label is "", label=value. A total that went
// down (a node that left and came back starts from 0) counts from 0.
func (s *sink) add(c *metrics.Counter, total uint64, service, label, value string) {
	k := key{c, service, value}
	prev := s.last[k]
	if total < prev {
		prev = 0
	}
	s.last[k] = total
	if total == prev {
		return
	}
	if label == "" {
		c.With("service", service).Add(float64(total - prev))
	} else {
		c.With("service", service, label, value).Add(float64(total - prev))
	}
}
