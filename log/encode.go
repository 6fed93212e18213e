package log

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"math"
	"reflect"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/microos/go-os/internal/jsonw"
)

// buffer is a pooled line buffer: encoding a record allocates nothing once
// the pool is warm.
type buffer []byte

var bufPool = sync.Pool{New: func() any { b := make(buffer, 0, 1024); return &b }}

func getBuffer() *buffer { return bufPool.Get().(*buffer) }

func putBuffer(b *buffer) {
	// A huge line would pin its memory in the pool for ever.
	if cap(*b) > 64<<10 {
		return
	}
	*b = (*b)[:0]
	bufPool.Put(b)
}

// appendComma writes the separator before a member unless it opens an object.
func appendComma(b []byte) []byte {
	if n := len(b); n > 0 && b[n-1] != '{' {
		return append(b, ',')
	}
	return b
}

func appendKey(b []byte, key string) []byte {
	b = appendComma(b)
	b = jsonw.AppendString(b, key)
	return append(b, ':')
}

// appendTime appends t in UTC as RFC 3339 with microseconds, the form
// Elasticsearch maps to a date without configuration. The text up to the
// second is formatted once per second and cached in *stamp, from days
// since the epoch, instead of calling t.Date and t.Clock, which cost more
// than the rest of the line.
func appendTime(b []byte, t time.Time, stamp *atomic.Pointer[secondStamp]) []byte {
	sec := t.Unix()
	s := stamp.Load()
	if s == nil || s.sec != sec {
		s = newSecondStamp(sec)
		if s == nil { // outside years 0 to 9999
			return append(b, t.UTC().Format(time.RFC3339Nano)...)
		}
		stamp.Store(s)
	}
	us := t.Nanosecond() / 1000
	b = append(b, s.text[:]...)
	return append(b,
		byte('0'+us/100000), byte('0'+us/10000%10), byte('0'+us/1000%10),
		byte('0'+us/100%10), byte('0'+us/10%10), byte('0'+us%10), 'Z')
}

// secondStamp is the formatted time of one second: "2026-11-22T01:02:03.".
type secondStamp struct {
	sec  int64
	text [20]byte
}

func newSecondStamp(sec int64) *secondStamp {
	days, rem := sec/86400, sec%86400
	if rem < 0 {
		rem += 86400
		days--
	}
	y, m, d := civil(days)
	if y < 0 || y > 9999 {
		return nil
	}
	return &secondStamp{sec: sec, text: [20]byte{
		byte('0' + y/1000), byte('0' + y/100%10), byte('0' + y/10%10), byte('0' + y%10), '-',
		byte('0' + m/10), byte('0' + m%10), '-', byte('0' + d/10), byte('0' + d%10), 'T',
		byte('0' + rem/36000), byte('0' + rem/3600%10), ':',
		byte('0' + rem%3600/600), byte('0' + rem%3600/60%10), ':',
		byte('0' + rem%60/10), byte('0' + rem%10), '.'}}
}

// civil converts days since 1970-01-01 to a proleptic Gregorian date
// (Howard Hinnant's days_from_civil, inverted).
func civil(days int64) (y, m, d int64) {
	z := days + 719468
	era := z / 146097
	if z < 0 && z%146097 != 0 {
		era--
	}
	doe := z - era*146097
	yoe := (doe - doe/1460 + doe/36524 - doe/146096) / 365
	doy := doe - (365*yoe + yoe/4 - yoe/100)
	mp := (5*doy + 2) / 153
	d = doy - (153*mp+2)/5 + 1
	m = mp + 3
	if m > 12 {
		m -= 12
	}
	y = yoe + era*400
	if m <= 2 {
		y++
	}
	return y, m, d
}

// digitPairs holds "00" to "99", two digits per number.
const digitPairs = "00010203040506070809101112131415161718192021222324252627282930313233343536373839" +
	"40414243444546474849505152535455565758596061626364656667686970717273747576777879" +
	"8081828384858687888990919293949596979899"

// appendInt is strconv.AppendInt(b, v, 10) at a third of the cost for the
// small numbers logs are full of.
func appendInt(b []byte, v int64) []byte {
	if v >= 0 {
		return appendUint(b, uint64(v))
	}
	return appendUint(append(b, '-'), -uint64(v))
}

func appendUint(b []byte, u uint64) []byte {
	if u < 10 {
		return append(b, byte('0'+u))
	}
	var tmp [20]byte
	i := len(tmp)
	for u >= 100 {
		q := u / 100
		r := (u - q*100) * 2
		i -= 2
		tmp[i], tmp[i+1] = digitPairs[r], digitPairs[r+1]
		u = q
	}
	if u >= 10 {
		i -= 2
		tmp[i], tmp[i+1] = digitPairs[u*2], digitPairs[u*2+1]
	} else {
		i--
		tmp[i] = byte('0' + u)
	}
	return append(b, tmp[i:]...)
}

func appendValueOf(b []byte, kind slog.Kind, v slog.Value) []byte {
	switch kind {
	case slog.KindString:
		return jsonw.AppendString(b, v.String())
	case slog.KindInt64:
		return appendInt(b, v.Int64())
	case slog.KindUint64:
		return appendUint(b, v.Uint64())
	case slog.KindFloat64:
		f := v.Float64()
		if math.IsInf(f, 0) || math.IsNaN(f) {
			// Not a JSON number: keep the line valid.
			return jsonw.AppendString(b, strconv.FormatFloat(f, 'g', -1, 64))
		}
		return strconv.AppendFloat(b, f, 'g', -1, 64)
	case slog.KindBool:
		return strconv.AppendBool(b, v.Bool())
	case slog.KindDuration:
		// Nanoseconds, like slog's JSONHandler, so that fields keep one type.
		return appendInt(b, int64(v.Duration()))
	case slog.KindTime:
		b = append(b, '"')
		b = v.Time().UTC().AppendFormat(b, time.RFC3339Nano)
		return append(b, '"')
	default:
		return appendAny(b, v.Any())
	}
}

func appendAny(b []byte, a any) (out []byte) {
	// A value's own methods (MarshalJSON, Error) may panic, a typed nil
	// pointer with value receivers above all: a log call must not take the
	// caller down with it. slog's handler does the same.
	defer func() {
		if p := recover(); p != nil {
			if v := reflect.ValueOf(a); v.Kind() == reflect.Pointer && v.IsNil() {
				out = append(b, `"<nil>"`...)
				return
			}
			out = jsonw.AppendString(b, fmt.Sprintf("!PANIC: %v", p))
		}
	}()
	switch x := a.(type) {
	case nil:
		return append(b, "null"...)
	case json.Marshaler:
		if j, err := x.MarshalJSON(); err == nil && json.Valid(j) {
			return append(b, j...)
		}
	case error:
		return jsonw.AppendString(b, x.Error())
	}
	j, err := json.Marshal(a)
	if err != nil {
		return jsonw.AppendString(b, "!ERROR:"+err.Error())
	}
	return append(b, j...)
}
