package trace_test

import (
	"net/http"
	"testing"

	"github.com/microos/go-os/trace"
)

// One case per rule of openzipkin/b3-propagation; the README's heading is
// in the case name.
func TestB3Rules(t *testing.T) {
	const t128, t64, s = "80f198ee56343ba864fe8b2a57d3eff7", "64fe8b2a57d3eff7", "e457b5a2e4d86bd1"
	for _, c := range []struct {
		name    string
		h       http.Header
		ok      bool
		valid   bool
		traceID string
		sampled bool
		debug   bool
	}{
		{"single header: trace-span-1", http.Header{"B3": {t128 + "-" + s + "-1"}}, true, true, t128, true, false},
		{"single header: with parent", http.Header{"B3": {t128 + "-" + s + "-1-05e3ac9a4f6e3b90"}}, true, true, t128, true, false},
		{"single header: deferred decision", http.Header{"B3": {t128 + "-" + s}}, true, true, t128, false, false},
		{"single header: debug d", http.Header{"B3": {t128 + "-" + s + "-d"}}, true, true, t128, true, true},
		{"single header: sampling only b3: 0", http.Header{"B3": {"0"}}, true, false, "", false, false},
		{"single header: sampling only b3: 1", http.Header{"B3": {"1"}}, true, false, "", true, false},
		{"single header: sampling only b3: d", http.Header{"B3": {"d"}}, true, false, "", true, true},
		{"TraceId: 64-bit", http.Header{"B3": {t64 + "-" + s + "-1"}}, true, true, "0000000000000000" + t64, true, false},
		{"TraceId: bad length ignored", http.Header{"B3": {"abc-" + s + "-1"}}, false, false, "", false, false},
		{"single header: bad state ignored", http.Header{"B3": {t128 + "-" + s + "-x"}}, false, false, "", false, false},
		{"multiple headers: ids and sampled", http.Header{"X-B3-Traceid": {t128}, "X-B3-Spanid": {s}, "X-B3-Sampled": {"1"}}, true, true, t128, true, false},
		{"multiple headers: 64-bit", http.Header{"X-B3-Traceid": {t64}, "X-B3-Spanid": {s}}, true, true, "0000000000000000" + t64, false, false},
		{"multiple headers: X-B3-Flags 1 is debug", http.Header{"X-B3-Traceid": {t128}, "X-B3-Spanid": {s}, "X-B3-Flags": {"1"}}, true, true, t128, true, true},
		{"multiple headers: legacy true", http.Header{"X-B3-Traceid": {t128}, "X-B3-Spanid": {s}, "X-B3-Sampled": {"true"}}, true, true, t128, true, false},
		{"multiple headers: sampling only X-B3-Sampled 0", http.Header{"X-B3-Sampled": {"0"}}, true, false, "", false, false},
		{"precedence: traceparent wins over disagreeing b3", http.Header{"Traceparent": {w3cParent}, "B3": {t128 + "-" + s + "-0"}}, true, true, "4bf92f3577b34da6a3ce929d0e0e4736", true, false},
		{"precedence: invalid traceparent falls back to b3", http.Header{"Traceparent": {"zz"}, "B3": {t128 + "-" + s + "-0"}}, true, true, t128, false, false},
		{"precedence: b3 single wins over multi", http.Header{"B3": {t128 + "-" + s + "-1"}, "X-B3-Traceid": {t64}, "X-B3-Spanid": {s}}, true, true, t128, true, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			sc, ok := trace.Extract(c.h)
			if ok != c.ok {
				t.Fatalf("ok %v", ok)
			}
			if !ok {
				return
			}
			if sc.IsValid() != c.valid || sc.IsSampled() != c.sampled || sc.Debug != c.debug {
				t.Fatalf("%+v", sc)
			}
			if c.valid && sc.TraceID.String() != c.traceID {
				t.Fatalf("trace id %s", sc.TraceID)
			}
		})
	}
}

// What is emitted: b3 "d" for debug and no X-B3-Sampled with X-B3-Flags;
// a 64-bit id stays 16 digits; a bare decision is written as b3: 0.
func TestB3Emit(t *testing.T) {
	sc, _ := trace.Extract(http.Header{"B3": {"64fe8b2a57d3eff7-e457b5a2e4d86bd1-d"}})
	out := http.Header{}
	trace.Inject(sc, out, trace.B3Single, trace.B3Multi)
	if out.Get("b3") != "64fe8b2a57d3eff7-e457b5a2e4d86bd1-d" || out.Get("X-B3-Flags") != "1" || out.Get("X-B3-Sampled") != "" || out.Get("X-B3-Traceid") != "64fe8b2a57d3eff7" {
		t.Fatalf("%v", out)
	}
	deny, _ := trace.Extract(http.Header{"B3": {"0"}})
	out = http.Header{}
	trace.Inject(deny, out, trace.B3Single, trace.W3C)
	if out.Get("b3") != "0" || out.Get("traceparent") != "" {
		t.Fatalf("%v", out)
	}
}
