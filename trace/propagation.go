package trace

import (
	"context"
	"encoding/hex"
	"net/http"
	"strings"
)

// Format is a way of writing a span context into request headers.
type Format uint8

const (
	// W3C is W3C Trace Context: traceparent and tracestate.
	W3C Format = iota + 1
	// B3Multi is Zipkin's B3 as several headers: X-B3-TraceId, X-B3-SpanId,
	// X-B3-Sampled, X-B3-Flags.
	B3Multi
	// B3Single is Zipkin's B3 as one header: b3: {trace}-{span}-{sampling}.
	B3Single
)

func (f Format) String() string {
	switch f {
	case W3C:
		return "w3c"
	case B3Multi:
		return "b3multi"
	case B3Single:
		return "b3"
	}
	return "unknown"
}

// Carrier is where headers are read and written: http.Header satisfies it
// as it is; tracegrpc adapts gRPC metadata.
type Carrier interface {
	Get(key string) string
	Set(key, value string)
}

// Header names, in the canonical form http.Header keeps them in, so that
// Get and Set do not allocate to canonicalise them. Carriers with
// case-sensitive keys (gRPC metadata) lower-case them.
const (
	HeaderTraceparent = "Traceparent"
	HeaderTracestate  = "Tracestate"
	HeaderB3          = "B3"
	HeaderB3TraceID   = "X-B3-Traceid"
	HeaderB3SpanID    = "X-B3-Spanid"
	HeaderB3ParentID  = "X-B3-Parentspanid"
	HeaderB3Sampled   = "X-B3-Sampled"
	HeaderB3Flags     = "X-B3-Flags"
)

// get reads a header; from an http.Header it looks the canonical key up
// directly, skipping Get's canonicalisation: Extract runs on every request.
func get(c Carrier, key string) string {
	if h, ok := c.(http.Header); ok {
		if v := h[key]; len(v) > 0 {
			return v[0]
		}
		return ""
	}
	return c.Get(key)
}

// Inject writes the context of the span in ctx into c, in the formats
// WithPropagation chose. With no span in ctx it writes nothing.
func (t *Tracer) Inject(ctx context.Context, c Carrier) {
	if t == nil {
		return
	}
	if s := FromContext(ctx); s != nil {
		Inject(s.sc, c, t.formats...)
	}
}

// Inject writes sc into c in each of the formats. An invalid sc writes
// nothing, except a bare decision (B3 "b3: 0").
func Inject(sc SpanContext, c Carrier, formats ...Format) {
	for _, f := range formats {
		switch f {
		case W3C:
			if !sc.IsValid() {
				continue
			}
			c.Set(HeaderTraceparent, FormatTraceparent(sc))
			if sc.TraceState != "" {
				c.Set(HeaderTracestate, sc.TraceState)
			}
		case B3Single:
			if v := FormatB3(sc); v != "" {
				c.Set(HeaderB3, v)
			}
		case B3Multi:
			if sc.IsValid() {
				c.Set(HeaderB3TraceID, b3TraceID(sc.TraceID))
				c.Set(HeaderB3SpanID, sc.SpanID.String())
			}
			switch {
			case sc.Debug:
				c.Set(HeaderB3Flags, "1") // debug implies accept: no X-B3-Sampled
			case sc.Sampling == Accept:
				c.Set(HeaderB3Sampled, "1")
			case sc.Sampling == Deny:
				c.Set(HeaderB3Sampled, "0")
			}
		}
	}
}

// Headers lists every propagation header of every format, so that a
// wrapper can clear the ones a request carried in before it injects its
// own: a proxy forwarding a caller's traceparent while injecting only B3
// must not leave the old traceparent for the callee to join.
var Headers = []string{HeaderTraceparent, HeaderTracestate, HeaderB3, HeaderB3TraceID, HeaderB3SpanID, HeaderB3ParentID, HeaderB3Sampled, HeaderB3Flags}

// Extract reads a caller's span context from c, whatever format it used:
// traceparent first, then b3, then the X-B3 headers. Malformed headers are
// ignored (the span becomes a new root); ok is false when nothing usable
// was found. The result has Remote set.
func Extract(c Carrier) (sc SpanContext, ok bool) {
	if v := get(c, HeaderTraceparent); v != "" {
		if sc, err := ParseTraceparent(v); err == nil {
			sc.TraceState = cleanTracestate(get(c, HeaderTracestate))
			return sc, true
		}
	}
	if v := get(c, HeaderB3); v != "" {
		if sc, err := ParseB3(v); err == nil {
			return sc, true
		}
	}
	return extractB3Multi(c)
}

// FormatTraceparent writes sc as a version-00 traceparent value.
func FormatTraceparent(sc SpanContext) string {
	var b [55]byte
	b[0], b[1], b[2] = '0', '0', '-'
	hex.Encode(b[3:35], sc.TraceID[:])
	b[35] = '-'
	hex.Encode(b[36:52], sc.SpanID[:])
	b[52], b[53], b[54] = '-', '0', '0'
	if sc.IsSampled() {
		b[54] = '1'
	}
	return string(b[:])
}

// ParseTraceparent reads a traceparent value. Version 00 must be exactly
// 55 characters; later versions may append fields, which are ignored, as
// the specification asks. Hex must be lower case; all-zero ids and version
// ff are invalid.
func ParseTraceparent(s string) (SpanContext, error) {
	if len(s) < 55 || s[2] != '-' || s[35] != '-' || s[52] != '-' {
		return SpanContext{}, invalid("traceparent", s)
	}
	ver := s[:2]
	if !isLowerHex(ver) || ver == "ff" || (ver == "00" && len(s) != 55) || (len(s) > 55 && s[55] != '-') {
		return SpanContext{}, invalid("traceparent", s)
	}
	var sc SpanContext
	var flags [1]byte
	if !isLowerHex(s[3:35]) || !isLowerHex(s[36:52]) || !isLowerHex(s[53:55]) ||
		!decodeHex(sc.TraceID[:], s[3:35]) || !decodeHex(sc.SpanID[:], s[36:52]) || !decodeHex(flags[:], s[53:55]) ||
		!sc.IsValid() {
		return SpanContext{}, invalid("traceparent", s)
	}
	sc.Sampling = Deny
	if flags[0]&1 == 1 {
		sc.Sampling = Accept
	}
	sc.Remote = true
	return sc, nil
}

// cleanTracestate keeps a tracestate value only if it is plausible: at most
// 512 characters of printable ASCII (the specification's limit for what a
// vendor must pass on); anything else is dropped rather than forwarded.
func cleanTracestate(s string) string {
	s = strings.TrimSpace(s)
	if len(s) > 512 {
		return ""
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c > 0x7e {
			return ""
		}
	}
	return s
}

// FormatB3 writes sc as a single b3 header value: {trace}-{span}-{1|0|d},
// or the bare decision when sc has no ids.
func FormatB3(sc SpanContext) string {
	state := ""
	switch {
	case sc.Debug:
		state = "d"
	case sc.Sampling == Accept:
		state = "1"
	case sc.Sampling == Deny:
		state = "0"
	}
	if !sc.IsValid() {
		return state
	}
	v := b3TraceID(sc.TraceID) + "-" + sc.SpanID.String()
	if state != "" {
		v += "-" + state
	}
	return v
}

// b3TraceID writes a 64-bit id as 16 digits, for B3 peers that know no other.
func b3TraceID(id TraceID) string {
	if id.short() {
		return hex.EncodeToString(id[8:])
	}
	return id.String()
}

// ParseB3 reads a single b3 header value:
// {trace}-{span}[-{sampling}[-{parent}]] or a bare 0, 1 or d.
func ParseB3(s string) (SpanContext, error) {
	sc := SpanContext{Remote: true}
	if len(s) == 1 {
		if !parseB3State(s, &sc) {
			return SpanContext{}, invalid("b3", s)
		}
		return sc, nil
	}
	traceHex, rest, ok := strings.Cut(s, "-")
	if !ok {
		return SpanContext{}, invalid("b3", s)
	}
	spanHex, rest, hasState := strings.Cut(rest, "-")
	var err error
	if sc.TraceID, err = ParseTraceID(traceHex); err != nil {
		return SpanContext{}, invalid("b3", s)
	}
	if sc.SpanID, err = ParseSpanID(spanHex); err != nil {
		return SpanContext{}, invalid("b3", s)
	}
	if hasState {
		state, parentHex, hasParent := strings.Cut(rest, "-")
		if !parseB3State(state, &sc) {
			return SpanContext{}, invalid("b3", s)
		}
		if hasParent {
			if _, err := ParseSpanID(parentHex); err != nil {
				return SpanContext{}, invalid("b3", s)
			}
		}
	}
	return sc, nil
}

func parseB3State(s string, sc *SpanContext) bool {
	switch s {
	case "1":
		sc.Sampling = Accept
	case "0":
		sc.Sampling = Deny
	case "d":
		sc.Sampling, sc.Debug = Accept, true
	default:
		return false
	}
	return true
}

// extractB3Multi reads the X-B3 headers. Ids that do not parse are ignored
// together (a trace id without a span id names no parent), but a sampling
// decision or debug flag on its own still counts.
func extractB3Multi(c Carrier) (SpanContext, bool) {
	sc := SpanContext{Remote: true}
	found := false
	switch get(c, HeaderB3Sampled) {
	case "1", "true":
		sc.Sampling, found = Accept, true
	case "0", "false":
		sc.Sampling, found = Deny, true
	}
	if get(c, HeaderB3Flags) == "1" {
		sc.Sampling, sc.Debug, found = Accept, true, true
	}
	if th := get(c, HeaderB3TraceID); th != "" {
		tid, err1 := ParseTraceID(th)
		sid, err2 := ParseSpanID(get(c, HeaderB3SpanID))
		if err1 == nil && err2 == nil {
			sc.TraceID, sc.SpanID, found = tid, sid, true
		}
	}
	if !found {
		return SpanContext{}, false
	}
	return sc, true
}
