package trace

import (
	"log/slog"
	"time"
)

// Option configures a Tracer.
type Option func(*options)

type options struct {
	service       string
	serviceTags   []Tag // version and instance, on every sampled span
	sampler       Sampler
	formats       []Format
	now           func() time.Time
	ids           func() uint64
	queueSize     int
	batchSize     int
	flushInterval time.Duration
	exportTimeout time.Duration
	maxRetries    int
	logger        *slog.Logger
	tsKey         string
	tsValue       func(SpanContext) string
}

// WithService names the service whose spans the tracer records (Zipkin's
// localEndpoint.serviceName), in the shape log.WithService and
// metrics.WithService share: version and instance, when not empty, are
// tagged on every sampled span as service.version and service.instance.id
// (OpenTelemetry's resource attribute names).
func WithService(name, version, instance string) Option {
	return func(o *options) {
		o.service = name
		o.serviceTags = o.serviceTags[:0]
		if version != "" {
			o.serviceTags = append(o.serviceTags, Tag{"service.version", version})
		}
		if instance != "" {
			o.serviceTags = append(o.serviceTags, Tag{"service.instance.id", instance})
		}
	}
}

// WithSampler sets the sampler. Default: ParentBased(Always()).
func WithSampler(s Sampler) Option { return func(o *options) { o.sampler = s } }

// WithPropagation sets the header formats Inject writes. Extract reads every
// format whatever this says. Default: W3C and B3Multi.
func WithPropagation(formats ...Format) Option {
	return func(o *options) { o.formats = append([]Format(nil), formats...) }
}

// WithClock sets the clock spans read their times from, so that tests and
// examples get fixed durations.
func WithClock(now func() time.Time) Option { return func(o *options) { o.now = now } }

// WithQueueSize bounds how many ended spans wait for export (default
// 2048); as many again may be in the batches being sent. When the queue is
// full, End drops the span and counts it instead of waiting: tracing never
// slows the service down, and its memory stays bounded.
func WithQueueSize(n int) Option { return func(o *options) { o.queueSize = n } }

// WithBatchSize sets how many spans one Export sends at most (default 256).
func WithBatchSize(n int) Option { return func(o *options) { o.batchSize = n } }

// WithFlushInterval sets how long a span waits for its batch to fill before
// it is sent anyway (default 1s).
func WithFlushInterval(d time.Duration) Option { return func(o *options) { o.flushInterval = d } }

// WithExportTimeout bounds one Export call (default 10s).
func WithExportTimeout(d time.Duration) Option { return func(o *options) { o.exportTimeout = d } }

// WithMaxRetries sets how often a batch that failed with ErrUnavailable is
// tried again, with capped exponential backoff and jitter, before it is
// dropped and counted (default 2).
func WithMaxRetries(n int) Option { return func(o *options) { o.maxRetries = n } }

// WithLogger receives export failures (one warning per failed batch).
// Default: none; the failures are still counted in Stats.
func WithLogger(l *slog.Logger) Option { return func(o *options) { o.logger = l } }

// WithIDSource sets where trace and span ids come from (64 bits a call;
// zeros are skipped), so that tests and examples get the same ids on every
// run. It must be safe for concurrent use. Default: the runtime's random
// generator.
func WithIDSource(next func() uint64) Option { return func(o *options) { o.ids = next } }

// WithTracestate makes the tracer a tracestate vendor (W3C Trace Context
// §3.5): each span that enters the service (a root, or the child of a
// remote caller) writes key=value(span's context) at the front of the
// tracestate it carries and propagates, replacing the service's previous
// entry; every other vendor's entry is passed on unaltered (SetTracestate).
// Spans whose parent is in the process inherit the list. An empty value,
// or an invalid key or value, leaves the list as it came. Default: no
// entry, the list is passed on as it came.
func WithTracestate(key string, value func(SpanContext) string) Option {
	return func(o *options) { o.tsKey, o.tsValue = key, value }
}

func collect(opts []Option) options {
	o := options{
		sampler:       ParentBased(Always()),
		formats:       []Format{W3C, B3Multi},
		queueSize:     2048,
		batchSize:     256,
		flushInterval: time.Second,
		exportTimeout: 10 * time.Second,
		maxRetries:    2,
	}
	for _, opt := range opts {
		opt(&o)
	}
	if o.service == "" {
		o.service = defaultService()
	}
	o.queueSize = max(o.queueSize, 1)
	o.batchSize = max(o.batchSize, 1)
	if o.flushInterval <= 0 {
		o.flushInterval = time.Second
	}
	if o.exportTimeout <= 0 {
		o.exportTimeout = 10 * time.Second
	}
	o.maxRetries = max(o.maxRetries, 0)
	return o
}
