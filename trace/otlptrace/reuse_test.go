package otlptrace_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/netip"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/protobuf/proto"

	coltracepb "go.opentelemetry.io/proto/otlp/collector/trace/v1"

	"github.com/microos/go-os/trace"
	"github.com/microos/go-os/trace/otlptrace"
)

// The exporters keep their messages and body buffer from one batch to the
// next; these tests check that nothing of a batch reaches another one.

// rich is a batch that sets every field the mapping knows, over two
// resources.
func rich(prefix string) []*trace.SpanData {
	var out []*trace.SpanData
	for i := range 4 {
		d := &trace.SpanData{
			Name: fmt.Sprintf("%s-%d", prefix, i), Kind: trace.Server, Service: "svc-a",
			Start: time.Unix(1700000000, int64(i)), End: time.Unix(1700000001, int64(i)),
			Tags: []trace.Tag{{Key: "http.request.method", Value: "GET"}, {Key: "http.response.status_code", Value: "503"},
				{Key: "service.version", Value: "1.2.3"}, {Key: "service.instance.id", Value: fmt.Sprint("host-", i%2)}, {Key: "k", Value: prefix}},
			Events:       []trace.Event{{Time: time.Unix(1700000000, 500), Name: "retry"}, {Time: time.Unix(1700000000, 600), Name: "cache miss"}},
			Error:        "HTTP 503",
			Remote:       trace.Endpoint{Service: "db", Addr: netip.MustParseAddrPort("10.0.0.7:5432")},
			TraceState:   "ours=1",
			ParentRemote: true,
		}
		d.TraceID[0], d.TraceID[15] = 0xab, byte(i+1)
		d.SpanID[0], d.SpanID[7] = 0xcd, byte(i+1)
		d.ParentID[7] = 0x99
		out = append(out, d)
	}
	return out
}

// sparse is a batch of bare spans of another service: a field left from
// the rich batch would show in it.
func sparse(prefix string, n int) []*trace.SpanData {
	var out []*trace.SpanData
	for i := range n {
		d := &trace.SpanData{Name: fmt.Sprintf("%s-%d", prefix, i), Service: "svc-b", Start: time.Unix(1700000100, 0), End: time.Unix(1700000100, 1)}
		d.TraceID[15], d.SpanID[7] = byte(100+i), byte(100+i)
		out = append(out, d)
	}
	return out
}

// recordingReceiver decodes every request and keeps it, in order.
type recordingReceiver struct {
	mu   sync.Mutex
	reqs []*coltracepb.ExportTraceServiceRequest
}

func (r *recordingReceiver) add(req *coltracepb.ExportTraceServiceRequest) {
	r.mu.Lock()
	r.reqs = append(r.reqs, req)
	r.mu.Unlock()
}

func (r *recordingReceiver) all() []*coltracepb.ExportTraceServiceRequest {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]*coltracepb.ExportTraceServiceRequest(nil), r.reqs...)
}

func newRecordingReceiver(t *testing.T) (*recordingReceiver, string) {
	rec := &recordingReceiver{}
	srv := receiver(t, func(w http.ResponseWriter, req *coltracepb.ExportTraceServiceRequest) { rec.add(req) })
	return rec, srv.URL
}

// fresh is what a new exporter sends for batch: its first request, made
// with nothing kept from an earlier one.
func fresh(t *testing.T, batch []*trace.SpanData) *coltracepb.ExportTraceServiceRequest {
	t.Helper()
	rec, url := newRecordingReceiver(t)
	exp, err := otlptrace.New(url)
	if err != nil {
		t.Fatal(err)
	}
	defer exp.Close()
	if err := exp.Export(context.Background(), batch); err != nil {
		t.Fatal(err)
	}
	return rec.all()[0]
}

// checkSparse checks a request of sparse spans field by field.
func checkSparse(t *testing.T, req *coltracepb.ExportTraceServiceRequest, batch []*trace.SpanData) {
	t.Helper()
	if len(req.ResourceSpans) != 1 {
		t.Fatalf("%d resources, want 1: %v", len(req.ResourceSpans), req)
	}
	rs := req.ResourceSpans[0]
	if a := rs.Resource.Attributes; len(a) != 1 || a[0].Key != "service.name" || a[0].Value.GetStringValue() != "svc-b" {
		t.Errorf("resource attributes %v, want service.name=svc-b alone", a)
	}
	if len(rs.ScopeSpans) != 1 || len(rs.ScopeSpans[0].Spans) != len(batch) {
		t.Fatalf("scope spans %v, want %d spans", rs.ScopeSpans, len(batch))
	}
	for i, s := range rs.ScopeSpans[0].Spans {
		d := batch[i]
		if s.Name != d.Name || string(s.TraceId) != string(d.TraceID[:]) || string(s.SpanId) != string(d.SpanID[:]) {
			t.Errorf("span %d: %s %x %x, want %s %x %x", i, s.Name, s.TraceId, s.SpanId, d.Name, d.TraceID, d.SpanID)
		}
		if len(s.Attributes) != 0 || len(s.Events) != 0 || s.Status != nil || len(s.ParentSpanId) != 0 || s.TraceState != "" ||
			s.Kind != 1 /* INTERNAL */ || s.Flags != 0x101 /* sampled, has-is-remote, not remote */ {
			t.Errorf("span %d carries what its span does not have: %v", i, s)
		}
	}
}

// checkSame checks that got is what a fresh exporter sends for batch.
func checkSame(t *testing.T, what string, got *coltracepb.ExportTraceServiceRequest, batch []*trace.SpanData) {
	t.Helper()
	if want := fresh(t, batch); !proto.Equal(got, want) {
		t.Errorf("%s:\n got %v\nwant %v", what, got, want)
	}
}

// exportAll exports the batches one after another through exp and returns
// the requests rec received, one per batch.
func exportAll(t *testing.T, exp trace.Exporter, rec *recordingReceiver, batches ...[]*trace.SpanData) []*coltracepb.ExportTraceServiceRequest {
	t.Helper()
	for _, b := range batches {
		if err := exp.Export(ctxT(t), b); err != nil {
			t.Fatal(err)
		}
	}
	got := rec.all()
	if len(got) != len(batches) {
		t.Fatalf("%d requests, want %d", len(got), len(batches))
	}
	return got
}

func TestConsecutiveBatches(t *testing.T) {
	rec, url := newRecordingReceiver(t)
	exp, err := otlptrace.New(url)
	if err != nil {
		t.Fatal(err)
	}
	defer exp.Close()
	batches := [][]*trace.SpanData{rich("one"), sparse("two", 3), rich("three"), sparse("four", 9), sparse("five", 1)}
	got := exportAll(t, exp, rec, batches...)
	for i, b := range batches {
		checkSame(t, fmt.Sprint("batch ", i+1), got[i], b)
		if b[0].Service == "svc-b" {
			checkSparse(t, got[i], b)
		}
	}
	// rich's two resources (one per instance), in the order of their first span
	if rs := got[0].ResourceSpans; len(rs) != 2 || len(rs[0].ScopeSpans[0].Spans) != 2 || rs[0].ScopeSpans[0].Spans[1].Name != "one-2" {
		t.Errorf("rich batch resources %v", rs)
	}
}

// A batch of more resources than a linear search is kept for, then one of
// a single resource.
func TestManyResources(t *testing.T) {
	rec, url := newRecordingReceiver(t)
	exp, _ := otlptrace.New(url)
	defer exp.Close()
	var many []*trace.SpanData
	for i := range 40 {
		d := sparse(fmt.Sprint("m", i), 1)[0]
		d.Tags = []trace.Tag{{Key: "service.instance.id", Value: fmt.Sprint("i", i%13)}}
		many = append(many, d)
	}
	one := sparse("after", 2)
	got := exportAll(t, exp, rec, many, one, many)
	if rs := got[0].ResourceSpans; len(rs) != 13 || len(rs[0].ScopeSpans[0].Spans) != 4 || rs[12].ScopeSpans[0].Spans[2].Name != "m38-0" {
		t.Fatalf("%d resources: %v", len(rs), rs)
	}
	checkSame(t, "many", got[0], many)
	checkSparse(t, got[1], one)
	checkSame(t, "many again", got[2], many)
}

// bodyHolder is a transport that answers at once and keeps the request
// bodies unread and unclosed, as a transport still sending them would.
type bodyHolder struct {
	mu     sync.Mutex
	bodies []io.ReadCloser
}

func (h *bodyHolder) RoundTrip(r *http.Request) (*http.Response, error) {
	h.mu.Lock()
	h.bodies = append(h.bodies, r.Body)
	h.mu.Unlock()
	return &http.Response{StatusCode: http.StatusOK, Body: http.NoBody, Header: http.Header{}, Request: r}, nil
}

// An http.RoundTripper may still read a body after it returned: the next
// batch must not be marshalled into that body's buffer.
func TestBodyReadAfterExportReturned(t *testing.T) {
	h := &bodyHolder{}
	exp, _ := otlptrace.New("http://127.0.0.1:1", otlptrace.WithHTTPClient(&http.Client{Transport: h}))
	one, two := rich("one"), sparse("two", 1) // two fits in the buffer of one
	for _, b := range [][]*trace.SpanData{one, two} {
		if err := exp.Export(context.Background(), b); err != nil {
			t.Fatal(err)
		}
	}
	for i, b := range [][]*trace.SpanData{one, two} {
		body, err := io.ReadAll(h.bodies[i])
		if err != nil {
			t.Fatal(err)
		}
		h.bodies[i].Close()
		var req coltracepb.ExportTraceServiceRequest
		if err := proto.Unmarshal(body, &req); err != nil {
			t.Fatalf("body %d: %v", i, err)
		}
		checkSame(t, fmt.Sprint("body ", i+1), &req, b)
	}
}

// Concurrent Exports on one exporter each send their own batch whole.
func TestConcurrentExports(t *testing.T) {
	rec, url := newRecordingReceiver(t)
	exp, _ := otlptrace.New(url)
	defer exp.Close()
	const workers, rounds = 4, 20
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for r := range rounds {
				b := sparse(fmt.Sprintf("w%d", w), 1+(w*rounds+r)%17)
				if w%2 == 1 {
					b = rich(fmt.Sprintf("w%d", w))
				}
				if err := exp.Export(context.Background(), b); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	got := rec.all()
	if len(got) != workers*rounds {
		t.Fatalf("%d requests, want %d", len(got), workers*rounds)
	}
	for _, req := range got {
		var names []string
		for _, rs := range req.ResourceSpans {
			for _, s := range rs.ScopeSpans[0].Spans {
				names = append(names, s.Name)
			}
		}
		var w, n int
		if _, err := fmt.Sscanf(names[0], "w%d-%d", &w, &n); err != nil {
			t.Fatal(err)
		}
		prefix := fmt.Sprintf("w%d", w)
		b := rich(prefix)
		if w%2 == 0 {
			b = sparse(prefix, len(names))
		}
		checkSame(t, "concurrent "+prefix, req, b)
	}
}

// The gRPC exporter reuses its messages the same way.
func TestGRPCConsecutiveBatches(t *testing.T) {
	rec := &recordingReceiver{}
	addr := startReceiverGRPC(t, func(req *coltracepb.ExportTraceServiceRequest) (*coltracepb.ExportTraceServiceResponse, error) {
		rec.add(proto.Clone(req).(*coltracepb.ExportTraceServiceRequest))
		return &coltracepb.ExportTraceServiceResponse{}, nil
	})
	exp, err := otlptrace.NewGRPC(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer exp.Close()
	batches := [][]*trace.SpanData{rich("one"), sparse("two", 3), rich("three")}
	got := exportAll(t, exp, rec, batches...)
	for i, b := range batches {
		checkSame(t, fmt.Sprint("gRPC batch ", i+1), got[i], b)
	}
	checkSparse(t, got[1], batches[1])
}
