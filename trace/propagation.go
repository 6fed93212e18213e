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
		Inject(s.SpanContext(), c, t.formats...)
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
	if v, ok := traceparent(c); ok {
		if sc, err := ParseTraceparent(v); err == nil {
			sc.TraceState = tracestate(c)
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
		b[54] |= 1
	}
	if sc.Random {
		b[54] |= 2
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
	sc.Random = flags[0]&2 == 2
	sc.Remote = true
	return sc, nil
}

// traceparent returns the one traceparent value of c. Two different
// values (W3C §3.2: a request with several traceparent headers) mean the
// caller's context cannot be trusted: ok is false and a new trace starts.
func traceparent(c Carrier) (string, bool) {
	var vs []string
	switch h := c.(type) {
	case http.Header:
		vs = h[HeaderTraceparent]
	case interface{ Values(string) []string }:
		vs = h.Values(HeaderTraceparent)
	default:
		v := c.Get(HeaderTraceparent)
		return v, v != ""
	}
	if len(vs) == 0 || vs[0] == "" {
		return "", false
	}
	for _, v := range vs[1:] {
		if v != vs[0] {
			return "", false
		}
	}
	return vs[0], true
}

// tracestate returns the caller's tracestate, several headers combined in
// order (W3C §3.3.1), or "" when the combined list breaks the grammar.
func tracestate(c Carrier) string {
	var vs []string
	switch h := c.(type) {
	case http.Header:
		vs = h[HeaderTracestate]
	case interface{ Values(string) []string }:
		vs = h.Values(HeaderTracestate)
	default:
		vs = []string{c.Get(HeaderTracestate)}
	}
	switch len(vs) {
	case 0:
		return ""
	case 1:
		return CleanTracestate(vs[0])
	}
	return CleanTracestate(strings.Join(vs, ","))
}

// MaxTracestateMembers is W3C §3.3.1.1's limit on list members.
const MaxTracestateMembers = 32

// CleanTracestate validates a tracestate value by W3C Trace Context's
// grammar (§3.3.1): list members key=value separated by commas, optional
// white space (space, tab) around members, empty members allowed and
// dropped; keys are a simple key (lcalpha then lcalpha/digit/_-*/, at most
// 256) or a multi-tenant tenant@system (tenant lcalpha/digit first, at
// most 241; system lcalpha first, at most 14); values are 1..256 printable
// ASCII except ',' and '=', the last not a space; at most 32 members; no
// duplicate keys. A list that breaks any rule is dropped whole, as the
// specification's test suite expects: a vendor that cannot parse it must
// not pass it on. A clean list is returned as is, without allocating;
// otherwise the members are rejoined without the white space and empties.
func CleanTracestate(s string) string {
	n, canonical := 0, true
	var keys [MaxTracestateMembers]string
	rest, more := s, true
	for more {
		var m string
		m, rest, more = strings.Cut(rest, ",")
		t := trimOWS(m)
		if len(t) != len(m) {
			canonical = false
		}
		if t != "" {
			k, v, ok := strings.Cut(t, "=")
			if !ok || !validTracestateKey(k) || !validTracestateValue(v) || n == MaxTracestateMembers {
				return ""
			}
			for _, seen := range keys[:n] {
				if seen == k {
					return ""
				}
			}
			keys[n] = k
			n++
		} else {
			canonical = false
		}
	}
	if n == 0 {
		return ""
	}
	if canonical {
		return s
	}
	var b strings.Builder
	rest = s
	for rest != "" {
		var m string
		m, rest, _ = strings.Cut(rest, ",")
		if t := trimOWS(m); t != "" {
			if b.Len() > 0 {
				b.WriteByte(',')
			}
			b.WriteString(t)
		}
	}
	return b.String()
}

func trimOWS(s string) string {
	for len(s) > 0 && (s[0] == ' ' || s[0] == '\t') {
		s = s[1:]
	}
	for len(s) > 0 && (s[len(s)-1] == ' ' || s[len(s)-1] == '\t') {
		s = s[:len(s)-1]
	}
	return s
}

func isLcalpha(c byte) bool { return c >= 'a' && c <= 'z' }
func isDigit(c byte) bool   { return c >= '0' && c <= '9' }
func isKeyChar(c byte) bool {
	return isLcalpha(c) || isDigit(c) || c == '_' || c == '-' || c == '*' || c == '/'
}

func validTracestateKey(k string) bool {
	tenant, system, multi := strings.Cut(k, "@")
	if !multi {
		if len(k) == 0 || len(k) > 256 || !isLcalpha(k[0]) {
			return false
		}
		for i := 1; i < len(k); i++ {
			if !isKeyChar(k[i]) {
				return false
			}
		}
		return true
	}
	if len(tenant) == 0 || len(tenant) > 241 || !(isLcalpha(tenant[0]) || isDigit(tenant[0])) ||
		len(system) == 0 || len(system) > 14 || !isLcalpha(system[0]) {
		return false
	}
	for i := 1; i < len(tenant); i++ {
		if !isKeyChar(tenant[i]) {
			return false
		}
	}
	for i := 1; i < len(system); i++ {
		if !isKeyChar(system[i]) { // a second '@' fails here
			return false
		}
	}
	return true
}

func validTracestateValue(v string) bool {
	if len(v) == 0 || len(v) > 256 || v[len(v)-1] == ' ' {
		return false
	}
	for i := 0; i < len(v); i++ {
		if c := v[i]; c < 0x20 || c > 0x7e || c == ',' || c == '=' {
			return false
		}
	}
	return true
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
