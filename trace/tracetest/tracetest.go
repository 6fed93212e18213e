// Package tracetest is the conformance suite every trace exporter runs:
// trace.Recorder in the trace package's tests, and each real adapter
// against its real backend. The suite is the specification of what an
// exporter must deliver: when a behaviour matters, it is here.
package tracetest

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/microos/go-os/trace"
)

// Backend is one exporter under test and the way to read back what it sent.
type Backend struct {
	// Exporter sends to the backend. The suite closes it (through the
	// Tracer it builds).
	Exporter trace.Exporter
	// Read returns the spans the backend stores for trace id, in any order,
	// once it has at least want of them; it polls until ctx ends and then
	// returns what it has. The backend's own additions (extra tags it
	// derives) may be present; what the suite set must be. Span and
	// service names may come back lower-cased: Zipkin collectors fold them.
	Read func(ctx context.Context, id trace.TraceID, want int) ([]trace.SpanData, error)
	// Path, when set, is the way to the backend the exporter was made to
	// take (a testenv.Proxy): Stop cuts it as the backend dying would,
	// Start restores it. The suite's PathCutMidLoad case needs it and is
	// not run without it (a backend with no path, like memory, has no cut).
	Path interface {
		Stop()
		Start()
	}
}

// Run runs the suite. newBackend is called once per subtest and must
// return a fresh exporter; it may call t.Skip when the backend is absent.
func Run(t *testing.T, newBackend func(t *testing.T) Backend) {
	tests := []struct {
		name string
		fn   func(*testing.T, *harness)
	}{
		{"Fields", testFields},
		{"Kinds", testKinds},
		{"Tree", testTree},
		{"RemoteParent", testRemoteParent},
		{"ManyBatches", testManyBatches},
		{"ConcurrentEnds", testConcurrent},
		{"CloseFlushes", testCloseFlushes},
		{"Unsampled", testUnsampled},
		{"ExportHonoursContext", testExportCtx},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b := newBackend(t)
			h := &harness{t: t, b: b, service: fmt.Sprintf("tracetest-%s-%d", tc.name, time.Now().UnixNano()%1e6)}
			tc.fn(t, h)
		})
	}
	// PathCutMidLoad is registered only for a backend that gives a Path: a
	// case a backend cannot have is not run rather than skipped (CI has no
	// skips). Its backend is made here to know; the subtest uses it.
	b := newBackend(t)
	if b.Path == nil {
		return
	}
	t.Run("PathCutMidLoad", func(t *testing.T) {
		h := &harness{t: t, b: b, service: fmt.Sprintf("tracetest-PathCutMidLoad-%d", time.Now().UnixNano()%1e6)}
		testPathCutMidLoad(t, h)
	})
}

type harness struct {
	t       *testing.T
	b       Backend
	service string
}

// clock is a fake clock that advances 1ms on every reading, from a start
// on a whole millisecond, so that times survive a backend's microsecond
// resolution exactly.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func newClock() *clock { return &clock{now: time.Now().Add(-time.Minute).Truncate(time.Millisecond)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(time.Millisecond)
	return c.now
}

func (h *harness) tracer(opts ...trace.Option) *trace.Tracer {
	h.t.Helper()
	base := []trace.Option{trace.WithService(h.service, "", ""), trace.WithFlushInterval(20 * time.Millisecond)}
	tr := trace.New(h.b.Exporter, append(base, opts...)...)
	h.t.Cleanup(func() { tr.Shutdown(context.Background()) })
	return tr
}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func (h *harness) flush(tr *trace.Tracer) {
	h.t.Helper()
	if err := tr.Flush(ctxT(h.t)); err != nil {
		h.t.Fatalf("Flush: %v", err)
	}
}

// read returns the trace's spans by id, failing unless exactly want arrive.
func (h *harness) read(id trace.TraceID, want int) map[trace.SpanID]trace.SpanData {
	h.t.Helper()
	spans, err := h.b.Read(ctxT(h.t), id, want)
	if err != nil {
		h.t.Fatalf("Read %s: %v", id, err)
	}
	if len(spans) != want {
		h.t.Fatalf("Read %s: %d spans, want %d: %+v", id, len(spans), want, spans)
	}
	out := map[trace.SpanID]trace.SpanData{}
	for _, d := range spans {
		out[d.SpanID] = d
	}
	return out
}

func sameTime(a, b time.Time) bool {
	d := a.Sub(b)
	return d < time.Microsecond && d > -time.Microsecond
}

func testFields(t *testing.T, h *harness) {
	clk := newClock()
	tr := h.tracer(trace.WithClock(clk.Now))
	ctx, root := tr.Start(context.Background(), "GET /orders/{id}", trace.Server,
		trace.WithTags(trace.Tag{Key: "http.method", Value: "GET"}),
		trace.WithRemote(trace.Endpoint{Service: "browser"}))
	root.SetTag("order.id", "42")
	root.SetTag("order.id", "43") // replaces
	root.AddEvent("cache miss")
	_, child := tr.Start(ctx, "SELECT orders", trace.Client)
	child.SetTag("db.system", "postgresql")
	db := trace.Endpoint{Service: "orders-db", Addr: netip.MustParseAddrPort("10.1.2.3:5432")}
	child.SetRemote(db)
	child.SetError(errors.New("connection reset"))
	child.End()
	root.End()
	root.SetTag("after.end", "ignored")
	h.flush(tr)

	got := h.read(root.SpanContext().TraceID, 2)
	r, ok1 := got[root.SpanContext().SpanID]
	c, ok2 := got[child.SpanContext().SpanID]
	if !ok1 || !ok2 {
		t.Fatalf("span ids: got %v", keys(got))
	}
	check := func(what string, ok bool, gotv, wantv any) {
		t.Helper()
		if !ok {
			t.Errorf("%s: got %v, want %v", what, gotv, wantv)
		}
	}
	check("root name", strings.EqualFold(r.Name, "GET /orders/{id}"), r.Name, "GET /orders/{id}")
	check("root kind", r.Kind == trace.Server, r.Kind, trace.Server)
	check("root service", strings.EqualFold(r.Service, h.service), r.Service, h.service)
	check("root parent", !r.ParentID.IsValid(), r.ParentID, "none")
	check("child parent", c.ParentID == r.SpanID, c.ParentID, r.SpanID)
	check("child trace", c.TraceID == r.TraceID, c.TraceID, r.TraceID)
	check("child kind", c.Kind == trace.Client, c.Kind, trace.Client)
	check("child name", strings.EqualFold(c.Name, "SELECT orders"), c.Name, "SELECT orders")
	for _, tag := range []trace.Tag{{Key: "http.method", Value: "GET"}, {Key: "order.id", Value: "43"}} {
		v, ok := r.Tag(tag.Key)
		check("root tag "+tag.Key, ok && v == tag.Value, v, tag.Value)
	}
	if _, ok := r.Tag("after.end"); ok {
		t.Errorf("a tag set after End was exported")
	}
	v, ok := c.Tag("db.system")
	check("child tag db.system", ok && v == "postgresql", v, "postgresql")
	check("child error", c.Error == "connection reset", c.Error, "connection reset")
	check("root error", r.Error == "", r.Error, "")
	check("root remote", strings.EqualFold(r.Remote.Service, "browser"), r.Remote.Service, "browser")
	check("child remote", strings.EqualFold(c.Remote.Service, db.Service) && c.Remote.Addr == db.Addr, c.Remote, db)
	// The clock ticks 1ms per reading: root start, event, child start,
	// child end, root end.
	t0 := r.Start
	check("root duration", r.Duration() == 4*time.Millisecond, r.Duration(), 4*time.Millisecond)
	check("child start", sameTime(c.Start, t0.Add(2*time.Millisecond)), c.Start.Sub(t0), 2*time.Millisecond)
	check("child duration", c.Duration() == time.Millisecond, c.Duration(), time.Millisecond)
	if len(r.Events) != 1 {
		t.Fatalf("root events: %+v, want one", r.Events)
	}
	check("event name", r.Events[0].Name == "cache miss", r.Events[0].Name, "cache miss")
	check("event time", sameTime(r.Events[0].Time, t0.Add(time.Millisecond)), r.Events[0].Time.Sub(t0), time.Millisecond)
}

func keys(m map[trace.SpanID]trace.SpanData) []trace.SpanID {
	var out []trace.SpanID
	for k := range m {
		out = append(out, k)
	}
	return out
}

func testKinds(t *testing.T, h *harness) {
	tr := h.tracer()
	ctx, root := tr.Start(context.Background(), "kinds")
	kinds := []trace.Kind{trace.Server, trace.Client, trace.Producer, trace.Consumer}
	ids := map[trace.SpanID]trace.Kind{root.SpanContext().SpanID: trace.Internal}
	for _, k := range kinds {
		_, s := tr.Start(ctx, "kind-"+k.String(), k)
		ids[s.SpanContext().SpanID] = k
		s.End()
	}
	root.End()
	h.flush(tr)
	got := h.read(root.SpanContext().TraceID, len(ids))
	for id, k := range ids {
		if got[id].Kind != k {
			t.Errorf("span %s: kind %v, want %v", got[id].Name, got[id].Kind, k)
		}
	}
}

func testTree(t *testing.T, h *harness) {
	tr := h.tracer()
	ctx, root := tr.Start(context.Background(), "root")
	parents := map[trace.SpanID]trace.SpanID{root.SpanContext().SpanID: {}}
	for i := range 3 {
		cctx, child := tr.Start(ctx, fmt.Sprintf("child-%d", i))
		parents[child.SpanContext().SpanID] = root.SpanContext().SpanID
		for j := range 2 {
			_, g := tr.Start(cctx, fmt.Sprintf("grandchild-%d-%d", i, j))
			parents[g.SpanContext().SpanID] = child.SpanContext().SpanID
			g.End()
		}
		child.End()
	}
	root.End()
	h.flush(tr)
	got := h.read(root.SpanContext().TraceID, len(parents))
	for id, p := range parents {
		d, ok := got[id]
		if !ok {
			t.Errorf("span %s missing", id)
			continue
		}
		if d.ParentID != p {
			t.Errorf("span %s: parent %s, want %s", d.Name, d.ParentID, p)
		}
	}
}

func testRemoteParent(t *testing.T, h *harness) {
	tr := h.tracer()
	caller := trace.SpanContext{Sampling: trace.Accept}
	binary.BigEndian.PutUint64(caller.TraceID[:8], rand.Uint64()|1) // a fresh trace per run: the backend keeps old ones
	binary.BigEndian.PutUint64(caller.TraceID[8:], rand.Uint64())
	caller.SpanID, _ = trace.ParseSpanID("00f067aa0ba902b7")
	_, s := tr.Start(context.Background(), "joined", trace.Server, trace.WithParent(caller))
	s.End()
	h.flush(tr)
	if s.SpanContext().TraceID != caller.TraceID {
		t.Fatalf("trace id %s, want the caller's %s", s.SpanContext().TraceID, caller.TraceID)
	}
	got := h.read(caller.TraceID, 1)
	if d := got[s.SpanContext().SpanID]; d.ParentID != caller.SpanID {
		t.Errorf("parent %s, want the caller's span %s", d.ParentID, caller.SpanID)
	}
}

func testManyBatches(t *testing.T, h *harness) {
	const n = 300 // more than one batch of 128
	tr := h.tracer(trace.WithBatchSize(128))
	ctx, root := tr.Start(context.Background(), "many")
	for i := range n - 1 {
		_, s := tr.Start(ctx, fmt.Sprintf("span-%03d", i))
		s.End()
	}
	root.End()
	h.flush(tr)
	h.read(root.SpanContext().TraceID, n)
	if st := tr.Stats(); st.Exported != n || st.Dropped != 0 {
		t.Errorf("stats %+v, want %d exported and none dropped", st, n)
	}
}

func testConcurrent(t *testing.T, h *harness) {
	const workers, each = 8, 25
	tr := h.tracer()
	ctx, root := tr.Start(context.Background(), "concurrent")
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := range each {
				_, s := tr.Start(ctx, fmt.Sprintf("w%d-%d", w, i))
				s.SetTag("worker", fmt.Sprint(w))
				root.SetTag(fmt.Sprintf("seen.%d", w), "yes") // concurrent writes to one span
				s.End()
			}
		})
	}
	wg.Wait()
	root.End()
	h.flush(tr)
	got := h.read(root.SpanContext().TraceID, workers*each+1)
	names := make([]string, 0, len(got))
	for _, d := range got {
		names = append(names, d.Name)
	}
	sort.Strings(names)
	for i := 1; i < len(names); i++ {
		if names[i] == names[i-1] {
			t.Errorf("span %s exported twice", names[i])
		}
	}
}

func testCloseFlushes(t *testing.T, h *harness) {
	tr := trace.New(h.b.Exporter, trace.WithService(h.service, "", ""), trace.WithFlushInterval(time.Hour))
	ctx, root := tr.Start(context.Background(), "closing")
	for i := range 9 {
		_, s := tr.Start(ctx, fmt.Sprintf("before-close-%d", i))
		s.End()
	}
	root.End()
	if err := tr.Shutdown(ctxT(t)); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := tr.Shutdown(ctxT(t)); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	h.read(root.SpanContext().TraceID, 10)
	_, late := tr.Start(ctx, "after-close")
	late.End()
	st := tr.Stats()
	if st.Exported != 10 || st.Dropped != 1 {
		t.Errorf("stats after Close %+v, want 10 exported and the late span dropped", st)
	}
	if err := tr.Flush(ctxT(t)); err != nil && !errors.Is(err, trace.ErrClosed) {
		t.Errorf("Flush after Close: %v, want nil or ErrClosed", err)
	}
}

func testUnsampled(t *testing.T, h *harness) {
	tr := h.tracer(trace.WithSampler(trace.Never()))
	ctx, root := tr.Start(context.Background(), "unsampled")
	_, child := tr.Start(ctx, "unsampled-child")
	if child != nil {
		t.Errorf("a child of an unsampled span should be nil, got %+v", child.SpanContext())
	}
	child.SetTag("k", "v") // a nil span is safe
	child.End()
	root.End()
	_, dbg := tr.Start(context.Background(), "debug", trace.WithDebug())
	dbg.End()
	h.flush(tr)
	h.read(dbg.SpanContext().TraceID, 1) // what was flushed with it is there too
	h.read(root.SpanContext().TraceID, 0)
	if st := tr.Stats(); st.Exported != 1 {
		t.Errorf("stats %+v, want only the debug span exported", st)
	}
}

func testExportCtx(t *testing.T, h *harness) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	d := &trace.SpanData{Name: "cancelled", Service: h.service, Start: time.Now(), End: time.Now().Add(time.Millisecond)}
	d.TraceID, _ = trace.ParseTraceID("0af7651916cd43dd8448eb211c80319c")
	d.SpanID, _ = trace.ParseSpanID("b7ad6b7169203331")
	if err := h.b.Exporter.Export(ctx, []*trace.SpanData{d}); err == nil {
		t.Errorf("Export with a cancelled ctx returned nil")
	}
	if err := h.b.Exporter.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
}
