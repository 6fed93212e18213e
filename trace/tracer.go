package trace

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/microos/go-os/internal/lifecycle"
)

// Tracer starts spans and hands the finished ones to its exporter. Make one
// with New, NewMemory or Open, share it across the service, and Close it on
// the way out. It is safe for concurrent use.
//
// A nil *Tracer is the no-op tracer (Noop): Start returns the ctx unchanged
// and a nil span, at the cost of a nil check.
type Tracer struct {
	service     string
	serviceTags []Tag
	sampler     Sampler
	formats     []Format
	clock       clock
	ids         func() uint64            // WithIDSource; nil: the runtime's generator, and unsampled spans draw their ids lazily
	fixed       fixedSampling            // what the sampler decides without looking at the ids, if it does
	tsKey       string                   // WithTracestate
	tsValue     func(SpanContext) string // WithTracestate

	exporter Exporter
	rec      *Recorder // set when exporter is a Recorder: spans go to it directly
	batch    *batcher  // set otherwise

	closed    atomic.Bool
	closeOnce sync.Once
	closeErr  error
	dropped   atomic.Uint64 // spans ended after Close (the batcher counts its own)
	recorded  atomic.Uint64 // spans handed to rec
	slab      atomic.Pointer[spanSlab]
}

// New returns the portable Tracer in front of an exporter. Every
// constructor in this module returns one. Unless the exporter is a
// Recorder, New starts the goroutine that batches spans to it; Close stops it.
func New(exp Exporter, opts ...Option) *Tracer {
	o := collect(opts)
	t := &Tracer{service: o.service, serviceTags: o.serviceTags, sampler: o.sampler, formats: o.formats, ids: o.ids, exporter: exp, tsKey: o.tsKey, tsValue: o.tsValue}
	t.clock.custom = o.now
	t.fixed = fixedOf(o.sampler)
	if r, ok := exp.(*Recorder); ok {
		t.rec = r
	} else {
		t.batch = newBatcher(exp, o)
	}
	return t
}

// NewMemory returns a Tracer that records its spans in a Recorder, which
// tests use to assert a trace's shape; it is also the embedded default.
func NewMemory(opts ...Option) (*Tracer, *Recorder) {
	r := NewRecorder()
	return New(r, opts...), r
}

// Noop returns the no-op tracer: it records nothing, propagates nothing and
// costs nothing. It is a nil *Tracer.
func Noop() *Tracer { return nil }

// Service is the name the tracer records its spans under.
func (t *Tracer) Service() string {
	if t == nil {
		return ""
	}
	return t.service
}

// Exporter returns the exporter New was given (a *Recorder for mem://).
func (t *Tracer) Exporter() Exporter {
	if t == nil {
		return nil
	}
	return t.exporter
}

// StartOption configures one span: a Kind (trace.Server, trace.Client, ...)
// or one of the With... functions below.
type StartOption interface{ startOption() }

type debugOption struct{}

func (debugOption) startOption() {}

// WithDebug records the span's trace whatever the sampler says, and asks
// the services it calls to do the same (B3 debug flag).
func WithDebug() StartOption { return debugOption{} }

type tagsOption []Tag

func (tagsOption) startOption() {}

// WithTags sets tags on the span from its start (a sampler sees none of them).
func WithTags(tags ...Tag) StartOption { return tagsOption(tags) }

type remoteOption Endpoint

func (remoteOption) startOption() {}

// WithRemote names the other side of a client or server span.
func WithRemote(ep Endpoint) StartOption { return remoteOption(ep) }

type parentOption SpanContext

func (parentOption) startOption() {}

// WithParent makes the span a child of sc, usually extracted from a request
// (Extract), instead of the span in ctx. A span joining a remote parent is
// sampled by the tracer's sampler (ParentBased honours the caller).
func WithParent(sc SpanContext) StartOption { return parentOption(sc) }

type startTimeOption time.Time

func (startTimeOption) startOption() {}

// WithStartTime sets the span's start instead of now.
func WithStartTime(t time.Time) StartOption { return startTimeOption(t) }

type startConfig struct {
	kind      Kind
	debug     bool
	hasParent bool
	parent    SpanContext
	tags      []Tag
	hasRemote bool
	remote    Endpoint
	startTime time.Time
}

// noOptions is the configuration of a Start without options; start only
// reads it.
var noOptions startConfig

// Start starts a span named name as a child of the span in ctx (or of the
// WithParent context) and returns a context carrying it. The span is a new
// root when there is no parent. End it, usually with defer.
//
// Start never blocks and never fails. When the trace is not sampled it
// returns a span that records nothing; inside an unsampled trace it returns
// ctx itself and a nil span, without allocating.
func (t *Tracer) Start(ctx context.Context, name string, opts ...StartOption) (context.Context, *Span) {
	if t == nil {
		return ctx, nil
	}
	if len(opts) == 0 {
		return t.start(ctx, name, &noOptions)
	}
	var cfg startConfig
	for _, o := range opts {
		switch o := o.(type) {
		case Kind:
			cfg.kind = o
		case debugOption:
			cfg.debug = true
		case parentOption:
			cfg.hasParent, cfg.parent = true, SpanContext(o)
		case tagsOption:
			if cfg.tags == nil {
				cfg.tags = o
			} else {
				cfg.tags = append(cfg.tags, o...)
			}
		case remoteOption:
			cfg.remote, cfg.hasRemote = Endpoint(o), true
		case startTimeOption:
			cfg.startTime = time.Time(o)
		}
	}
	return t.start(ctx, name, &cfg)
}

func (t *Tracer) start(ctx context.Context, name string, cfg *startConfig) (context.Context, *Span) {
	var psc SpanContext
	local := false
	if cfg.hasParent {
		psc = cfg.parent
	} else if p := FromContext(ctx); p != nil {
		if !p.sc.IsSampled() && !cfg.debug { // the decision is set at Start; only the ids may come later
			return ctx, nil
		}
		psc, local = p.SpanContext(), true
	}

	debug := cfg.debug || psc.Debug
	traceID := psc.TraceID
	var sampled bool
	switch {
	case local || debug:
		sampled = true
	case t.fixed != notFixed:
		sampled = t.fixed.decide(psc.Sampling)
	default:
		if !traceID.IsValid() {
			traceID = t.newTraceID()
		}
		sampled = t.sampler.Sample(SamplingParams{Parent: psc, TraceID: traceID, Name: name, Kind: cfg.kind})
	}
	if !sampled {
		return t.startUnsampled(ctx, &psc, traceID)
	}
	if !traceID.IsValid() {
		traceID = t.newTraceID()
	}

	// One allocation holds the context, the span and its recording; the
	// fields are written one by one, not as struct copies, which the
	// garbage collector's write barrier would copy pointer by pointer.
	c := new(recordingCtx)
	c.Context = ctx
	s := &c.span
	s.tracer, s.rec = t, &c.rec
	s.sc.TraceID, s.sc.SpanID, s.sc.Sampling, s.sc.Debug, s.sc.Random = traceID, t.newSpanID(), Accept, debug, psc.Random
	s.sc.TraceState = psc.TraceState
	if t.tsKey != "" && !local && (!psc.TraceID.IsValid() || psc.Remote) { // the trace enters this service: write our entry
		t.writeTracestate(&s.sc)
	}
	s.ids.Store(idsReady)
	d := &c.rec.data
	d.TraceID, d.SpanID, d.Name, d.Kind, d.Service, d.Debug = traceID, s.sc.SpanID, name, cfg.kind, t.service, debug
	if psc.TraceID == traceID {
		d.ParentID, d.ParentRemote = psc.SpanID, psc.Remote
	}
	if s.sc.TraceState != "" {
		d.TraceState = s.sc.TraceState
	}
	d.Tags = c.rec.tagBuf[:0]
	for _, tag := range t.serviceTags {
		c.rec.setTag(tag.Key, tag.Value)
	}
	for _, tag := range cfg.tags {
		c.rec.setTag(tag.Key, tag.Value)
	}
	if cfg.hasRemote {
		d.Remote = cfg.remote
	}
	if cfg.startTime.IsZero() {
		d.Start, s.monoStart = t.clock.now(), true
	} else {
		d.Start = cfg.startTime
	}
	return &c.spanCtx, &c.span
}

// startUnsampled returns the context of a span that records nothing: a
// slot of a slab, which carries the decision to the span's children and
// its ids downstream. traceID is the trace's, or zero when none was drawn
// yet. With the default id source the ids are drawn by the first reader
// of the span's context (an Inject, a log line), not here: a request
// sampled out as it arrives and never propagated costs no id at all.
func (t *Tracer) startUnsampled(ctx context.Context, psc *SpanContext, traceID TraceID) (context.Context, *Span) {
	c := t.newSpanCtx()
	c.Context = ctx
	s := &c.span
	s.tracer = t
	s.sc.Sampling = Deny
	s.sc.Random = psc.Random
	if psc.TraceState != "" {
		s.sc.TraceState = psc.TraceState
	}
	if traceID.IsValid() {
		s.sc.TraceID = traceID
	}
	entering := t.tsKey != "" && (!psc.TraceID.IsValid() || psc.Remote)
	if t.ids != nil || entering { // a deterministic source keeps Start's order; a tracestate value may need the ids
		s.drawIDs()
		if entering {
			t.writeTracestate(&s.sc)
		}
	}
	return c, s
}

// writeTracestate puts the tracer's own tracestate entry at the front of
// sc's list (WithTracestate).
func (t *Tracer) writeTracestate(sc *SpanContext) {
	if v := t.tsValue(*sc); v != "" {
		sc.TraceState, _ = SetTracestate(sc.TraceState, t.tsKey, v)
	}
}

// FromContext returns the span in ctx, or nil. A nil span is safe to use.
func FromContext(ctx context.Context) *Span {
	s, _ := ctx.Value(spanKey{}).(*Span)
	return s
}

// SpanContextFromContext returns the ids and decision of the span in ctx.
func SpanContextFromContext(ctx context.Context) SpanContext { return FromContext(ctx).SpanContext() }

// finish hands a span that just ended to the recorder or the export queue.
func (t *Tracer) finish(d *SpanData) {
	switch {
	case t.closed.Load():
		t.dropped.Add(1)
	case t.rec != nil:
		t.rec.record(d)
		t.recorded.Add(1)
	default:
		t.batch.enqueue(d)
	}
}

// Stats says how export is going.
type Stats struct {
	Queued   int    // spans waiting for export now
	Exported uint64 // spans the exporter accepted
	// Dropped counts spans that were sampled and ended but never exported:
	// the queue was full, the collector failed past the retries, or the
	// tracer was closed.
	Dropped uint64
	// FailedExports counts Export calls that returned an error.
	FailedExports uint64
	// LastError is the last export error (an *ExportError), or nil once an
	// export succeeds again: the exporter's health.
	LastError error
}

// Stats returns the export figures.
func (t *Tracer) Stats() Stats {
	if t == nil {
		return Stats{}
	}
	var s Stats
	if t.batch != nil {
		s = t.batch.stats()
	} else if t.rec != nil {
		s.Exported = t.recorded.Load()
	}
	s.Dropped += t.dropped.Load()
	return s
}

// Dropped is Stats().Dropped: the spans lost to a full queue, a failing
// collector or Close.
func (t *Tracer) Dropped() uint64 { return t.Stats().Dropped }

// Flush exports every span ended before the call and waits for it, or for
// ctx. Tests call it before reading the backend; services need not.
func (t *Tracer) Flush(ctx context.Context) error {
	if t == nil || t.batch == nil {
		return nil
	}
	if t.closed.Load() {
		return ErrClosed
	}
	return t.batch.flush(ctx)
}

// Close is Shutdown bounded by lifecycle.CloseTimeout (5 s), so that a
// Close against a collector that hangs cannot wait for minutes; what is
// not exported by then is dropped and counted. A Tracer is an io.Closer
// like every other go-os type that owns goroutines. Idempotent.
func (t *Tracer) Close() error { return lifecycle.Close(t.Shutdown) }

// As is the escape hatch to the exporter's backend client (gocloud.dev's
// rule): it reports whether the exporter could set i, a pointer to a type
// it knows (zipkintrace sets a **http.Client). A nil Tracer sets nothing.
func (t *Tracer) As(i any) bool {
	if t == nil {
		return false
	}
	if a, ok := t.exporter.(interface{ As(any) bool }); ok {
		return a.As(i)
	}
	if p, ok := i.(**Recorder); ok && t.rec != nil {
		*p = t.rec
		return true
	}
	return false
}

// Check says whether export is healthy, from memory (no round trip): nil
// while the latest export succeeded (or none was tried); ErrClosed after
// Close; else an error wrapping ErrUnavailable (or ErrRejected when the
// collector refused the batch) with the latest failure and its age. It
// returns ctx.Err() when ctx is done. A nil or in-memory Tracer is always
// healthy.
func (t *Tracer) Check(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if t == nil {
		return nil
	}
	if t.closed.Load() {
		return ErrClosed
	}
	if t.batch == nil {
		return nil
	}
	sentinel := ErrUnavailable
	if e := t.batch.lastErr.Load(); e != nil && errors.Is(e, ErrRejected) {
		sentinel = ErrRejected
	}
	return t.batch.health.Check(ctx, sentinel)
}

// Shutdown flushes the spans already ended, waiting until ctx's deadline
// at most (what is left then is dropped and counted), stops the export
// goroutine and closes the exporter. Spans ended afterwards are dropped
// and counted. It is idempotent: later calls return the first one's result.
func (t *Tracer) Shutdown(ctx context.Context) error {
	if t == nil {
		return nil
	}
	t.closeOnce.Do(func() {
		t.closed.Store(true)
		var err error
		if t.batch != nil {
			err = t.batch.close(ctx)
		}
		if cerr := t.exporter.Close(); err == nil {
			err = cerr
		}
		t.closeErr = err
	})
	return t.closeErr
}

func defaultService() string {
	if len(os.Args) > 0 && os.Args[0] != "" {
		return filepath.Base(os.Args[0])
	}
	return "unknown"
}
