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
			ss = &tracepb.ScopeSpans{Scope: &commonpb.InstrumentationScope{Name: ScopeName}}
			out = append(out, &tracepb.ResourceSpans{
				Resource:   &resourcepb.Resource{Attributes: attrs},
				ScopeSpans: []*tracepb.ScopeSpans{ss},
			})
			index[k] = ss
		}
		ss.Spans = append(ss.Spans, span(d))
	}
	return &coltracepb.ExportTraceServiceRequest{ResourceSpans: out}
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

func span(d *trace.SpanData) *tracepb.Span {
	s := &tracepb.Span{
		TraceId:           append([]byte(nil), d.TraceID[:]...),
		SpanId:            append([]byte(nil), d.SpanID[:]...),
		TraceState:        d.TraceState,
		Name:              d.Name,
		StartTimeUnixNano: unixNano(d.Start),
		EndTimeUnixNano:   unixNano(d.End),
		Flags:             flagSampled | uint32(tracepb.SpanFlags_SPAN_FLAGS_CONTEXT_HAS_IS_REMOTE_MASK),
	}
	if s.EndTimeUnixNano < s.StartTimeUnixNano {
		s.EndTimeUnixNano = s.StartTimeUnixNano
	}
	if d.ParentID.IsValid() {
		s.ParentSpanId = append([]byte(nil), d.ParentID[:]...)
		if d.ParentRemote {
			s.Flags |= uint32(tracepb.SpanFlags_SPAN_FLAGS_CONTEXT_IS_REMOTE_MASK)
		}
	}
	if int(d.Kind) < len(kinds) {
		s.Kind = kinds[d.Kind]
	}
	s.Attributes = make([]*commonpb.KeyValue, 0, len(d.Tags)+3)
	for _, t := range d.Tags {
		if resourceKeys[t.Key] {
			continue
		}
		s.Attributes = append(s.Attributes, attr(t.Key, t.Value))
	}
	if r := d.Remote; r.Service != "" || r.Addr.IsValid() {
		if r.Service != "" {
			s.Attributes = append(s.Attributes, str("peer.service", r.Service))
		}
		if r.Addr.IsValid() {
			s.Attributes = append(s.Attributes,
				str("network.peer.address", r.Addr.Addr().Unmap().String()),
				&commonpb.KeyValue{Key: "network.peer.port", Value: &commonpb.AnyValue{Value: &commonpb.AnyValue_IntValue{IntValue: int64(r.Addr.Port())}}})
		}
	}
	if len(d.Events) > 0 {
		s.Events = make([]*tracepb.Span_Event, len(d.Events))
		for i, ev := range d.Events {
			s.Events[i] = &tracepb.Span_Event{TimeUnixNano: unixNano(ev.Time), Name: ev.Name}
		}
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

func attr(k, v string) *commonpb.KeyValue {
	if intKeys[k] {
		if n, err := strconv.ParseInt(v, 10, 64); err == nil {
			return &commonpb.KeyValue{Key: k, Value: &commonpb.AnyValue{Value: &commonpb.AnyValue_IntValue{IntValue: n}}}
		}
	}
	return str(k, v)
}
