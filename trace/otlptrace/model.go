package otlptrace

import (
	"strconv"
	"time"

	coltracepb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	commonpb "go.opentelemetry.io/proto/otlp/common/v1"
	resourcepb "go.opentelemetry.io/proto/otlp/resource/v1"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"

	"github.com/microos/go-os/trace"
)

// ScopeName is the instrumentation scope the spans are sent under.
const ScopeName = "github.com/microos/go-os/trace"

// resourceKeys are the tags trace.WithService puts on every span that
// OpenTelemetry keeps on the resource instead.
var resourceKeys = map[string]bool{"service.version": true, "service.instance.id": true}

// intKeys are the attributes OpenTelemetry's semantic conventions type as
// integers; go-os tags are strings, so they are converted when they parse.
var intKeys = map[string]bool{
	"http.response.status_code": true,
	"rpc.grpc.status_code":      true,
	"server.port":               true,
	"client.port":               true,
	"network.peer.port":         true,
	"http.request.body.size":    true,
	"http.response.body.size":   true,
}

// request builds the OTLP request for one batch: one ResourceSpans per
// distinct resource (service and its resource tags), in the batch's order.
func request(spans []*trace.SpanData) *coltracepb.ExportTraceServiceRequest {
	type resKey struct{ service, version, instance string }
	var out []*tracepb.ResourceSpans
	index := map[resKey]*tracepb.ScopeSpans{}
	a := newArena(spans)
	for _, d := range spans {
		var k resKey
		k.service = d.Service
		k.version, _ = d.Tag("service.version")
		k.instance, _ = d.Tag("service.instance.id")
		ss := index[k]
		if ss == nil {
			attrs := []*commonpb.KeyValue{str("service.name", k.service)}
			if k.version != "" {
				attrs = append(attrs, str("service.version", k.version))
			}
			if k.instance != "" {
				attrs = append(attrs, str("service.instance.id", k.instance))
			}
			ss = &tracepb.ScopeSpans{Scope: &commonpb.InstrumentationScope{Name: ScopeName}, Spans: make([]*tracepb.Span, 0, len(spans))}
			out = append(out, &tracepb.ResourceSpans{
				Resource:   &resourcepb.Resource{Attributes: attrs},
				ScopeSpans: []*tracepb.ScopeSpans{ss},
			})
			index[k] = ss
		}
		ss.Spans = append(ss.Spans, a.span(d))
	}
	return &coltracepb.ExportTraceServiceRequest{ResourceSpans: out}
}

// arena holds the messages of one batch in a few slices instead of a
// dozen allocations per span: the request is built, marshalled and
// dropped within one Export, and nothing keeps a message after it.
type arena struct {
	spans  []tracepb.Span
	kvs    []commonpb.KeyValue
	kvPtrs []*commonpb.KeyValue
	vals   []commonpb.AnyValue
	strs   []commonpb.AnyValue_StringValue
	ints   []commonpb.AnyValue_IntValue
	events []tracepb.Span_Event
	evPtrs []*tracepb.Span_Event
	ids    []byte
}

func newArena(spans []*trace.SpanData) *arena {
	attrs, events := 0, 0
	for _, d := range spans {
		attrs += len(d.Tags) + 3 // peer.service, network.peer.address and port at most
		events += len(d.Events)
	}
	return &arena{
		spans:  make([]tracepb.Span, 0, len(spans)),
		kvs:    make([]commonpb.KeyValue, 0, attrs),
		kvPtrs: make([]*commonpb.KeyValue, 0, attrs),
		vals:   make([]commonpb.AnyValue, 0, attrs),
		strs:   make([]commonpb.AnyValue_StringValue, 0, attrs),
		ints:   make([]commonpb.AnyValue_IntValue, 0, 2*len(spans)),
		events: make([]tracepb.Span_Event, 0, events),
		evPtrs: make([]*tracepb.Span_Event, 0, events),
		ids:    make([]byte, 0, 32*len(spans)),
	}
}

// bytes copies b into the arena's id bytes.
func (a *arena) bytes(b []byte) []byte {
	n := len(a.ids)
	a.ids = append(a.ids, b...)
	return a.ids[n:len(a.ids):len(a.ids)]
}

// kv is attr's key-value in the arena (allocated when the arena was not
// sized for it).
func (a *arena) kv(k, v string) *commonpb.KeyValue {
	if intKeys[k] {
		if n, err := strconv.ParseInt(v, 10, 64); err == nil {
			return a.kvInt(k, n)
		}
	}
	if len(a.strs) == cap(a.strs) || len(a.kvs) == cap(a.kvs) {
		return str(k, v)
	}
	a.strs = append(a.strs, commonpb.AnyValue_StringValue{StringValue: v})
	a.vals = append(a.vals, commonpb.AnyValue{})
	val := &a.vals[len(a.vals)-1]
	val.Value = &a.strs[len(a.strs)-1]
	return a.keyed(k, val)
}

func (a *arena) kvInt(k string, n int64) *commonpb.KeyValue {
	if len(a.ints) == cap(a.ints) || len(a.kvs) == cap(a.kvs) {
		return &commonpb.KeyValue{Key: k, Value: &commonpb.AnyValue{Value: &commonpb.AnyValue_IntValue{IntValue: n}}}
	}
	a.ints = append(a.ints, commonpb.AnyValue_IntValue{IntValue: n})
	a.vals = append(a.vals, commonpb.AnyValue{})
	val := &a.vals[len(a.vals)-1]
	val.Value = &a.ints[len(a.ints)-1]
	return a.keyed(k, val)
}

func (a *arena) keyed(k string, v *commonpb.AnyValue) *commonpb.KeyValue {
	a.kvs = append(a.kvs, commonpb.KeyValue{})
	kv := &a.kvs[len(a.kvs)-1]
	kv.Key, kv.Value = k, v
	return kv
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

func (a *arena) span(d *trace.SpanData) *tracepb.Span {
	a.spans = append(a.spans, tracepb.Span{})
	s := &a.spans[len(a.spans)-1]
	s.TraceId = a.bytes(d.TraceID[:])
	s.SpanId = a.bytes(d.SpanID[:])
	s.TraceState = d.TraceState
	s.Name = d.Name
	s.StartTimeUnixNano = unixNano(d.Start)
	s.EndTimeUnixNano = unixNano(d.End)
	s.Flags = flagSampled | uint32(tracepb.SpanFlags_SPAN_FLAGS_CONTEXT_HAS_IS_REMOTE_MASK)
	if s.EndTimeUnixNano < s.StartTimeUnixNano {
		s.EndTimeUnixNano = s.StartTimeUnixNano
	}
	if d.ParentID.IsValid() {
		s.ParentSpanId = a.bytes(d.ParentID[:])
		if d.ParentRemote {
			s.Flags |= uint32(tracepb.SpanFlags_SPAN_FLAGS_CONTEXT_IS_REMOTE_MASK)
		}
	}
	if int(d.Kind) < len(kinds) {
		s.Kind = kinds[d.Kind]
	}
	start := len(a.kvPtrs)
	for _, t := range d.Tags {
		if !resourceKeys[t.Key] {
			a.kvPtrs = append(a.kvPtrs, a.kv(t.Key, t.Value))
		}
	}
	if r := d.Remote; r.Service != "" {
		a.kvPtrs = append(a.kvPtrs, a.kv("peer.service", r.Service))
	}
	if r := d.Remote; r.Addr.IsValid() {
		a.kvPtrs = append(a.kvPtrs, a.kv("network.peer.address", r.Addr.Addr().Unmap().String()), a.kvInt("network.peer.port", int64(r.Addr.Port())))
	}
	s.Attributes = a.kvPtrs[start:len(a.kvPtrs):len(a.kvPtrs)]
	if len(d.Events) > 0 {
		start := len(a.evPtrs)
		for _, ev := range d.Events {
			a.events = append(a.events, tracepb.Span_Event{})
			e := &a.events[len(a.events)-1]
			e.TimeUnixNano, e.Name = unixNano(ev.Time), ev.Name
			a.evPtrs = append(a.evPtrs, e)
		}
		s.Events = a.evPtrs[start:len(a.evPtrs):len(a.evPtrs)]
	}
	if d.Error != "" {
		s.Status = &tracepb.Status{Code: tracepb.Status_STATUS_CODE_ERROR, Message: d.Error}
	}
	return s
}

// unixNano is t in nanoseconds since the epoch; a zero or pre-1970 time
// (which OTLP's unsigned field cannot hold) is sent as 0, "unknown".
func unixNano(t time.Time) uint64 {
	if t.Unix() <= 0 || t.Year() > 2261 { // UnixNano is undefined out of 1678..2262
		return 0
	}
	return uint64(t.UnixNano())
}

func str(k, v string) *commonpb.KeyValue {
	return &commonpb.KeyValue{Key: k, Value: &commonpb.AnyValue{Value: &commonpb.AnyValue_StringValue{StringValue: v}}}
}
