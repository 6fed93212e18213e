package metrics

import (
	"log/slog"
	"slices"
)

// DefaultMaxSeries is how many distinct label sets a metric keeps before
// folding new ones into its overflow series.
const DefaultMaxSeries = 1000

// Option configures a Metrics.
type Option func(*options)

type options struct {
	namespace string
	tags      []string
	maxSeries int
	onError   func(error)
	logger    *slog.Logger
}

// WithNamespace prefixes every metric name with ns and a dot:
// WithNamespace("shop") names "requests_total" "shop.requests_total"
// (shop_requests_total on Prometheus). Repeated, the namespaces nest.
func WithNamespace(ns string) Option {
	return func(o *options) {
		if o.namespace != "" && ns != "" {
			ns = o.namespace + "." + ns
		}
		if ns != "" {
			o.namespace = ns
		}
	}
}

// WithTags adds global tags, key/value pairs put on every series of every
// metric (the host, the service version). A key a metric also declares as a
// label is dropped from the tags.
func WithTags(kv ...string) Option {
	return func(o *options) { o.tags = append(o.tags, kv...) }
}

// WithService tags every series with the service speaking: service,
// version and instance, as log.WithService and trace.WithService name it.
// Empty values are left out. Like WithTags, these are global tags: they do
// not count against a metric's label cardinality.
func WithService(name, version, instance string) Option {
	return func(o *options) {
		for _, kv := range [][2]string{{"service", name}, {"version", version}, {"instance", instance}} {
			if kv[1] != "" {
				o.tags = append(o.tags, kv[0], kv[1])
			}
		}
	}
}

// WithMaxSeries sets the default cap of distinct label sets per metric
// (DefaultMaxSeries without it); MaxSeries overrides it per metric.
func WithMaxSeries(n int) Option { return func(o *options) { o.maxSeries = n } }

// WithErrorHandler sets the function told of every mistake (an invalid
// value, an undeclared label key, a backend that cannot be reached), as an
// *Error. It runs on the goroutine that made the mistake and must not block.
// Without it errors go to the WithLogger logger at Warn level.
func WithErrorHandler(h func(error)) Option { return func(o *options) { o.onError = h } }

// WithLogger sets the logger errors go to when there is no ErrorHandler.
// Without either, errors are only counted (Stats).
func WithLogger(l *slog.Logger) Option { return func(o *options) { o.logger = l } }

func collect(opts []Option) options {
	o := options{maxSeries: DefaultMaxSeries}
	for _, opt := range opts {
		if opt != nil {
			opt(&o)
		}
	}
	return o
}

// MetricOption configures one metric.
type MetricOption func(*metricOptions)

type metricOptions struct {
	labels    []string
	help      string
	buckets   []float64
	maxSeries int
}

// Labels declares the metric's label keys; With then binds their values.
// Keys are sanitised to [A-Za-z_][A-Za-z0-9_]*.
func Labels(keys ...string) MetricOption {
	return func(o *metricOptions) { o.labels = append(o.labels, keys...) }
}

// Help describes the metric (Prometheus shows it; statsd ignores it).
func Help(text string) MetricOption { return func(o *metricOptions) { o.help = text } }

// Buckets sets a histogram's or timer's bucket upper bounds (in seconds for
// a timer); without it the memory and Prometheus backends use
// DefaultBuckets. They are sorted and de-duplicated, NaNs and infinities
// dropped (the +Inf bucket is always there); statsd, which sends every
// value and leaves the distribution to its daemon, ignores them.
func Buckets(bounds ...float64) MetricOption {
	return func(o *metricOptions) {
		b := slices.DeleteFunc(slices.Clone(bounds), func(v float64) bool { return !finite(v) })
		slices.Sort(b)
		o.buckets = slices.Compact(b)
	}
}

// MaxSeries caps this metric's distinct label sets (see WithMaxSeries).
func MaxSeries(n int) MetricOption { return func(o *metricOptions) { o.maxSeries = n } }
