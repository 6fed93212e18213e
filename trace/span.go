package trace

import (
	"context"
	"net/netip"
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

// Kind says which side of a call a span records.
type Kind uint8

// The kinds of span. A Kind is also a StartOption: tr.Start(ctx, name, trace.Client).
const (
	Internal Kind = iota // work inside the service (the default)
	Server               // the handling of an incoming request
	Client               // an outgoing request
	Producer             // sending a message to a queue
	Consumer             // handling a message from a queue
)

func (k Kind) String() string {
	switch k {
	case Server:
		return "SERVER"
	case Client:
		return "CLIENT"
	case Producer:
		return "PRODUCER"
	case Consumer:
		return "CONSUMER"
	}
	return "INTERNAL"
}

func (Kind) startOption() {}

// Sampling is the sampling decision a span context carries.
type Sampling uint8

const (
	// Deferred: no decision yet (a B3 caller may leave it to the callee);
	// the local sampler decides.
	Deferred Sampling = iota
	// Accept: the trace is recorded.
	Accept
	// Deny: the trace is not recorded; children and callees record nothing.
	Deny
)

// SpanContext is what crosses process boundaries: the ids and the sampling
// decision. It is a value; the zero value is "no trace". (Its one-byte
// fields come last, together, so that it packs into 48 bytes and an
// unsampled span's whole context into 80.)
type SpanContext struct {
	TraceID TraceID
	SpanID  SpanID
	// TraceState is the W3C tracestate list, validated and passed on
	// unchanged (CleanTracestate); an invalid list is dropped whole.
	TraceState string
	Sampling   Sampling
	// Debug forces sampling of the trace, whatever the samplers say (B3 flag d).
	Debug bool
	// Remote is set on contexts extracted from a request.
	Remote bool
	// Random is W3C Trace Context Level 2's random trace-flag (0x02): the
	// right-most 7 bytes of the trace id are random. It is kept from the
	// caller and passed on to children.
	Random bool
}

// IsValid reports whether the context names a span (trace and span ids set).
// A context can be invalid and still carry a decision: B3's "b3: 0".
func (sc SpanContext) IsValid() bool { return sc.TraceID.IsValid() && sc.SpanID.IsValid() }

// IsSampled reports whether the trace is recorded.
func (sc SpanContext) IsSampled() bool { return sc.Sampling == Accept || sc.Debug }

// Tag is a key and value attached to a span (Zipkin tags are strings).
type Tag struct{ Key, Value string }

// Event is a timestamped annotation on a span ("cache miss", "retry").
type Event struct {
	Time time.Time
	Name string
}

// Endpoint names the other side of a call, or this service.
type Endpoint struct {
	Service string
	Addr    netip.AddrPort // zero when unknown
}

// SpanData is a finished span as exporters and the Recorder see it. An
// exporter must not modify it or keep it after Export returns.
//
// Its one-byte fields come last, together, so that they share one word: a
// sampled span's recording is one allocation, and its size class is what
// the caller and the garbage collector pay for every span.
type SpanData struct {
	TraceID  TraceID
	SpanID   SpanID
	ParentID SpanID // zero for the root of a trace
	Name     string
	Service  string // the local service (WithService)
	Start    time.Time
	End      time.Time
	Tags     []Tag
	Events   []Event
	// Error is the failure the span recorded with SetError, or "".
	Error  string
	Remote Endpoint
	// TraceState is the W3C tracestate the span's context carries.
	TraceState string
	Kind       Kind
	Debug      bool
	// ParentRemote is set when the parent came from another process
	// (extracted from a request).
	ParentRemote bool
}

// Duration is End - Start.
func (d *SpanData) Duration() time.Duration { return d.End.Sub(d.Start) }

// Tag returns the value of the first tag named key.
func (d *SpanData) Tag(key string) (string, bool) {
	for _, t := range d.Tags {
		if t.Key == key {
			return t.Value, true
		}
	}
	return "", false
}

// Span records one operation. Start returns it; End finishes it and hands
// it to the exporter without blocking. Its methods are safe for concurrent
// use, and do nothing after End.
//
// Start may return a nil *Span, for a span that records nothing (its trace
// was not sampled); every method of a nil *Span is a no-op that costs a nil
// check, so callers never test for it.
type Span struct {
	tracer *Tracer
	rec    *recording  // nil when the span is not sampled
	sc     SpanContext // immutable once ids is idsReady; the decision (Sampling, Debug) is set by Start
	ids    atomic.Uint32
	// A sampled span's flags, guarded by rec.mu, in the word ids leaves
	// free rather than in recording, where they would take a word of their
	// own.
	ended     bool
	monoStart bool // rec.data.Start came from the tracer's clock: End reads the monotonic clock only
}

// The states of Span.ids. An unsampled span from the default id source
// starts idsPending (the zero value: its slab slot needs no write) and
// draws its ids when its context is first read; every other span is
// idsReady from Start.
const (
	idsPending uint32 = iota
	idsDrawing
	idsReady
)

// drawIDs fills in the ids Start left to the first reader: the span id,
// and the trace id if the span is a root. Concurrent readers agree: one
// draws, the others wait the few nanoseconds it takes.
func (s *Span) drawIDs() {
	for {
		switch s.ids.Load() {
		case idsReady:
			return
		case idsPending:
			if s.ids.CompareAndSwap(idsPending, idsDrawing) {
				if !s.sc.TraceID.IsValid() {
					s.sc.TraceID = s.tracer.newTraceID()
				}
				s.sc.SpanID = s.tracer.newSpanID()
				s.ids.Store(idsReady)
				return
			}
		default:
			runtime.Gosched() // another reader is drawing them
		}
	}
}

// recording is what a sampled span collects.
type recording struct {
	mu   sync.Mutex
	data SpanData
	// tagBuf holds the first tags without a separate allocation. Three
	// keep a sampled span in the 448-byte size class (a fourth would take
	// it to 480); past them the tags move to the heap, and append's
	// doubling gives six a 192-byte array, which is room for an HTTP
	// span's five or six.
	tagBuf [3]Tag
}

// spanCtx is the context Start returns for an unsampled span: the span and
// its parent context in one slot of a spanSlab.
type spanCtx struct {
	context.Context
	span Span
}

// recordingCtx is the same for a sampled span, with its recording: still
// one allocation.
type recordingCtx struct {
	spanCtx
	rec recording
}

type spanKey struct{}

func (c *spanCtx) Value(key any) any {
	if key == (spanKey{}) {
		return &c.span
	}
	return c.Context.Value(key)
}

// SpanContext returns the span's ids and sampling decision.
func (s *Span) SpanContext() SpanContext {
	if s == nil {
		return SpanContext{}
	}
	if s.ids.Load() != idsReady {
		s.drawIDs()
	}
	return s.sc
}

// IsRecording reports whether the span records what is set on it: false
// for an unsampled span, a nil span and a span already ended.
func (s *Span) IsRecording() bool {
	if s == nil || s.rec == nil {
		return false
	}
	s.rec.mu.Lock()
	defer s.rec.mu.Unlock()
	return !s.ended
}

func (s *Span) recording() bool { return s != nil && s.rec != nil }

// SetTag sets a tag; a second call with the same key replaces the value.
func (s *Span) SetTag(key, value string) {
	if s == nil || s.rec == nil {
		return
	}
	r := s.rec
	r.mu.Lock()
	if !s.ended {
		r.setTag(key, value)
	}
	r.mu.Unlock()
}

func (r *recording) setTag(key, value string) {
	for i := range r.data.Tags {
		if r.data.Tags[i].Key == key {
			r.data.Tags[i].Value = value
			return
		}
	}
	r.data.Tags = append(r.data.Tags, Tag{key, value})
}

// AddEvent records an annotation at the current time.
func (s *Span) AddEvent(name string) {
	if s == nil || s.rec == nil {
		return
	}
	now := s.tracer.clock.now()
	r := s.rec
	r.mu.Lock()
	if !s.ended {
		r.data.Events = append(r.data.Events, Event{Time: now, Name: name})
	}
	r.mu.Unlock()
}

// SetError marks the span failed with err's message (Zipkin's "error" tag).
// A nil err does nothing.
func (s *Span) SetError(err error) {
	if s == nil || err == nil || s.rec == nil {
		return
	}
	msg := err.Error()
	if msg == "" {
		msg = "error"
	}
	r := s.rec
	r.mu.Lock()
	if !s.ended {
		r.data.Error = msg
	}
	r.mu.Unlock()
}

// SetName renames the span, for a name known only later (an HTTP route).
func (s *Span) SetName(name string) {
	if s == nil || s.rec == nil {
		return
	}
	r := s.rec
	r.mu.Lock()
	if !s.ended {
		r.data.Name = name
	}
	r.mu.Unlock()
}

// SetRemote names the other side of the call.
func (s *Span) SetRemote(ep Endpoint) {
	if s == nil || s.rec == nil {
		return
	}
	r := s.rec
	r.mu.Lock()
	if !s.ended {
		r.data.Remote = ep
	}
	r.mu.Unlock()
}

// End finishes the span and hands it to the exporter. It never blocks: when
// the export queue is full the span is dropped and counted (Tracer.Stats).
// Only the first call counts.
func (s *Span) End() {
	if s == nil || s.rec == nil {
		return
	}
	r := s.rec
	end := s.tracer.clock.end(r.data.Start, s.monoStart) // neither changes after Start
	r.mu.Lock()
	if s.ended {
		r.mu.Unlock()
		return
	}
	s.ended = true
	r.data.End = end
	r.mu.Unlock()
	s.tracer.finish(&r.data)
}

// spanSlab hands out unsampled spans' contexts from one allocation per
// slabSize of them, so that an unsampled root (a request sampled out as it
// arrives, the commonest span of all) allocates nothing on average. Slots
// are never reused: a context may outlive its span (a goroutine it was
// handed to), so the slab is freed by the GC once no slot is referenced,
// and a long-lived unsampled context keeps at most one slab (a few KiB)
// alive.
type spanSlab struct {
	next  atomic.Int32
	slots [slabSize]spanCtx
}

const slabSize = 32

// newSpanCtx returns a zeroed slot of the current slab, starting a new
// slab when it is used up. Concurrent callers may race to replace a full
// slab; the loser's slab is simply dropped.
func (t *Tracer) newSpanCtx() *spanCtx {
	for {
		s := t.slab.Load()
		if s != nil {
			if i := s.next.Add(1) - 1; i < slabSize {
				return &s.slots[i]
			}
		}
		ns := new(spanSlab)
		ns.next.Store(1)
		if t.slab.CompareAndSwap(s, ns) {
			return &ns.slots[0]
		}
	}
}
