package trace

import (
	"encoding/hex"
	"math/rand/v2"
)

// TraceID identifies a trace: 128 bits, as in W3C Trace Context and B3. A
// trace that came in with a 64-bit B3 id keeps it in the low 8 bytes.
type TraceID [16]byte

// SpanID identifies a span within its trace: 64 bits.
type SpanID [8]byte

// IsValid reports whether the id is not all zeros (an all-zero id means none).
func (id TraceID) IsValid() bool { return id != TraceID{} }

// IsValid reports whether the id is not all zeros (an all-zero id means none).
func (id SpanID) IsValid() bool { return id != SpanID{} }

// String is the id in lower-case hex: 32 digits.
func (id TraceID) String() string { return hex.EncodeToString(id[:]) }

// String is the id in lower-case hex: 16 digits.
func (id SpanID) String() string { return hex.EncodeToString(id[:]) }

// short reports whether the id fits in 64 bits, so that B3 headers write it
// as 16 digits for peers that only know 64-bit ids.
func (id TraceID) short() bool {
	return id[0]|id[1]|id[2]|id[3]|id[4]|id[5]|id[6]|id[7] == 0
}

// ParseTraceID reads 16 or 32 hex digits (16 is a 64-bit B3 id).
func ParseTraceID(s string) (TraceID, error) {
	var id TraceID
	switch len(s) {
	case 32:
		if !decodeHex(id[:], s) {
			return TraceID{}, invalid("trace id", s)
		}
	case 16:
		if !decodeHex(id[8:], s) {
			return TraceID{}, invalid("trace id", s)
		}
	default:
		return TraceID{}, invalid("trace id", s)
	}
	if !id.IsValid() {
		return TraceID{}, invalid("trace id", s)
	}
	return id, nil
}

// ParseSpanID reads 16 hex digits.
func ParseSpanID(s string) (SpanID, error) {
	var id SpanID
	if len(s) != 16 || !decodeHex(id[:], s) || !id.IsValid() {
		return SpanID{}, invalid("span id", s)
	}
	return id, nil
}

// decodeHex fills dst from exactly 2*len(dst) hex digits of either case,
// without allocating.
func decodeHex(dst []byte, s string) bool {
	if len(s) != 2*len(dst) {
		return false
	}
	for i := range dst {
		hi, lo := hexValue[s[2*i]], hexValue[s[2*i+1]]
		if hi|lo == 0xff {
			return false
		}
		dst[i] = hi<<4 | lo
	}
	return true
}

// hexValue maps a hex digit to its value and anything else to 0xff.
var hexValue = func() (t [256]byte) {
	for i := range t {
		t[i] = 0xff
	}
	for c := '0'; c <= '9'; c++ {
		t[c] = byte(c - '0')
	}
	for c := 'a'; c <= 'f'; c++ {
		t[c] = byte(c-'a') + 10
		t[c-'a'+'A'] = byte(c-'a') + 10
	}
	return t
}()

func isLowerHex(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

// newTraceID and newSpanID draw from the tracer's id source
// (WithIDSource), or by default from the runtime's per-thread ChaCha8
// generator: unpredictable enough for ids, and it takes no lock.
func (t *Tracer) newTraceID() TraceID {
	var id TraceID
	for !id.IsValid() {
		putUint64(id[:8], t.nextID())
		putUint64(id[8:], t.nextID())
	}
	return id
}

func (t *Tracer) newSpanID() SpanID {
	var id SpanID
	for !id.IsValid() {
		putUint64(id[:], t.nextID())
	}
	return id
}

func (t *Tracer) nextID() uint64 {
	if t.ids == nil {
		return rand.Uint64() // a direct call: no func value on the default path
	}
	return t.ids()
}

func putUint64(b []byte, v uint64) {
	_ = b[7]
	b[0], b[1], b[2], b[3] = byte(v>>56), byte(v>>48), byte(v>>40), byte(v>>32)
	b[4], b[5], b[6], b[7] = byte(v>>24), byte(v>>16), byte(v>>8), byte(v)
}

func getUint64(b []byte) uint64 {
	_ = b[7]
	return uint64(b[0])<<56 | uint64(b[1])<<48 | uint64(b[2])<<40 | uint64(b[3])<<32 |
		uint64(b[4])<<24 | uint64(b[5])<<16 | uint64(b[6])<<8 | uint64(b[7])
}
