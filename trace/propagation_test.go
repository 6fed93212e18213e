package trace_test

import (
	"net/http"
	"testing"

	"github.com/microos/go-os/trace"
)

const (
	tid = "4bf92f3577b34da6a3ce929d0e0e4736"
	sid = "00f067aa0ba902b7"
)

func TestExtract(t *testing.T) {
	tests := []struct {
		name     string
		headers  map[string]string
		ok       bool
		trace    string
		span     string
		sampling trace.Sampling
		debug    bool
	}{
		{"w3c sampled", map[string]string{"traceparent": "00-" + tid + "-" + sid + "-01"}, true, tid, sid, trace.Accept, false},
		{"w3c not sampled", map[string]string{"traceparent": "00-" + tid + "-" + sid + "-00"}, true, tid, sid, trace.Deny, false},
		{"w3c future version with more fields", map[string]string{"traceparent": "01-" + tid + "-" + sid + "-01-extra"}, true, tid, sid, trace.Accept, false},
		{"w3c upper case hex is invalid", map[string]string{"traceparent": "00-4BF92F3577B34DA6A3CE929D0E0E4736-" + sid + "-01"}, false, "", "", 0, false},
		{"w3c version ff", map[string]string{"traceparent": "ff-" + tid + "-" + sid + "-01"}, false, "", "", 0, false},
		{"w3c zero trace id", map[string]string{"traceparent": "00-00000000000000000000000000000000-" + sid + "-01"}, false, "", "", 0, false},
		{"w3c zero span id", map[string]string{"traceparent": "00-" + tid + "-0000000000000000-01"}, false, "", "", 0, false},
		{"w3c 00 with trailing data", map[string]string{"traceparent": "00-" + tid + "-" + sid + "-01-x"}, false, "", "", 0, false},
		{"w3c short", map[string]string{"traceparent": "00-" + tid}, false, "", "", 0, false},
		{"w3c bad falls back to b3", map[string]string{"traceparent": "garbage", "b3": tid + "-" + sid + "-1"}, true, tid, sid, trace.Accept, false},
		{"b3 single", map[string]string{"b3": tid + "-" + sid + "-1-" + sid}, true, tid, sid, trace.Accept, false},
		{"b3 single 64-bit", map[string]string{"b3": "a3ce929d0e0e4736-" + sid}, true, "0000000000000000a3ce929d0e0e4736", sid, trace.Deferred, false},
		{"b3 single debug", map[string]string{"b3": tid + "-" + sid + "-d"}, true, tid, sid, trace.Accept, true},
		{"b3 single deny only", map[string]string{"b3": "0"}, true, "00000000000000000000000000000000", "0000000000000000", trace.Deny, false},
		{"b3 single bad state", map[string]string{"b3": tid + "-" + sid + "-x"}, false, "", "", 0, false},
		{"b3 single bad parent", map[string]string{"b3": tid + "-" + sid + "-1-zz"}, false, "", "", 0, false},
		{"b3 multi", map[string]string{"X-B3-TraceId": tid, "X-B3-SpanId": sid, "X-B3-Sampled": "1"}, true, tid, sid, trace.Accept, false},
		{"b3 multi legacy true", map[string]string{"X-B3-TraceId": tid, "X-B3-SpanId": sid, "X-B3-Sampled": "true"}, true, tid, sid, trace.Accept, false},
		{"b3 multi debug", map[string]string{"X-B3-TraceId": tid, "X-B3-SpanId": sid, "X-B3-Flags": "1"}, true, tid, sid, trace.Accept, true},
		{"b3 multi deferred", map[string]string{"X-B3-TraceId": tid, "X-B3-SpanId": sid}, true, tid, sid, trace.Deferred, false},
		{"b3 multi bad span id keeps decision", map[string]string{"X-B3-TraceId": tid, "X-B3-SpanId": "xyz", "X-B3-Sampled": "0"}, true, "00000000000000000000000000000000", "0000000000000000", trace.Deny, false},
		{"b3 multi bad ids only", map[string]string{"X-B3-TraceId": "nothex", "X-B3-SpanId": sid}, false, "", "", 0, false},
		{"none", map[string]string{}, false, "", "", 0, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := http.Header{}
			for k, v := range tc.headers {
				h.Set(k, v)
			}
			sc, ok := trace.Extract(h)
			if ok != tc.ok {
				t.Fatalf("ok = %v, want %v (%+v)", ok, tc.ok, sc)
			}
			if !ok {
				return
			}
			if sc.TraceID.String() != tc.trace || sc.SpanID.String() != tc.span || sc.Sampling != tc.sampling || sc.Debug != tc.debug || !sc.Remote {
				t.Errorf("got %s %s %v debug=%v remote=%v, want %s %s %v debug=%v", sc.TraceID, sc.SpanID, sc.Sampling, sc.Debug, sc.Remote, tc.trace, tc.span, tc.sampling, tc.debug)
			}
		})
	}
}

func TestTracestate(t *testing.T) {
	h := http.Header{}
	h.Set("traceparent", "00-"+tid+"-"+sid+"-01")
	h.Set("tracestate", "congo=t61rcWkgMzE,rojo=00f067aa0ba902b7")
	sc, _ := trace.Extract(h)
	if sc.TraceState != "congo=t61rcWkgMzE,rojo=00f067aa0ba902b7" {
		t.Errorf("tracestate %q", sc.TraceState)
	}
	h.Set("tracestate", "bad\x01value")
	if sc, _ := trace.Extract(h); sc.TraceState != "" {
		t.Errorf("a tracestate with a control character was kept: %q", sc.TraceState)
	}
	out := http.Header{}
	sc.TraceState = "congo=t61rcWkgMzE"
	trace.Inject(sc, out, trace.W3C)
	if out.Get("tracestate") != "congo=t61rcWkgMzE" {
		t.Errorf("tracestate not passed on: %v", out)
	}
}

func TestInjectRoundTrip(t *testing.T) {
	tr, _ := trace.ParseTraceID(tid)
	sp, _ := trace.ParseSpanID(sid)
	for _, sc := range []trace.SpanContext{
		{TraceID: tr, SpanID: sp, Sampling: trace.Accept},
		{TraceID: tr, SpanID: sp, Sampling: trace.Deny},
		{TraceID: tr, SpanID: sp, Sampling: trace.Accept, Debug: true},
	} {
		for _, f := range []trace.Format{trace.W3C, trace.B3Single, trace.B3Multi} {
			h := http.Header{}
			trace.Inject(sc, h, f)
			got, ok := trace.Extract(h)
			if !ok || got.TraceID != sc.TraceID || got.SpanID != sc.SpanID || got.IsSampled() != sc.IsSampled() {
				t.Errorf("%v: %+v → %v → %+v", f, sc, h, got)
			}
			if f != trace.W3C && got.Debug != sc.Debug { // W3C has no debug flag
				t.Errorf("%v: debug lost: %v", f, h)
			}
		}
	}
}

func TestInjectHeaders(t *testing.T) {
	tr, _ := trace.ParseTraceID(tid)
	sp, _ := trace.ParseSpanID(sid)
	h := http.Header{}
	trace.Inject(trace.SpanContext{TraceID: tr, SpanID: sp, Sampling: trace.Accept}, h, trace.W3C, trace.B3Single, trace.B3Multi)
	want := map[string]string{
		"traceparent":  "00-" + tid + "-" + sid + "-01",
		"b3":           tid + "-" + sid + "-1",
		"X-B3-TraceId": tid,
		"X-B3-SpanId":  sid,
		"X-B3-Sampled": "1",
	}
	for k, v := range want {
		if got := h.Get(k); got != v {
			t.Errorf("%s: %q, want %q", k, got, v)
		}
	}
	// A 64-bit id stays 16 digits in B3 for peers that know no other.
	short, _ := trace.ParseTraceID("a3ce929d0e0e4736")
	h = http.Header{}
	trace.Inject(trace.SpanContext{TraceID: short, SpanID: sp}, h, trace.B3Multi, trace.B3Single)
	if h.Get("X-B3-TraceId") != "a3ce929d0e0e4736" || h.Get("b3") != "a3ce929d0e0e4736-"+sid {
		t.Errorf("64-bit id: %v", h)
	}
}

// The parsers read outside input: whatever the bytes, they must not panic,
// and what they accept must survive a round trip.
func FuzzParseTraceparent(f *testing.F) {
	for _, s := range []string{"00-" + tid + "-" + sid + "-01", "01-" + tid + "-" + sid + "-00-x", "ff-", "", "00-" + tid + "-" + sid + "-0g"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		sc, err := trace.ParseTraceparent(s)
		if err != nil {
			return
		}
		if !sc.IsValid() {
			t.Fatalf("accepted %q with invalid ids", s)
		}
		back, err := trace.ParseTraceparent(trace.FormatTraceparent(sc))
		if err != nil || back.TraceID != sc.TraceID || back.SpanID != sc.SpanID || back.IsSampled() != sc.IsSampled() {
			t.Fatalf("%q: round trip %+v → %+v (%v)", s, sc, back, err)
		}
	})
}

func FuzzParseB3(f *testing.F) {
	for _, s := range []string{tid + "-" + sid + "-1-" + sid, "a3ce929d0e0e4736-" + sid, "0", "d", "-", tid + "--1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		sc, err := trace.ParseB3(s)
		if err != nil {
			return
		}
		back, err := trace.ParseB3(trace.FormatB3(sc))
		if err != nil || back.TraceID != sc.TraceID || back.SpanID != sc.SpanID || back.IsSampled() != sc.IsSampled() || back.Debug != sc.Debug {
			t.Fatalf("%q: round trip %+v → %q → %+v (%v)", s, sc, trace.FormatB3(sc), back, err)
		}
	})
}

func FuzzExtract(f *testing.F) {
	f.Add("00-"+tid+"-"+sid+"-01", "k=v", tid+"-"+sid+"-1", tid, sid, "1", "0")
	f.Add("", "", "", "zz", "", "true", "1")
	f.Fuzz(func(t *testing.T, tp, ts, b3, xt, xs, xsampled, xflags string) {
		h := http.Header{}
		for k, v := range map[string]string{"traceparent": tp, "tracestate": ts, "b3": b3, "X-B3-TraceId": xt, "X-B3-SpanId": xs, "X-B3-Sampled": xsampled, "X-B3-Flags": xflags} {
			h.Set(k, v)
		}
		sc, ok := trace.Extract(h)
		if !ok {
			return
		}
		if sc.IsValid() != (sc.TraceID.IsValid() && sc.SpanID.IsValid()) {
			t.Fatal("inconsistent validity")
		}
		out := http.Header{}
		trace.Inject(sc, out, trace.W3C, trace.B3Single, trace.B3Multi) // must not panic
	})
}
