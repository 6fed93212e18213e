package metrics

import (
	"context"
	"fmt"
)

// Kind is what a metric measures.
type Kind uint8

const (
	KindCounter   Kind = iota + 1 // a running total that only goes up
	KindGauge                     // a value that goes up and down
	KindHistogram                 // a distribution of observed values
	KindTimer                     // a distribution of durations, in seconds
)

func (k Kind) String() string {
	switch k {
	case KindCounter:
		return "counter"
	case KindGauge:
		return "gauge"
	case KindHistogram:
		return "histogram"
	case KindTimer:
		return "timer"
	}
	return fmt.Sprintf("Kind(%d)", uint8(k))
}

// Label is one key/value pair of a series.
type Label struct{ Key, Value string }

// Desc describes one metric to a driver. The Metrics makes exactly one Desc
// per metric and passes the same pointer for every series of it, so a
// driver may key its own per-metric state on the pointer. A driver must not
// modify it.
type Desc struct {
	// Name is the full name: the namespace (WithNamespace) and the name
	// joined by dots, every byte in [A-Za-z0-9_.] and never starting with a
	// digit or a dot. Drivers whose format has no dots (Prometheus) turn them
	// into underscores.
	Name string
	Kind Kind
	Help string
	// Labels are the label keys the metric declared (Labels option), in
	// order; every key matches [A-Za-z_][A-Za-z0-9_]*.
	Labels []string
	// Tags are the global tags (WithTags), the same on every series of
	// every metric, with keys sanitised like Labels.
	Tags []Label
	// Buckets are the finite upper bounds of a histogram or timer,
	// ascending and distinct (in seconds for a timer); empty means the
	// driver's default, DefaultBuckets on drivers that keep buckets.
	Buckets []float64
}

// Driver is what a backend implements; New puts the portable Metrics in
// front of it. A driver is asked for a series once per distinct label set
// of a metric (the Metrics caches it), with one value per Desc.Labels key;
// values are arbitrary strings the driver sanitises for its format. The
// series it returns are the hot path: their methods must be safe for
// concurrent use, must not block on the network, must not allocate, and
// may be called after Close (and then do nothing useful).
//
// Counter deltas are finite and ≥ 0; no value is NaN. Histogram and timer
// values of a KindTimer are in seconds.
type Driver interface {
	Counter(desc *Desc, values []string) (CounterSeries, error)
	Gauge(desc *Desc, values []string) (GaugeSeries, error)
	Histogram(desc *Desc, values []string) (HistogramSeries, error)
	// Close flushes what the driver buffers and releases what it owns. The
	// Metrics calls it once.
	Close() error
}

// CounterSeries is one series of a counter.
type CounterSeries interface{ Add(delta float64) }

// GaugeSeries is one series of a gauge.
type GaugeSeries interface {
	Set(v float64)
	Add(delta float64)
}

// HistogramSeries is one series of a histogram or timer.
type HistogramSeries interface{ Observe(v float64) }

// Checker is implemented by drivers that deliver to a backend and can
// tell whether it takes what they send (statsd); Metrics.Check uses it.
// Check must answer from what the driver saw, without a call of its own.
type Checker interface {
	Check(ctx context.Context) error
}

// Shutdowner is implemented by drivers whose Close can wait on the network
// (a last flush, a server to stop): Metrics.Shutdown hands them its ctx.
// Without it Metrics.Shutdown calls Close.
type Shutdowner interface {
	Shutdown(ctx context.Context) error
}

// Snapshotter is implemented by drivers that can read their values back
// (memory, Prometheus); Metrics.Snapshot uses it. A driver that keeps a
// histogram's buckets returns them in Point.Buckets.
type Snapshotter interface {
	Snapshot() (Snapshot, error)
}
