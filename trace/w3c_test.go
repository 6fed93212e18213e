package trace_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/microos/go-os/trace"
)

const w3cParent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"

// One case per rule of W3C Trace Context (Level 1 and 2); the section is
// in the case name.
func TestW3CTraceparent(t *testing.T) {
	for _, c := range []struct {
		name    string
		headers []string
		ok      bool
		sampled bool
		random  bool
	}{
		{"§3.2.2.3 version 00 sampled", []string{w3cParent}, true, true, false},
		{"§3.2.2.5 flags 00 not sampled", []string{"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00"}, true, false, false},
		{"L2 §3.2.2.5.2 random flag", []string{"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-03"}, true, true, true},
		{"§3.2.2.5 unknown flags ignored", []string{"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-09"}, true, true, false},
		{"§3.2.4 future version parsed as 00", []string{"cc-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"}, true, true, false},
		{"§3.2.4 future version with extra field", []string{"cc-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-what"}, true, true, false},
		{"§3.2.4 future version extra without dash", []string{"cc-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01what"}, false, false, false},
		{"§3.2.2.2 version ff invalid", []string{"ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"}, false, false, false},
		{"§3.2.2.2 version 00 longer invalid", []string{w3cParent + "-x"}, false, false, false},
		{"§3.2.2.3 all-zero trace-id invalid", []string{"00-00000000000000000000000000000000-00f067aa0ba902b7-01"}, false, false, false},
		{"§3.2.2.4 all-zero parent-id invalid", []string{"00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01"}, false, false, false},
		{"§3.2.2.3 upper-case hex invalid", []string{"00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01"}, false, false, false},
		{"§3.2.2 short value invalid", []string{"00-4bf92f3577b34da6a3ce929d0e0e473-00f067aa0ba902b7-01"}, false, false, false},
		{"§3.2.2 non-hex flags invalid", []string{"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-0g"}, false, false, false},
		{"§3.2 two equal traceparent headers", []string{w3cParent, w3cParent}, true, true, false},
		{"§3.2 two different traceparent headers start a new trace", []string{w3cParent, "00-4bf92f3577b34da6a3ce929d0e0e4737-00f067aa0ba902b7-01"}, false, false, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			h := http.Header{"Traceparent": c.headers}
			sc, ok := trace.Extract(h)
			if ok != c.ok {
				t.Fatalf("ok %v, want %v", ok, c.ok)
			}
			if ok && (sc.IsSampled() != c.sampled || sc.Random != c.random) {
				t.Fatalf("sampled %v random %v", sc.IsSampled(), sc.Random)
			}
		})
	}
}

// L2: the random flag is passed on to a child and written back.
func TestW3CRandomFlagPropagated(t *testing.T) {
	tr, _ := trace.NewMemory()
	defer tr.Close()
	h := http.Header{"Traceparent": {"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-03"}}
	psc, _ := trace.Extract(h)
	ctx, s := tr.Start(t.Context(), "child", trace.WithParent(psc))
	defer s.End()
	out := http.Header{}
	tr.Inject(ctx, out)
	if v := out.Get("traceparent"); !strings.HasSuffix(v, "-03") || !strings.HasPrefix(v, "00-4bf92f3577b34da6a3ce929d0e0e4736-") {
		t.Fatalf("traceparent %q", v)
	}
}

func TestW3CTracestate(t *testing.T) {
	long := func(c byte, n int) string { return strings.Repeat(string(c), n) }
	members := func(n int) string {
		var b []string
		for i := range n {
			b = append(b, "k"+strings.Repeat("a", i)+"=v")
		}
		return strings.Join(b, ",")
	}
	for _, c := range []struct {
		name    string
		headers []string
		want    string
	}{
		{"§3.3.1 two members", []string{"congo=t61rcWkgMzE,rojo=00f067aa0ba902b7"}, "congo=t61rcWkgMzE,rojo=00f067aa0ba902b7"},
		{"§3.3.1 multiple headers combined in order", []string{"congo=1", "rojo=2,a=3"}, "congo=1,rojo=2,a=3"},
		{"§3.3.1 OWS around members", []string{" congo=1 ,\trojo=2\t"}, "congo=1,rojo=2"},
		{"§3.3.1 empty members dropped", []string{"congo=1,,  ,rojo=2,"}, "congo=1,rojo=2"},
		{"§3.3.1 empty header", []string{""}, ""},
		{"§3.3.1 empty header among others", []string{"congo=1", "", "rojo=2"}, "congo=1,rojo=2"},
		{"§3.3.1.3.1 multi-tenant key", []string{"fw529a3039@dt=abc"}, "fw529a3039@dt=abc"},
		{"§3.3.1.3.1 tenant may start with a digit", []string{"0tenant@sys=x"}, "0tenant@sys=x"},
		{"§3.3.1.3.1 two @ invalid", []string{"a@b@c=1"}, ""},
		{"§3.3.1.3.1 system starting with a digit invalid", []string{"a@1b=1"}, ""},
		{"§3.3.1.3.1 system longer than 14 invalid", []string{"a@" + long('b', 15) + "=1"}, ""},
		{"§3.3.1.3.1 tenant longer than 241 invalid", []string{long('t', 242) + "@s=1"}, ""},
		{"§3.3.1.3.1 key of 256 kept", []string{long('k', 256) + "=1"}, long('k', 256) + "=1"},
		{"§3.3.1.3.1 key of 257 invalid", []string{long('k', 257) + "=1"}, ""},
		{"§3.3.1.3.1 key with upper case invalid", []string{"Foo=1"}, ""},
		{"§3.3.1.3.1 key starting with a digit invalid", []string{"1a=1"}, ""},
		{"§3.3.1.3.1 key with space before = invalid", []string{"foo =1"}, ""},
		{"§3.3.1.3.1 key chars _-*/", []string{"a_-*/=1"}, "a_-*/=1"},
		{"§3.3.1.3.2 value of 256 kept", []string{"k=" + long('v', 256)}, "k=" + long('v', 256)},
		{"§3.3.1.3.2 value of 257 invalid", []string{"k=" + long('v', 257)}, ""},
		{"§3.3.1.3.2 value with = invalid", []string{"k=a=b"}, ""},
		{"§3.3.1.3.2 empty value invalid", []string{"k="}, ""},
		{"§3.3.1.3.2 value with inner space kept", []string{"k=a b"}, "k=a b"},
		{"§3.3.1.3.2 value with control char invalid", []string{"k=a\x01"}, ""},
		{"§3.3.1.3 member without = invalid", []string{"congo"}, ""},
		{"§3.3.1.4 duplicate keys invalid", []string{"a=1,a=2"}, ""},
		{"§3.3.1.4 duplicate keys across headers invalid", []string{"a=1", "a=2"}, ""},
		{"§3.3.1.1 32 members kept", []string{members(32)}, members(32)},
		{"§3.3.1.1 33 members invalid", []string{members(33)}, ""},
		{"§3.3.1.1 more than 512 characters propagated", []string{members(32)}, members(32)},
	} {
		t.Run(c.name, func(t *testing.T) {
			h := http.Header{"Traceparent": {w3cParent}, "Tracestate": c.headers}
			sc, ok := trace.Extract(h)
			if !ok {
				t.Fatal("traceparent refused")
			}
			if sc.TraceState != c.want {
				t.Fatalf("tracestate %q, want %q", sc.TraceState, c.want)
			}
		})
	}
	if n := len(members(32)); n <= 512 {
		t.Fatalf("the 512-character case has %d", n)
	}
}

// The common case (one clean traceparent and tracestate) allocates nothing.
func TestW3CExtractAllocs(t *testing.T) {
	h := http.Header{"Traceparent": {w3cParent}, "Tracestate": {"congo=t61rcWkgMzE,rojo=00f067aa0ba902b7"}}
	if n := testing.AllocsPerRun(100, func() { trace.Extract(h) }); n != 0 {
		t.Fatalf("%v allocs", n)
	}
}

func FuzzTracestate(f *testing.F) {
	f.Add("congo=1,rojo=2", "a@b=3")
	f.Add(" ,a=1 ", "")
	f.Fuzz(func(t *testing.T, a, b string) {
		h := http.Header{"Traceparent": {w3cParent}, "Tracestate": {a, b}}
		sc, ok := trace.Extract(h)
		if !ok {
			t.Fatal("traceparent refused")
		}
		if sc.TraceState != "" && trace.CleanTracestate(sc.TraceState) != sc.TraceState {
			t.Fatalf("kept %q is not clean", sc.TraceState)
		}
	})
}
