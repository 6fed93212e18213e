package otlptrace

import (
	"math"
	"strconv"
	"sync/atomic"
	"time"

	coltracepb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	commonpb "go.opentelemetry.io/proto/otlp/common/v1"
	resourcepb "go.opentelemetry.io/proto/otlp/resource/v1"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"

	"github.com/microos/go-os/trace"
)

// ScopeName is the instrumentation scope the spans are sent under.
const ScopeName = "github.com/microos/go-os/trace"

// resourceKey reports the tags trace.WithService puts on every span that
// OpenTelemetry keeps on the resource instead. (A switch, not a map: it
// runs for every tag of every span.)
func resourceKey(k string) bool {
	return k == "service.version" || k == "service.instance.id"
}

// intKey reports the attributes OpenTelemetry's semantic conventions type
// as integers; go-os tags are strings, so they are converted when they
// parse.
func intKey(k string) bool {
	switch k {
	case "http.response.status_code", "rpc.grpc.status_code", "server.port", "client.port",
		"network.peer.port", "http.request.body.size", "http.response.body.size":
		return true
	}
	return false
}

// encoder builds the OTLP request for one batch at a time in a few slices
// it keeps from batch to batch, instead of a dozen allocations per span:
// the garbage a batch left behind was most of the exporter's cost, and
// the garbage collector it set off ran on the callers' cores too. After
// each batch, release clears every message, so nothing of one batch (a
// tag, a status, an event) can reach the next one, and the encoder holds
// no reference to the tracer's spans between exports. An encoder is used
// by one Export at a time.
type encoder struct {
	req      coltracepb.ExportTraceServiceRequest
	spans    []tracepb.Span
	spanPtrs []*tracepb.Span // every ScopeSpans.Spans is a window of it
	attrs    []attr
	kvPtrs   []*commonpb.KeyValue // every Span.Attributes is a window of it
	events   []tracepb.Span_Event
	evPtrs   []*tracepb.Span_Event
	statuses []tracepb.Status

	// The batch's resources, in the order of their first span.
	groups  []group
	groupOf []int32 // the group of each span of the batch
	index   map[resKey]int32
}

// encoders keeps the encoder the last batch used for the next one: one
// Export at a time (the tracer's way) reuses it, concurrent ones make
// their own.
type encoders struct{ spare atomic.Pointer[encoder] }

// use builds the request for spans, calls f with it and clears it for the
// next batch: f must be done with the request when it returns.
func (c *encoders) use(spans []*trace.SpanData, f func(*coltracepb.ExportTraceServiceRequest) error) error {
	e := c.spare.Swap(nil)
	if e == nil {
		e = new(encoder)
	}
	err := f(e.build(spans))
	e.release()
	c.spare.Store(e)
	return err
}

type resKey struct{ service, version, instance string }

type group struct {
	key   resKey
	count int // spans in the batch
	spans []*tracepb.Span
}

// attr is one attribute with its value, stored together.
type attr struct {
	kv  commonpb.KeyValue
	val commonpb.AnyValue
	s   commonpb.AnyValue_StringValue
	i   commonpb.AnyValue_IntValue
}

// An encoder keeps what a batch of up to keepSpans spans needed; the
// slices of a larger one (a batch size far above the default 256) are
// left to the collector, so that one huge batch does not stay pinned.
const keepSpans = 8192

// indexAbove is the number of resources in a batch from which they are
// found with a map instead of a linear search.
const indexAbove = 8

// build returns the request for spans, one ResourceSpans per distinct
// resource (service and its resource tags) in the batch's order. The
// request lives in the encoder: it is valid until release.
func (e *encoder) build(spans []*trace.SpanData) *coltracepb.ExportTraceServiceRequest {
	attrs, events, errs := e.group(spans)
	e.spans = grow(e.spans, len(spans))
	e.spanPtrs = grow(e.spanPtrs, len(spans))
	e.attrs = grow(e.attrs, attrs)
	e.kvPtrs = grow(e.kvPtrs, attrs)
	e.events = grow(e.events, events)
	e.evPtrs = grow(e.evPtrs, events)
	e.statuses = grow(e.statuses, errs)

	out := make([]*tracepb.ResourceSpans, len(e.groups))
	off := 0
	for i := range e.groups {
		g := &e.groups[i]
		g.spans = e.spanPtrs[off : off : off+g.count]
		off += g.count
		out[i] = g.message()
	}
	var n counts
	for i, d := range spans {
		g := &e.groups[e.groupOf[i]]
		g.spans = append(g.spans, e.span(&e.spans[i], d, &n)) // within its window: no reallocation
	}
	for i, g := range e.groups {
		out[i].ScopeSpans[0].Spans = g.spans
	}
	e.req.ResourceSpans = out
	return &e.req
}

// grow returns s with length n, the elements zero: s is either cleared by
// release or freshly made.
func grow[T any](s []T, n int) []T {
	if cap(s) < n {
		return make([]T, n)
	}
	return s[:n]
}

// group sorts the batch's spans into their resources and counts the
// messages the batch needs.
func (e *encoder) group(spans []*trace.SpanData) (attrs, events, errs int) {
	e.groupOf = grow(e.groupOf, len(spans))
	last := int32(-1)
	for i, d := range spans {
		k := resKey{service: d.Service}
		var hasVersion, hasInstance bool // the first tag of each name counts, as d.Tag says
		for _, t := range d.Tags {
			switch {
			case t.Key == "service.version" && !hasVersion:
				k.version, hasVersion = t.Value, true
			case t.Key == "service.instance.id" && !hasInstance:
				k.instance, hasInstance = t.Value, true
			}
		}
		if last < 0 || e.groups[last].key != k {
			last = e.find(k)
		}
		e.groupOf[i] = last
		e.groups[last].count++
		attrs += len(d.Tags)
		if d.Remote.Service != "" {
			attrs++
		}
		if d.Remote.Addr.IsValid() {
			attrs += 2
		}
		events += len(d.Events)
		if d.Error != "" {
			errs++
		}
	}
	return attrs, events, errs
}

// find returns the group of k, adding it when it is new.
func (e *encoder) find(k resKey) int32 {
	if len(e.groups) > indexAbove {
		if i, ok := e.index[k]; ok {
			return i
		}
	} else {
		for i := range e.groups {
			if e.groups[i].key == k {
				return int32(i)
			}
		}
	}
	i := int32(len(e.groups))
	e.groups = append(e.groups, group{key: k})
	if len(e.groups) > indexAbove {
		if e.index == nil {
			e.index = map[resKey]int32{}
		}
		if len(e.index) == 0 { // the groups found by search so far
			for j := range e.groups {
				e.index[e.groups[j].key] = int32(j)
			}
		}
		e.index[k] = i
	}
	return i
}

// message is the group's ResourceSpans, without its spans yet. A batch has
// a resource or a few: their messages are made for each batch.
func (g *group) message() *tracepb.ResourceSpans {
	attrs := []*commonpb.KeyValue{str("service.name", g.key.service)}
	if g.key.version != "" {
		attrs = append(attrs, str("service.version", g.key.version))
	}
	if g.key.instance != "" {
		attrs = append(attrs, str("service.instance.id", g.key.instance))
	}
	return &tracepb.ResourceSpans{
		Resource:   &resourcepb.Resource{Attributes: attrs},
		ScopeSpans: []*tracepb.ScopeSpans{{Scope: &commonpb.InstrumentationScope{Name: ScopeName}}},
	}
}

// release clears the batch's messages (they hold the spans' strings and
// ids) for the next batch to reuse, or drops them when the batch was too
// large to keep.
func (e *encoder) release() {
	e.req.ResourceSpans = nil
	e.spans = clearFor(e.spans, keepSpans)
	e.spanPtrs = clearFor(e.spanPtrs, keepSpans)
	e.attrs = clearFor(e.attrs, 4*keepSpans) // a span has a few attributes
	e.kvPtrs = clearFor(e.kvPtrs, 4*keepSpans)
	e.events = clearFor(e.events, 4*keepSpans)
	e.evPtrs = clearFor(e.evPtrs, 4*keepSpans)
	e.statuses = clearFor(e.statuses, keepSpans)
	e.groups = clearFor(e.groups, keepSpans)
	e.groupOf = clearFor(e.groupOf, keepSpans)
	if len(e.index) > keepSpans {
		e.index = nil
	} else {
		clear(e.index)
	}
}

// clearFor empties s for the next batch: zeroed, so that no message of
// this batch reaches the next one, or dropped when it is above keep.
func clearFor[T any](s []T, keep int) []T {
	if cap(s) > keep {
		return nil
	}
	clear(s)
	return s[:0]
}

var kinds = [...]tracepb.Span_SpanKind{
	trace.Internal: tracepb.Span_SPAN_KIND_INTERNAL,
	trace.Server:   tracepb.Span_SPAN_KIND_SERVER,
	trace.Client:   tracepb.Span_SPAN_KIND_CLIENT,
	trace.Producer: tracepb.Span_SPAN_KIND_PRODUCER,
	trace.Consumer: tracepb.Span_SPAN_KIND_CONSUMER,
}

// w3c trace-flags: every exported span is sampled.
const flagSampled = 0x01

// counts is how much of the encoder's attributes, events and statuses the
// batch's spans have taken so far.
type counts struct{ attrs, events, statuses int }

// span fills s, a zero message, with d. The ids point into d (valid until
// release, as Export's contract allows).
func (e *encoder) span(s *tracepb.Span, d *trace.SpanData, n *counts) *tracepb.Span {
	s.TraceId = d.TraceID[:]
	s.SpanId = d.SpanID[:]
	s.TraceState = d.TraceState
	s.Name = d.Name
	s.StartTimeUnixNano = unixNano(d.Start)
	s.EndTimeUnixNano = unixNano(d.End)
	s.Flags = flagSampled | uint32(tracepb.SpanFlags_SPAN_FLAGS_CONTEXT_HAS_IS_REMOTE_MASK)
	if s.EndTimeUnixNano < s.StartTimeUnixNano {
		s.EndTimeUnixNano = s.StartTimeUnixNano
	}
	if d.ParentID.IsValid() {
		s.ParentSpanId = d.ParentID[:]
		if d.ParentRemote {
			s.Flags |= uint32(tracepb.SpanFlags_SPAN_FLAGS_CONTEXT_IS_REMOTE_MASK)
		}
	}
	if int(d.Kind) < len(kinds) {
		s.Kind = kinds[d.Kind]
	}
	start := n.attrs
	for _, t := range d.Tags {
		if !resourceKey(t.Key) {
			e.attr(n, t.Key, t.Value)
		}
	}
	if r := d.Remote; r.Service != "" {
		e.attr(n, "peer.service", r.Service)
	}
	if r := d.Remote; r.Addr.IsValid() {
		e.attr(n, "network.peer.address", r.Addr.Addr().Unmap().String())
		e.attrInt(n, "network.peer.port", int64(r.Addr.Port()))
	}
	if n.attrs > start {
		s.Attributes = e.kvPtrs[start:n.attrs:n.attrs]
	}
	if len(d.Events) > 0 {
		start := n.events
		for _, ev := range d.Events {
			m := &e.events[n.events]
			m.TimeUnixNano, m.Name = unixNano(ev.Time), ev.Name
			e.evPtrs[n.events] = m
			n.events++
		}
		s.Events = e.evPtrs[start:n.events:n.events]
	}
	if d.Error != "" {
		st := &e.statuses[n.statuses]
		n.statuses++
		st.Code, st.Message = tracepb.Status_STATUS_CODE_ERROR, d.Error
		s.Status = st
	}
	return s
}

// attr adds the attribute k=v to the span being built.
func (e *encoder) attr(n *counts, k, v string) {
	if intKey(k) {
		if i, err := strconv.ParseInt(v, 10, 64); err == nil {
			e.attrInt(n, k, i)
			return
		}
	}
	a := e.next(n, k)
	a.s.StringValue = v
	a.val.Value = &a.s
}

func (e *encoder) attrInt(n *counts, k string, v int64) {
	a := e.next(n, k)
	a.i.IntValue = v
	a.val.Value = &a.i
}

func (e *encoder) next(n *counts, k string) *attr {
	a := &e.attrs[n.attrs]
	a.kv.Key, a.kv.Value = k, &a.val
	e.kvPtrs[n.attrs] = &a.kv
	n.attrs++
	return a
}

// unixNano is t in nanoseconds since the epoch; a zero or pre-1970 time
// (which OTLP's unsigned field cannot hold), or one past 2262-04-11 (where
// UnixNano overflows), is sent as 0, "unknown".
func unixNano(t time.Time) uint64 {
	if s := t.Unix(); s <= 0 || s >= math.MaxInt64/1_000_000_000 {
		return 0
	}
	return uint64(t.UnixNano())
}

func str(k, v string) *commonpb.KeyValue {
	return &commonpb.KeyValue{Key: k, Value: &commonpb.AnyValue{Value: &commonpb.AnyValue_StringValue{StringValue: v}}}
}
