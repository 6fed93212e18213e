// Package prometheusmetrics is the Prometheus backend of package metrics, on
// github.com/prometheus/client_golang: every metric becomes a collector on a
// registry, exposed in the text format by Handler.
//
//	d := prometheusmetrics.New()
//	m := metrics.New(d, metrics.WithNamespace("shop"))
//	http.Handle("/metrics", d.Handler())
//
// or metrics.Open(ctx, "prometheus://") to register with the default
// registry (exposed by whatever promhttp handler the application serves),
// or metrics.Open(ctx, "prometheus://127.0.0.1:9100/metrics") to serve the
// page on that address until Close.
//
// Names have their dots turned into underscores (shop.requests_total is
// shop_requests_total); timers are histograms in seconds, with
// metrics.DefaultBuckets (Prometheus' default buckets and four below 5 ms)
// unless the metric sets Buckets. Snapshot reads the buckets back.
package prometheusmetrics

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/microos/go-os/internal/lifecycle"
	"github.com/microos/go-os/metrics"
	"github.com/microos/go-os/metrics/internal/promconv"
)

func init() {
	metrics.Register("prometheus", func(_ context.Context, u *url.URL) (metrics.Driver, error) {
		if len(u.Query()) > 0 {
			return nil, fmt.Errorf("prometheus URL takes no parameters, has %q", u.RawQuery)
		}
		if u.Host == "" {
			return New(WithRegisterer(prometheus.DefaultRegisterer, prometheus.DefaultGatherer)), nil
		}
		path := u.Path
		if path == "" {
			path = "/metrics"
		}
		return Serve(u.Host, path)
	})
}

// Driver records into client_golang collectors. Make it with New or Serve
// and put a metrics.Metrics in front of it with metrics.New.
type Driver struct {
	reg      prometheus.Registerer
	gatherer prometheus.Gatherer

	mu   sync.Mutex
	vecs map[*metrics.Desc]vec

	srv      *http.Server
	addr     net.Addr
	serveErr chan error

	closeOnce sync.Once
	closeErr  error
}

// vec is the collector of one metric.
type vec struct {
	c       prometheus.Collector
	adopted bool // registered by someone else: left registered on Close
	counter *prometheus.CounterVec
	gauge   *prometheus.GaugeVec
	hist    *prometheus.HistogramVec
}

// Option configures a Driver.
type Option func(*Driver)

// WithRegisterer registers the collectors with reg and reads them back
// (Snapshot, Handler) from g, instead of a registry of the Driver's own:
// WithRegisterer(prometheus.DefaultRegisterer, prometheus.DefaultGatherer)
// adds them to what promhttp.Handler() serves.
func WithRegisterer(reg prometheus.Registerer, g prometheus.Gatherer) Option {
	return func(d *Driver) { d.reg, d.gatherer = reg, g }
}

// New returns a Driver on a registry of its own, unless WithRegisterer.
func New(opts ...Option) *Driver {
	r := prometheus.NewRegistry()
	d := &Driver{reg: r, gatherer: r, vecs: map[*metrics.Desc]vec{}}
	for _, opt := range opts {
		if opt != nil {
			opt(d)
		}
	}
	return d
}

// Serve returns a Driver on its own registry that serves the text
// exposition at path on addr (host:port, port 0 for any) until Close.
func Serve(addr, path string, opts ...Option) (*Driver, error) {
	d := New(opts...)
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, metrics.Unavailable(err)
	}
	mux := http.NewServeMux()
	mux.Handle(path, d.Handler())
	d.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	d.addr = l.Addr()
	d.serveErr = make(chan error, 1)
	go func() { d.serveErr <- d.srv.Serve(l) }()
	return d, nil
}

// Addr is the address Serve listens on, or nil.
func (d *Driver) Addr() net.Addr { return d.addr }

// Handler serves the registry's metrics in the Prometheus text format
// (and OpenMetrics or protobuf, as the scraper asks).
func (d *Driver) Handler() http.Handler {
	return promhttp.HandlerFor(d.gatherer, promhttp.HandlerOpts{})
}

// Registerer is where the Driver registers its collectors.
func (d *Driver) Registerer() prometheus.Registerer { return d.reg }

// As implements Metrics.As: *http.Handler gets Handler(),
// *prometheus.Gatherer and *prometheus.Registerer the registry's, **Driver
// the driver itself.
func (d *Driver) As(target any) bool {
	switch t := target.(type) {
	case *http.Handler:
		*t = d.Handler()
	case *prometheus.Gatherer:
		*t = d.gatherer
	case *prometheus.Registerer:
		*t = d.reg
	case **Driver:
		*t = d
	default:
		return false
	}
	return true
}

// Shutdown unregisters the collectors it registered (so that a shared
// registry can take them again; those it found already there stay) and
// stops the server Serve started, within ctx. It is idempotent.
func (d *Driver) Shutdown(ctx context.Context) error {
	d.closeOnce.Do(func() { d.closeErr = d.close(ctx) })
	return d.closeErr
}

// Close is Shutdown bounded by lifecycle.CloseTimeout.
func (d *Driver) Close() error { return lifecycle.Close(d.Shutdown) }

func (d *Driver) close(ctx context.Context) error {
	d.mu.Lock()
	for _, v := range d.vecs {
		if !v.adopted && release(d.reg, v.c) {
			d.reg.Unregister(v.c)
		}
	}
	d.vecs = map[*metrics.Desc]vec{}
	d.mu.Unlock()
	if d.srv == nil {
		return nil
	}
	err := d.srv.Shutdown(ctx)
	if err != nil {
		d.srv.Close() // the deadline passed: cut the connections left
	}
	if serr := <-d.serveErr; !errors.Is(serr, http.ErrServerClosed) && err == nil {
		err = serr
	}
	return err
}

// Counter implements metrics.Driver.
func (d *Driver) Counter(desc *metrics.Desc, values []string) (metrics.CounterSeries, error) {
	v, err := d.vec(desc)
	if err != nil {
		return nil, err
	}
	return v.counter.WithLabelValues(labelValues(values)...), nil
}

// Gauge implements metrics.Driver.
func (d *Driver) Gauge(desc *metrics.Desc, values []string) (metrics.GaugeSeries, error) {
	v, err := d.vec(desc)
	if err != nil {
		return nil, err
	}
	return v.gauge.WithLabelValues(labelValues(values)...), nil
}

// Histogram implements metrics.Driver.
func (d *Driver) Histogram(desc *metrics.Desc, values []string) (metrics.HistogramSeries, error) {
	v, err := d.vec(desc)
	if err != nil {
		return nil, err
	}
	return v.hist.WithLabelValues(labelValues(values)...), nil
}

// vec returns the collector of desc, making and registering it on first use.
func (d *Driver) vec(desc *metrics.Desc) (vec, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if v, ok := d.vecs[desc]; ok {
		return v, nil
	}
	name := Name(desc.Name)
	keys := make([]string, len(desc.Labels))
	for i, k := range desc.Labels {
		keys[i] = labelName(k)
	}
	constLabels := prometheus.Labels{}
	for _, t := range desc.Tags {
		constLabels[labelName(t.Key)] = strings.ToValidUTF8(t.Value, "\uFFFD")
	}
	var v vec
	switch desc.Kind {
	case metrics.KindCounter:
		v.counter = prometheus.NewCounterVec(prometheus.CounterOpts{Name: name, Help: desc.Help, ConstLabels: constLabels}, keys)
		v.c = v.counter
	case metrics.KindGauge:
		v.gauge = prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: name, Help: desc.Help, ConstLabels: constLabels}, keys)
		v.c = v.gauge
	case metrics.KindHistogram, metrics.KindTimer:
		buckets := desc.Buckets
		if len(buckets) == 0 {
			buckets = metrics.DefaultBuckets
		}
		v.hist = prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: name, Help: desc.Help, ConstLabels: constLabels, Buckets: buckets}, keys)
		v.c = v.hist
	default:
		return vec{}, fmt.Errorf("%w: kind %v", metrics.ErrUnsupported, desc.Kind)
	}
	if err := d.reg.Register(v.c); err != nil {
		// Another Metrics (or the application) registered the same metric on
		// a shared registry: record into it if it is of the same shape.
		var are prometheus.AlreadyRegisteredError
		if !errors.As(err, &are) || !v.adopt(are.ExistingCollector) {
			return vec{}, metrics.Wrap(metrics.ErrRedefined, err)
		}
		if acquire(d.reg, v.c, false) {
			v.adopted = false // another go-os Metrics made it: share its ownership
		}
	} else {
		acquire(d.reg, v.c, true)
	}
	d.vecs[desc] = v
	return v, nil
}

func (v *vec) adopt(c prometheus.Collector) bool {
	var ok bool
	switch {
	case v.counter != nil:
		v.counter, ok = c.(*prometheus.CounterVec)
	case v.gauge != nil:
		v.gauge, ok = c.(*prometheus.GaugeVec)
	case v.hist != nil:
		v.hist, ok = c.(*prometheus.HistogramVec)
	}
	v.c, v.adopted = c, true
	return ok
}

// Name is the Prometheus name of a metric: dots become underscores.
func Name(name string) string { return strings.ReplaceAll(name, ".", "_") }

// labelName keeps a key out of the "__" prefix Prometheus reserves.
func labelName(k string) string {
	if strings.HasPrefix(k, "__") {
		return "x" + k
	}
	return k
}

// labelValues makes values valid UTF-8, which Prometheus requires.
func labelValues(values []string) []string {
	var out []string
	for i, v := range values {
		if fixed := strings.ToValidUTF8(v, "\uFFFD"); fixed != v {
			if out == nil {
				out = slices.Clone(values)
			}
			out[i] = fixed
		}
	}
	if out == nil {
		return values
	}
	return out
}

// Snapshot implements metrics.Snapshotter from what the registry gathers.
// Names are the Prometheus names (underscores).
func (d *Driver) Snapshot() (metrics.Snapshot, error) {
	families, err := d.gatherer.Gather()
	if err != nil {
		return nil, err
	}
	return promconv.Snapshot(families), nil
}

// owners counts the go-os Metrics recording into each collector they
// registered, per registry: a collector two of them share is unregistered
// when the last one closes, not when the first does (which would take the
// other's series off /metrics). One the application registered is never
// counted, so never unregistered by us.
var owners = struct {
	sync.Mutex
	n map[ownerKey]int
}{n: map[ownerKey]int{}}

type ownerKey struct {
	reg prometheus.Registerer
	c   prometheus.Collector
}

// acquire counts one more owner of c; a non-first owner only joins
// collectors go-os registered. It reports whether it counted.
func acquire(reg prometheus.Registerer, c prometheus.Collector, first bool) bool {
	owners.Lock()
	defer owners.Unlock()
	k := ownerKey{reg, c}
	if !first && owners.n[k] == 0 {
		return false
	}
	owners.n[k]++
	return true
}

// release drops one owner of c and reports whether it was the last.
func release(reg prometheus.Registerer, c prometheus.Collector) bool {
	owners.Lock()
	defer owners.Unlock()
	k := ownerKey{reg, c}
	owners.n[k]--
	if owners.n[k] > 0 {
		return false
	}
	delete(owners.n, k)
	return true
}
