package zipkintrace_test

import (
	"encoding/json"
	"net/netip"
	"reflect"
	"testing"
	"time"

	"github.com/openzipkin/zipkin-go/model"
	"github.com/openzipkin/zipkin-go/reporter"

	"github.com/microos/go-os/trace"
	"github.com/microos/go-os/trace/zipkintrace"
)

// sameAsZipkinGo fails unless the exporter's encoding of spans decodes to
// the same JSON as zipkin-go's serializer writes for them. A batch
// zipkin-go cannot serialise has nothing to compare with: the table test
// fails on it, the fuzzer passes over that input (fuzzing says so).
func sameAsZipkinGo(t *testing.T, spans []*trace.SpanData, fuzzing bool) {
	t.Helper()
	models := make([]*model.SpanModel, len(spans))
	for i, d := range spans {
		models[i] = zipkintrace.ToModel(d)
	}
	want, err := reporter.JSONSerializer{}.Serialize(models)
	if err != nil {
		if fuzzing {
			return
		}
		t.Fatalf("zipkin-go refuses the batch: %v", err)
	}
	got := zipkintrace.AppendSpans(nil, spans)
	var g, w any
	if err := json.Unmarshal(got, &g); err != nil {
		t.Fatalf("our encoding is not JSON: %v\n%s", err, got)
	}
	if err := json.Unmarshal(want, &w); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(g, w) {
		t.Fatalf("encodings differ:\n ours     %s\n zipkin-go %s", got, want)
	}
}

func sampleSpan() *trace.SpanData {
	d := &trace.SpanData{Name: "GET /Orders/{id}", Kind: trace.Server, Service: "Checkout",
		Start: time.Unix(1700000000, 123456789), End: time.Unix(1700000000, 987654321),
		Tags: []trace.Tag{{Key: "http.request.method", Value: "GET"}, {Key: "url.path", Value: "/orders/7"},
			{Key: "http.response.status_code", Value: "200"}, {Key: "rpc.grpc.status_code", Value: "5"}, {Key: "note", Value: "a \"quoted\"\n\tline \\ <b>&</b> \u2028 é \x01"}},
		Events: []trace.Event{{Time: time.Unix(1700000000, 500000499), Name: "cache miss"}},
		Remote: trace.Endpoint{Service: "Orders-DB", Addr: netip.MustParseAddrPort("10.1.2.3:5432")},
		Error:  "connection reset", Debug: true}
	d.TraceID, _ = trace.ParseTraceID("4bf92f3577b34da6a3ce929d0e0e4736")
	d.SpanID, _ = trace.ParseSpanID("00f067aa0ba902b7")
	d.ParentID, _ = trace.ParseSpanID("b7ad6b7169203331")
	return d
}

func TestJSONMatchesZipkinGo(t *testing.T) {
	full := sampleSpan()
	bare := &trace.SpanData{TraceID: full.TraceID, SpanID: full.SpanID, Start: time.Unix(1700000000, 0), End: time.Unix(1700000000, 400)}
	short := *full
	short.TraceID, _ = trace.ParseTraceID("00f067aa0ba902b7") // 64-bit
	short.Remote = trace.Endpoint{Addr: netip.MustParseAddrPort("[2001:db8::1]:443")}
	short.Kind = trace.Producer
	mapped := *full
	mapped.Remote = trace.Endpoint{Addr: netip.MustParseAddrPort("[::ffff:192.0.2.1]:80")}
	mapped.Tags = []trace.Tag{{Key: "http.path", Value: "/a"}, {Key: "url.path", Value: "/b"}, {Key: "error", Value: "tagged"}}
	badStart := *full
	badStart.Start, badStart.End = time.Unix(-5, 0), time.Unix(-6, 0)
	for name, spans := range map[string][]*trace.SpanData{
		"full":                     {full},
		"bare":                     {bare},
		"64-bit trace, ipv6":       {&short},
		"ipv4-mapped, tag clashes": {&mapped},
		"before 1970, negative":    {&badStart},
		"batch":                    {full, bare, &short, &mapped},
		"empty":                    {},
	} {
		t.Run(name, func(t *testing.T) { sameAsZipkinGo(t, spans, false) })
	}
}

func FuzzJSONMatchesZipkinGo(f *testing.F) {
	f.Add("GET /x", "svc", "k", "v", "err", "peer", int64(1700000000123456789), int64(1500))
	f.Add("\xff\xfe", "S\u2028", "\"", "\\\n", "", "", int64(0), int64(-1))
	f.Fuzz(func(t *testing.T, name, service, key, value, errMsg, peer string, start, dur int64) {
		d := sampleSpan()
		d.Name, d.Service, d.Error = name, service, errMsg
		d.Tags = append(d.Tags, trace.Tag{Key: key, Value: value})
		d.Remote.Service = peer
		d.Start = time.Unix(0, start)
		d.End = d.Start.Add(time.Duration(dur))
		d.Events = append(d.Events, trace.Event{Time: d.Start, Name: value})
		sameAsZipkinGo(t, []*trace.SpanData{d}, true)
	})
}
