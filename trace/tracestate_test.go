package trace_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/microos/go-os/trace"
)

// TestTracestateMutation: W3C Trace Context §3.5, "Mutating the tracestate
// field": our own entry, new or updated, moves to the front; the order and
// bytes of every entry we did not write are kept; the list stays within
// §3.3.1.1's 32 members by dropping from the right.
func TestTracestateMutation(t *testing.T) {
	members := func(from, n int) []string {
		var out []string
		for i := from; i < from+n; i++ {
			out = append(out, fmt.Sprintf("v%d=%d", i, i))
		}
		return out
	}
	full := strings.Join(members(0, 32), ",")
	for _, c := range []struct {
		name, list, key, value, want string
	}{
		{"§3.5 add: a new entry goes to the front", "congo=t61rcWkgMzE,rojo=00f067aa0ba902b7", "gos", "x1",
			"gos=x1,congo=t61rcWkgMzE,rojo=00f067aa0ba902b7"},
		{"§3.5 add to an empty list", "", "gos", "x1", "gos=x1"},
		{"§3.5 update: our entry moves to the front", "congo=1,gos=old,rojo=2", "gos", "new", "gos=new,congo=1,rojo=2"},
		{"§3.5 update from the end", "congo=1,rojo=2,gos=old", "gos", "new", "gos=new,congo=1,rojo=2"},
		{"§3.5 update with the same value still moves to the front", "congo=1,gos=x", "gos", "x", "gos=x,congo=1"},
		{"§3.5 entries we did not write keep their bytes and order", "z=a b,y=~!@#$%^&*()_+,0t@s=q", "gos", "1",
			"gos=1,z=a b,y=~!@#$%^&*()_+,0t@s=q"},
		{"§3.5 a key that only starts like ours is not ours", "gosx=1,gos2=2", "gos", "3", "gos=3,gosx=1,gos2=2"},
		{"§3.3.1.3.1 multi-tenant key of our own", "congo=1,acme@gos=old", "acme@gos", "new", "acme@gos=new,congo=1"},
		{"§3.3.1.1 a 33rd member drops the right-most", full, "gos", "x", "gos=x," + strings.Join(members(0, 31), ",")},
		{"§3.3.1.1 updating ours in a full list drops nothing else", strings.Join(append(members(0, 31), "gos=old"), ","), "gos", "new",
			"gos=new," + strings.Join(members(0, 31), ",")},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, err := trace.SetTracestate(c.list, c.key, c.value)
			if err != nil || got != c.want {
				t.Fatalf("SetTracestate(%q, %q, %q) = %q, %v; want %q", c.list, c.key, c.value, got, err, c.want)
			}
			if trace.CleanTracestate(got) != got {
				t.Fatalf("result %q breaks the grammar", got)
			}
		})
	}
	for _, c := range []struct{ name, key, value string }{
		{"§3.3.1.3.1 invalid key refused", "Gos", "1"},
		{"§3.3.1.3.1 key with two @ refused", "a@b@c", "1"},
		{"§3.3.1.3.2 value with a comma refused", "gos", "a,b"},
		{"§3.3.1.3.2 value with = refused", "gos", "a=b"},
		{"§3.3.1.3.2 empty value refused", "gos", ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			const list = "congo=1,rojo=2"
			got, err := trace.SetTracestate(list, c.key, c.value)
			if !errors.Is(err, trace.ErrInvalidContext) || got != list {
				t.Fatalf("SetTracestate(%q, %q) = %q, %v; want the list unchanged and ErrInvalidContext", c.key, c.value, got, err)
			}
		})
	}
	t.Run("§3.5 delete removes only our entry", func(t *testing.T) {
		if got := trace.DeleteTracestate("congo=1,gos=x,rojo=2", "gos"); got != "congo=1,rojo=2" {
			t.Fatalf("got %q", got)
		}
		if got := trace.DeleteTracestate("congo=1,rojo=2", "gos"); got != "congo=1,rojo=2" {
			t.Fatalf("got %q", got)
		}
	})
}

// TestTracerWritesItsOwnEntry: through Middleware and Transport, a tracer
// with WithTracestate writes its entry at the front where the trace enters
// the service and passes every other vendor's on unaltered; children in
// the process inherit the list; a tracer without it changes nothing.
func TestTracerWritesItsOwnEntry(t *testing.T) {
	for _, c := range []struct {
		name     string
		opts     []trace.Option
		incoming string
		want     func(spanID string) string
	}{
		{"§3.5 update: our entry moves to the front", []trace.Option{trace.WithTracestate("gos", func(sc trace.SpanContext) string { return sc.SpanID.String() })},
			"congo=t61rcWkgMzE,gos=0000000000000001,rojo=00f067aa0ba902b7",
			func(id string) string { return "gos=" + id + ",congo=t61rcWkgMzE,rojo=00f067aa0ba902b7" }},
		{"§3.5 add: a new entry goes to the front", []trace.Option{trace.WithTracestate("gos", func(trace.SpanContext) string { return "on" })},
			"congo=t61rcWkgMzE", func(string) string { return "gos=on,congo=t61rcWkgMzE" }},
		{"§3.5 without an entry of our own the list passes on unaltered", nil,
			"congo=t61rcWkgMzE,gos=0000000000000001", func(string) string { return "congo=t61rcWkgMzE,gos=0000000000000001" }},
	} {
		t.Run(c.name, func(t *testing.T) {
			tr, _ := trace.NewMemory(c.opts...)
			var outgoing http.Header
			downstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { outgoing = r.Header.Clone() }))
			defer downstream.Close()
			client := &http.Client{Transport: trace.Transport(downstream.Client().Transport, tr)}
			var serverSpan trace.SpanContext
			h := trace.Middleware(tr)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				serverSpan = trace.SpanContextFromContext(r.Context())
				req, _ := http.NewRequestWithContext(r.Context(), http.MethodGet, downstream.URL, nil)
				resp, err := client.Do(req)
				if err != nil {
					t.Error(err)
					return
				}
				resp.Body.Close()
			}))
			req := httptest.NewRequest(http.MethodGet, "/", nil)
			req.Header.Set("traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")
			req.Header.Set("tracestate", c.incoming)
			h.ServeHTTP(httptest.NewRecorder(), req)
			want := c.want(serverSpan.SpanID.String())
			if serverSpan.TraceState != want {
				t.Errorf("server span tracestate %q, want %q", serverSpan.TraceState, want)
			}
			if got := outgoing.Get("tracestate"); got != want {
				t.Errorf("sent tracestate %q, want %q (the client span inherits, it does not rewrite)", got, want)
			}
		})
	}
	t.Run("§3.5 a root writes its entry too", func(t *testing.T) {
		tr, _ := trace.NewMemory(trace.WithTracestate("gos", func(trace.SpanContext) string { return "r" }))
		ctx, root := tr.Start(context.Background(), "root")
		_, child := tr.Start(ctx, "child")
		if root.SpanContext().TraceState != "gos=r" || child.SpanContext().TraceState != "gos=r" {
			t.Fatalf("root %q child %q", root.SpanContext().TraceState, child.SpanContext().TraceState)
		}
	})
}
