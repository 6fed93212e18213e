// Package statsdmetrics is the statsd backend of package metrics, on
// github.com/cactus/go-statsd-client/v5, with tags in the InfluxDB/Telegraf,
// DogStatsD or Graphite format.
//
// Recording never touches the network: counters and gauges are summed in
// process and sent once per flush interval, histogram and timer values are
// buffered (a bounded reservoir per series), and the lines are batched into
// packets no larger than the MTU. A million increments of one counter cost
// one line per interval instead of a million packets. Flushes run on an
// interval and on Close; a daemon that is down costs the dropped values and
// a counted error, never a blocked caller or unbounded memory.
//
// The driver keeps no totals: after a flush its values are the daemon's,
// which computes the percentiles of timers (statsd's upper_90, a
// statsd_exporter histogram). So it has no Snapshot, and metrics.Buckets
// means nothing to it; a monitor page that shows request percentiles needs
// a memory or Prometheus Metrics beside it (wrap the handler in one
// metrics.Middleware per Metrics).
//
//	d, err := statsdmetrics.New("127.0.0.1:8125", statsdmetrics.WithTagFormat(statsdmetrics.Datadog))
//	if err != nil { ... }
//	m := metrics.New(d, metrics.WithNamespace("shop"))
//	defer m.Close() // flushes
//
// or metrics.Open(ctx, "statsd://127.0.0.1:8125?tags=datadog&interval=1s").
package statsdmetrics

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"net"
	"net/url"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cactus/go-statsd-client/v5/statsd"

	"github.com/microos/go-os/internal/health"
	"github.com/microos/go-os/internal/lifecycle"
	"github.com/microos/go-os/metrics"
	"github.com/microos/go-os/metrics/internal/cell"
)

func init() {
	metrics.Register("statsd", func(_ context.Context, u *url.URL) (metrics.Driver, error) {
		opts, err := optionsFromQuery(u.Query())
		if err != nil {
			return nil, err
		}
		if u.Host == "" {
			return nil, fmt.Errorf("statsd URL needs host:port")
		}
		return New(u.Host, opts...)
	})
}

// Driver sends to a statsd daemon. Make it with New and put a metrics.Metrics
// in front of it with metrics.New.
type Driver struct {
	o      options
	client statsd.Statter
	sender *packetSender

	mu         sync.Mutex // guards the series lists
	counters   []*counter
	gauges     []*gauge
	histograms []*histogram

	flushMu sync.Mutex // one flush at a time; held by Close
	closed  bool       // under flushMu

	dropped  atomic.Uint64
	stop     chan struct{}
	loopDone chan struct{}
	once     sync.Once
	closeErr error
}

// Stats is what a Driver counted since New.
type Stats struct {
	Packets    uint64 // UDP packets sent
	Bytes      uint64 // bytes sent
	SendErrors uint64 // packets the network refused (daemon down, port closed)
	// Dropped counts histogram and timer values left out of a full
	// reservoir; the values sent carry a sample rate that accounts for them.
	Dropped uint64
	// LastError is the last send error and LastErrorAt when it happened:
	// compare LastErrorAt with the flush interval to tell a daemon that is
	// down now from one that was.
	LastError   error
	LastErrorAt time.Time
}

// New returns a Driver sending to addr (host:port, UDP) and starts its
// flush loop; Close stops it. The daemon need not be up: packets it does
// not take are counted in Stats and reported to the Metrics' error handler.
func New(addr string, opts ...Option) (*Driver, error) {
	o := defaults()
	for _, opt := range opts {
		if opt != nil {
			opt(&o)
		}
	}
	if err := o.validate(); err != nil {
		return nil, err
	}
	conn, err := net.Dial("udp", addr)
	if err != nil {
		return nil, fmt.Errorf("statsd %s: %w", addr, err)
	}
	s := &packetSender{conn: conn, max: o.maxPacket}
	client, err := statsd.NewClientWithSender(s, "", o.format.cactus())
	if err != nil {
		conn.Close()
		return nil, fmt.Errorf("statsd %s: %w", addr, err)
	}
	// Values reach the client already sampled (the reservoir, WithSampleRate):
	// the rate it is given only tells the daemon.
	if c, ok := client.(interface{ SetSamplerFunc(statsd.SamplerFunc) }); ok {
		c.SetSamplerFunc(func(float32) bool { return true })
	}
	d := &Driver{o: o, client: client, sender: s, stop: make(chan struct{}), loopDone: make(chan struct{})}
	go d.loop()
	return d, nil
}

// ReportErrorsTo implements metrics.ErrorReporter.
func (d *Driver) ReportErrorsTo(report func(error)) { d.sender.report.Store(&report) }

func (d *Driver) loop() {
	defer close(d.loopDone)
	// Instances started together (a deploy) would flush in step and hit
	// the daemon in bursts: the first flush comes after a random part of
	// the interval.
	first := time.NewTimer(time.Duration(rand.Int64N(int64(d.o.interval))))
	select {
	case <-d.stop:
		first.Stop()
		return
	case <-first.C:
		d.Flush()
	}
	t := time.NewTicker(d.o.interval)
	defer t.Stop()
	for {
		select {
		case <-d.stop:
			return
		case <-t.C:
			d.Flush()
		}
	}
}

// Flush sends what was recorded since the last flush now. The flush loop
// calls it every interval and Close calls it last; after Close it does
// nothing.
func (d *Driver) Flush() {
	d.flushMu.Lock()
	defer d.flushMu.Unlock()
	if d.closed {
		return
	}
	d.flush()
}

func (d *Driver) flush() {
	d.mu.Lock()
	counters, gauges, histograms := d.counters, d.gauges, d.histograms
	d.mu.Unlock()
	for _, c := range counters {
		c.flush(d.client)
	}
	for _, g := range gauges {
		g.flush(d.client)
	}
	for _, h := range histograms {
		h.flush(d.client, d.o.sampleRate)
	}
	d.sender.flush()
	d.sender.flushed()
}

// Check implements metrics.Checker: nil while the daemon takes the
// packets, else an error wrapping metrics.ErrUnavailable with the last send
// error and its age. A daemon that stops is seen at the second flush that
// fails to reach it, one that comes back after two clean flushes; flushes
// that send nothing change nothing. It makes no call of its own.
func (d *Driver) Check(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	o := d.sender.outage.Load()
	if o == nil {
		return nil
	}
	return &health.Error{Kind: metrics.ErrUnavailable, Last: o.err, Since: o.since, Age: time.Since(o.at)}
}

// Stats returns what the driver counted.
func (d *Driver) Stats() Stats {
	st := Stats{
		Packets: d.sender.packets.Load(), Bytes: d.sender.bytes.Load(),
		SendErrors: d.sender.errors.Load(), Dropped: d.dropped.Load(),
	}
	if e := d.sender.lastErr.Load(); e != nil {
		st.LastError, st.LastErrorAt = e.err, e.at
	}
	return st
}

// Shutdown stops the flush loop, sends what is left (each packet write
// bounded by ctx's deadline too) and closes the socket. It is idempotent.
func (d *Driver) Shutdown(ctx context.Context) error {
	d.once.Do(func() {
		close(d.stop)
		<-d.loopDone
		d.flushMu.Lock()
		defer d.flushMu.Unlock()
		if dl, ok := ctx.Deadline(); ok {
			d.sender.deadline = dl
		}
		if ctx.Err() == nil {
			d.flush()
		}
		d.closed = true
		d.closeErr = d.client.Close()
	})
	return d.closeErr
}

// Close is Shutdown bounded by lifecycle.CloseTimeout.
func (d *Driver) Close() error { return lifecycle.Close(d.Shutdown) }

// As implements Metrics.As: *statsd.Statter gets the cactus client,
// **Driver the driver itself (Stats, Flush).
func (d *Driver) As(target any) bool {
	switch t := target.(type) {
	case *statsd.Statter:
		*t = d.client
	case **Driver:
		*t = d
	default:
		return false
	}
	return true
}

func (d *Driver) series(desc *metrics.Desc, values []string) (string, []statsd.Tag) {
	tags := make([]labelPair, len(desc.Tags))
	for i, t := range desc.Tags {
		tags[i] = labelPair{t.Key, t.Value}
	}
	return desc.Name, d.o.format.tags(tags, desc.Labels, values)
}

// Counter implements metrics.Driver.
func (d *Driver) Counter(desc *metrics.Desc, values []string) (metrics.CounterSeries, error) {
	c := &counter{}
	c.name, c.tags = d.series(desc, values)
	d.mu.Lock()
	d.counters = append(d.counters, c)
	d.mu.Unlock()
	return c, nil
}

// Gauge implements metrics.Driver.
func (d *Driver) Gauge(desc *metrics.Desc, values []string) (metrics.GaugeSeries, error) {
	g := &gauge{}
	g.name, g.tags = d.series(desc, values)
	d.mu.Lock()
	d.gauges = append(d.gauges, g)
	d.mu.Unlock()
	return g, nil
}

// Histogram implements metrics.Driver: timers are sent as |ms (in
// milliseconds), histograms as |h, or |ms in the Graphite format.
func (d *Driver) Histogram(desc *metrics.Desc, values []string) (metrics.HistogramSeries, error) {
	h := &histogram{unit: "|h", scale: 1, max: d.o.maxValues, rate: d.o.sampleRate, dropped: &d.dropped}
	switch {
	case desc.Kind == metrics.KindTimer:
		h.unit, h.scale = "|ms", 1000
	case d.o.format == Graphite:
		// The Etsy daemon has no |h; it reads |ms values as plain numbers.
		h.unit = "|ms"
	}
	h.name, h.tags = d.series(desc, values)
	d.mu.Lock()
	d.histograms = append(d.histograms, h)
	d.mu.Unlock()
	return h, nil
}

type counter struct {
	name string
	tags []statsd.Tag
	v    cell.Counter
}

func (c *counter) Add(delta float64) { c.v.Add(delta) }

// CounterCell lets metrics add to the accumulator directly.
func (c *counter) CounterCell() *cell.Counter { return &c.v }

func (c *counter) flush(client statsd.Statter) {
	v := c.v.Swap()
	if v == 0 {
		return
	}
	if v == math.Trunc(v) && v < 1<<62 {
		client.Inc(c.name, int64(v), 1, c.tags...)
		return
	}
	client.Raw(c.name, strconv.FormatFloat(v, 'f', -1, 64)+"|c", 1, c.tags...)
}

type gauge struct {
	name  string
	tags  []statsd.Tag
	v     cell.Float
	dirty atomic.Bool
}

func (g *gauge) Set(v float64) {
	g.v.Store(v)
	g.dirty.Store(true)
}

func (g *gauge) Add(delta float64) {
	g.v.Add(delta)
	g.dirty.Store(true)
}

// flush sends the absolute value when it changed. statsd reads a leading
// sign as a delta, so a negative value is sent as 0 then the value.
func (g *gauge) flush(client statsd.Statter) {
	if !g.dirty.Swap(false) {
		return
	}
	v := g.v.Load()
	if v < 0 {
		client.Gauge(g.name, 0, 1, g.tags...)
	}
	client.Raw(g.name, strconv.FormatFloat(v, 'f', -1, 64)+"|g", 1, g.tags...)
}

// histogram buffers the values observed since the last flush: all of them
// up to max, then a uniform sample of max (reservoir sampling), sent with
// the sample rate that makes the daemon's counts right.
type histogram struct {
	name    string
	tags    []statsd.Tag
	unit    string  // "|h" or "|ms"
	scale   float64 // 1000 for a timer: seconds recorded, milliseconds sent
	max     int
	rate    float64 // WithSampleRate
	dropped *atomic.Uint64

	mu     sync.Mutex
	values []float64
	seen   uint64
	spare  []float64
}

func (h *histogram) Observe(v float64) {
	if h.rate < 1 && randFloat() >= h.rate {
		return
	}
	h.mu.Lock()
	h.seen++
	if len(h.values) < h.max {
		h.values = append(h.values, v)
	} else if j := randN(h.seen); j < uint64(h.max) {
		h.values[j] = v
		h.dropped.Add(1)
	} else {
		h.dropped.Add(1)
	}
	h.mu.Unlock()
}

func (h *histogram) flush(client statsd.Statter, sampleRate float64) {
	h.mu.Lock()
	values, seen := h.values, h.seen
	h.values, h.seen, h.spare = h.spare[:0], 0, nil
	h.mu.Unlock()
	if len(values) > 0 {
		h.send(client, values, seen, sampleRate)
	}
	h.mu.Lock()
	if h.spare == nil {
		h.spare = values[:0]
	}
	h.mu.Unlock()
}

func (h *histogram) send(client statsd.Statter, values []float64, seen uint64, sampleRate float64) {
	rate := float32(sampleRate * float64(len(values)) / float64(seen))
	buf := make([]byte, 0, 32)
	for _, v := range values {
		buf = strconv.AppendFloat(buf[:0], v*h.scale, 'f', -1, 64)
		buf = append(buf, h.unit...)
		client.Raw(h.name, string(buf), rate, h.tags...)
	}
}
