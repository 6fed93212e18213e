package monitor

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"runtime/debug"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/microos/go-os/metrics"
)

// Checker is anything with the go-os health check: every long-lived go-os
// type (kv.Store, discovery.Registrar, config.Config, trace.Tracer,
// metrics.Metrics, log.Logger, router.Router, ...) has it.
type Checker interface {
	Check(ctx context.Context) error
}

// CheckFunc adapts a function to a Checker.
type CheckFunc func(ctx context.Context) error

// Check calls f.
func (f CheckFunc) Check(ctx context.Context) error { return f(ctx) }

// Option configures a Monitor.
type Option func(*options)

type options struct {
	now             func() time.Time
	logger          *slog.Logger
	service         Service
	sinks           []Sink
	publishInterval time.Duration
	retryMin        time.Duration
	retryMax        time.Duration
	publishTimeout  time.Duration
	metrics         *metrics.Metrics
	sections        []section
	manual          bool // tests: no background loops, RunNow only
}

type section struct {
	name string
	fn   func() any
}

// Service names the service being monitored.
type Service struct {
	Name     string `json:"name"`
	Version  string `json:"version"`
	Instance string `json:"instance"`
}

// WithClock sets the clock used for result timestamps, max age and status
// transitions (tests pass fakeclock.Clock.Now). Timeouts and intervals
// still run on real time.
func WithClock(now func() time.Time) Option { return func(o *options) { o.now = now } }

// WithLogger sets where state changes, timeouts, panics and sink failures
// are logged.
func WithLogger(l *slog.Logger) Option { return func(o *options) { o.logger = l } }

// WithService names the service in /status, the status page and sinks.
func WithService(name, version, instance string) Option {
	return func(o *options) { o.service = Service{name, version, instance} }
}

// WithSink adds a sink the report is published to every publish interval.
func WithSink(s Sink) Option { return func(o *options) { o.sinks = append(o.sinks, s) } }

// WithPublishInterval sets how often sinks get the report (default 10s).
func WithPublishInterval(d time.Duration) Option {
	return func(o *options) { o.publishInterval = d }
}

// WithRetry sets the backoff between failed publishes to a sink (default
// 100ms to 10s).
func WithRetry(min, max time.Duration) Option {
	return func(o *options) { o.retryMin, o.retryMax = min, max }
}

// WithMetrics reads per-endpoint request stats from m's Snapshot (the
// series the metrics package's HTTP and gRPC wrappers record): the monitor
// keeps no second counter set.
func WithMetrics(m *metrics.Metrics) Option { return func(o *options) { o.metrics = m } }

// WithSection adds an optional section to /status and the status page:
// fn is called on each /status request and its value is rendered as JSON
// (for example router.Stats, a discovery view, config source status).
func WithSection(name string, fn func() any) Option {
	return func(o *options) { o.sections = append(o.sections, section{name, fn}) }
}

// CheckOption configures one check.
type CheckOption func(*checkConfig)

type checkConfig struct {
	description string
	interval    time.Duration
	timeout     time.Duration
	critical    bool
	maxAge      time.Duration
	damping     int
}

// Description is shown in /status and the status page.
func Description(s string) CheckOption { return func(c *checkConfig) { c.description = s } }

// Interval is the time between runs (default 10s).
func Interval(d time.Duration) CheckOption { return func(c *checkConfig) { c.interval = d } }

// Timeout cuts a run that takes longer (default 5s, at most the interval).
func Timeout(d time.Duration) CheckOption { return func(c *checkConfig) { c.timeout = d } }

// Critical makes the check part of readiness: while it fails the service
// is unhealthy, /health/ready answers 503 and sinks take it out of rotation.
func Critical() CheckOption { return func(c *checkConfig) { c.critical = true } }

// MaxAge is how old the last result may be before it counts as failing
// with ErrStale (default 3 intervals plus the timeout).
func MaxAge(d time.Duration) CheckOption { return func(c *checkConfig) { c.maxAge = d } }

// Damping is the number of consecutive results needed to change the
// check's state once it has one (default 1: every result counts).
func Damping(n int) CheckOption { return func(c *checkConfig) { c.damping = n } }

const historyLen = 60

// HistoryPoint is one past run.
type HistoryPoint struct {
	At       time.Time     `json:"at"`
	OK       bool          `json:"ok"`
	Duration time.Duration `json:"duration_ns"`
}

type check struct {
	name string
	cfg  checkConfig
	c    Checker

	runMu    sync.Mutex    // one run at a time
	running  chan struct{} // closed when the in-flight call returns; nil when none
	runSince time.Time

	// read lock-free by /health/ready
	healthy atomic.Bool
	hasRes  atomic.Bool
	lastNS  atomic.Int64 // clock time of the last result, unix ns

	mu          sync.Mutex
	lastErr     error
	lastDur     time.Duration
	since       time.Time // state held since
	streak      int       // consecutive results disagreeing with the state
	runs, fails uint64
	history     [historyLen]HistoryPoint
	hn          int
}

// Monitor runs checks in the background and serves their cached results.
type Monitor struct {
	o      options
	now    func() time.Time
	log    *slog.Logger
	start  time.Time
	stopCh chan struct{}
	wg     sync.WaitGroup

	mu     sync.Mutex
	byName map[string]*check
	checks atomic.Pointer[[]*check] // copy-on-write, for the ready path
	crit   atomic.Pointer[[]*check]

	stMu        sync.Mutex
	status      Status
	transitions []Transition
	changed     chan struct{}

	sinks []*sinkRunner

	statsMu sync.Mutex
	samples []Sample

	stopping atomic.Bool
	closed   atomic.Bool
	once     sync.Once
}

// New returns a running Monitor; add checks with Register or Add.
func New(opts ...Option) *Monitor {
	o := options{now: time.Now, publishInterval: 10 * time.Second, retryMin: 100 * time.Millisecond, retryMax: 10 * time.Second}
	for _, f := range opts {
		f(&o)
	}
	if o.logger == nil {
		o.logger = slog.New(slog.DiscardHandler)
	}
	if o.publishTimeout == 0 {
		o.publishTimeout = max(o.publishInterval, time.Second)
	}
	m := &Monitor{o: o, now: o.now, log: o.logger, stopCh: make(chan struct{}), byName: map[string]*check{}, changed: make(chan struct{})}
	m.start = m.now()
	m.status = StatusStarting
	m.transitions = []Transition{{At: m.start, To: StatusStarting}}
	empty := []*check{}
	m.checks.Store(&empty)
	m.crit.Store(&empty)
	for _, s := range o.sinks {
		m.sinks = append(m.sinks, &sinkRunner{s: s, name: sinkName(s)})
	}
	if !o.manual {
		for _, s := range m.sinks {
			m.wg.Add(1)
			go m.sinkLoop(s)
		}
		m.wg.Add(1)
		go m.sampleLoop()
	}
	return m
}

// Add registers a check function; see Register.
func (m *Monitor) Add(name string, fn func(ctx context.Context) error, opts ...CheckOption) error {
	return m.Register(name, CheckFunc(fn), opts...)
}

// Register adds c as a check. An empty name is derived from c's type
// ("*kv.Store" becomes "kv.Store"), so m.Register("", store) names it for
// the package it comes from. The check runs at once and then every
// interval, in the background.
func (m *Monitor) Register(name string, c Checker, opts ...CheckOption) error {
	if c == nil {
		return fmt.Errorf("%w: nil Checker", ErrInvalid)
	}
	if name == "" {
		name = strings.TrimLeft(fmt.Sprintf("%T", c), "*")
	}
	cfg := checkConfig{interval: 10 * time.Second, timeout: 5 * time.Second, damping: 1}
	for _, f := range opts {
		f(&cfg)
	}
	if cfg.interval <= 0 || cfg.timeout <= 0 || cfg.damping < 1 {
		return fmt.Errorf("%w: %q: interval, timeout and damping must be positive", ErrInvalid, name)
	}
	cfg.timeout = min(cfg.timeout, cfg.interval)
	if cfg.maxAge <= 0 {
		cfg.maxAge = 3*cfg.interval + cfg.timeout
	}
	if m.closed.Load() {
		return ErrClosed
	}
	ch := &check{name: name, cfg: cfg, c: c}
	m.mu.Lock()
	if _, ok := m.byName[name]; ok {
		m.mu.Unlock()
		return fmt.Errorf("%w: %q", ErrExists, name)
	}
	m.byName[name] = ch
	all := append(append([]*check{}, *m.checks.Load()...), ch)
	m.checks.Store(&all)
	if cfg.critical {
		crit := append(append([]*check{}, *m.crit.Load()...), ch)
		m.crit.Store(&crit)
	}
	m.mu.Unlock()
	m.recompute()
	if !m.o.manual {
		m.wg.Add(1)
		go m.loop(ch)
	}
	return nil
}

// TCP returns a check that dials addr.
func TCP(addr string) Checker {
	return CheckFunc(func(ctx context.Context) error {
		var d netDialer
		c, err := d.DialContext(ctx, "tcp", addr)
		if err != nil {
			return err
		}
		return c.Close()
	})
}

// HTTPGet returns a check that GETs url with client (nil:
// http.DefaultClient) and passes on a 2xx or 3xx status.
func HTTPGet(client *http.Client, url string) Checker {
	if client == nil {
		client = http.DefaultClient
	}
	return CheckFunc(func(ctx context.Context) error {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return err
		}
		res, err := client.Do(req)
		if err != nil {
			return err
		}
		io.Copy(io.Discard, io.LimitReader(res.Body, 64<<10))
		res.Body.Close()
		if res.StatusCode >= 400 {
			return fmt.Errorf("monitor: GET %s: %s", url, res.Status)
		}
		return nil
	})
}

func (m *Monitor) loop(c *check) {
	defer m.wg.Done()
	t := time.NewTimer(0)
	defer t.Stop()
	for {
		select {
		case <-m.stopCh:
			return
		case <-t.C:
		}
		m.run(c)
		t.Reset(c.cfg.interval)
	}
}

// RunNow runs the named check at once (waiting for a run in progress) and
// returns its error.
func (m *Monitor) RunNow(ctx context.Context, name string) error {
	m.mu.Lock()
	c := m.byName[name]
	m.mu.Unlock()
	if c == nil {
		return fmt.Errorf("%w: %q", ErrNotFound, name)
	}
	return m.run(c)
}

type panicError struct {
	v     any
	stack string
}

func (p *panicError) Error() string { return fmt.Sprintf("monitor: check panicked: %v", p.v) }
func (p *panicError) Unwrap() error { return ErrPanic }

// run calls the check once, cut at its timeout. A call that ignores its
// ctx keeps its goroutine until it returns; no second call is started
// while it does (the runs report it as still hung).
func (m *Monitor) run(c *check) error {
	c.runMu.Lock()
	defer c.runMu.Unlock()
	start := time.Now()
	var err error
	if c.running != nil {
		select {
		case <-c.running:
			c.running = nil
		default:
			err = fmt.Errorf("%w after %v (the call of %v ago has not returned)", ErrTimeout, c.cfg.timeout, time.Since(c.runSince).Round(time.Millisecond))
		}
	}
	if err == nil {
		ctx, cancel := context.WithTimeout(context.Background(), c.cfg.timeout)
		done := make(chan struct{})
		res := make(chan error, 1)
		c.runSince = start
		go func() {
			defer close(done)
			defer func() {
				if v := recover(); v != nil {
					res <- &panicError{v: v, stack: string(debug.Stack())}
				}
			}()
			res <- c.c.Check(ctx)
		}()
		select {
		case err = <-res:
		case <-ctx.Done():
			select {
			case err = <-res:
			default:
				err = fmt.Errorf("%w after %v", ErrTimeout, c.cfg.timeout)
				c.running = done
			}
		}
		if ctx.Err() == context.DeadlineExceeded && !errors.Is(err, ErrTimeout) {
			if err == nil {
				err = fmt.Errorf("%w after %v", ErrTimeout, c.cfg.timeout)
			} else { // the check returned its ctx's error: say it was our timeout
				err = fmt.Errorf("%w after %v: %w", ErrTimeout, c.cfg.timeout, err)
			}
		}
		cancel()
	}
	m.record(c, err, time.Since(start))
	return err
}

func (m *Monitor) record(c *check, err error, dur time.Duration) {
	now := m.now()
	ok := err == nil
	c.mu.Lock()
	c.runs++
	if !ok {
		c.fails++
	}
	c.lastErr, c.lastDur = err, dur
	c.history[c.hn%historyLen] = HistoryPoint{At: now, OK: ok, Duration: dur}
	c.hn++
	changed := false
	switch {
	case !c.hasRes.Load():
		c.healthy.Store(ok)
		c.since = now
		changed = true
	case ok == c.healthy.Load():
		c.streak = 0
	default:
		c.streak++
		if c.streak >= c.cfg.damping {
			c.healthy.Store(ok)
			c.since = now
			c.streak = 0
			changed = true
		}
	}
	c.lastNS.Store(now.UnixNano())
	c.hasRes.Store(true)
	c.mu.Unlock()
	if changed {
		var pe *panicError
		switch {
		case ok:
			m.log.Info("monitor: check passing", "check", c.name)
		case errors.As(err, &pe):
			m.log.Error("monitor: check panicked", "check", c.name, "panic", fmt.Sprint(pe.v), "stack", pe.stack)
		default:
			m.log.Warn("monitor: check failing", "check", c.name, "critical", c.cfg.critical, "err", err)
		}
	}
	m.recompute()
}

// state returns the check's effective health at now: its damped state,
// failing when it has no result or the result is older than max age.
func (c *check) effective(nowNS int64) bool {
	return c.hasRes.Load() && c.healthy.Load() && nowNS-c.lastNS.Load() <= int64(c.cfg.maxAge)
}

// Ready reports whether every critical check passes with a fresh result.
// It reads cached results only and does not allocate.
func (m *Monitor) Ready() bool {
	if m.stopping.Load() {
		return false
	}
	now := m.now().UnixNano()
	for _, c := range *m.crit.Load() {
		if !c.effective(now) {
			return false
		}
	}
	return true
}

// Changed returns a channel closed at the next status or check state change.
func (m *Monitor) Changed() <-chan struct{} {
	m.stMu.Lock()
	defer m.stMu.Unlock()
	return m.changed
}

func (m *Monitor) notify() {
	close(m.changed)
	m.changed = make(chan struct{})
}

// Shutdown marks the monitor stopping (readiness false), publishes a last
// report to the sinks within ctx and the publish timeout, and stops every loop. It waits for hung
// check calls within ctx. Idempotent.
func (m *Monitor) Shutdown(ctx context.Context) error {
	var err error
	m.once.Do(func() {
		m.stopping.Store(true)
		m.recompute()
		m.closed.Store(true)
		close(m.stopCh)
		m.wg.Wait()
		rep := m.Report()
		pctx, cancel := context.WithTimeout(ctx, m.o.publishTimeout)
		defer cancel()
		for _, s := range m.sinks {
			if e := s.publish(pctx, rep, m.now()); e != nil {
				err = errors.Join(err, e)
			}
		}
		for _, c := range *m.checks.Load() {
			c.runMu.Lock()
			r := c.running
			c.runMu.Unlock()
			if r != nil {
				select {
				case <-r:
				case <-ctx.Done():
					err = errors.Join(err, fmt.Errorf("monitor: check %q still hung at shutdown: %w", c.name, ctx.Err()))
				}
			}
		}
	})
	return err
}

// Close is Shutdown bounded by lifecycle.CloseTimeout.
func (m *Monitor) Close() error { return closeBounded(m.Shutdown) }
