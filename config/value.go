package config

import (
	"math"
	"strconv"
	"strings"
	"time"
)

// Value is what a path holds in a Snapshot. Its getters convert what they
// can (the string "10" from an environment variable is Int 10) and return
// the default when the path is missing or the value does not convert, so a
// read never fails; use Scan or Exists to tell the cases apart. Reading a
// scalar allocates nothing.
type Value struct {
	v  any
	ok bool
}

// Exists reports whether the path held a value (possibly null).
func (v Value) Exists() bool { return v.ok }

// String returns a string as is and a number or bool formatted; a map, list
// or missing value gives def.
func (v Value) String(def string) string {
	switch x := v.v.(type) {
	case string:
		return x
	case int64:
		return strconv.FormatInt(x, 10)
	case float64:
		return strconv.FormatFloat(x, 'g', -1, 64)
	case bool:
		return strconv.FormatBool(x)
	}
	return def
}

// Int is Int64 as an int.
func (v Value) Int(def int) int { return int(v.Int64(int64(def))) }

// Int64 returns an integer, a float without fraction, or a string that
// parses as one (strconv.ParseInt base 0: "10", "0x1f"); otherwise def.
func (v Value) Int64(def int64) int64 {
	switch x := v.v.(type) {
	case int64:
		return x
	case float64:
		if x == float64(int64(x)) {
			return int64(x)
		}
	case string:
		if n, err := strconv.ParseInt(strings.TrimSpace(x), 0, 64); err == nil {
			return n
		}
	}
	return def
}

// Float64 returns a number or a string that parses as one; otherwise def.
func (v Value) Float64(def float64) float64 {
	switch x := v.v.(type) {
	case float64:
		return x
	case int64:
		return float64(x)
	case string:
		if f, err := strconv.ParseFloat(strings.TrimSpace(x), 64); err == nil {
			return f
		}
	}
	return def
}

// Bool returns a bool or a string strconv.ParseBool accepts ("true", "1",
// "f"); otherwise def.
func (v Value) Bool(def bool) bool {
	switch x := v.v.(type) {
	case bool:
		return x
	case string:
		if b, err := strconv.ParseBool(strings.TrimSpace(x)); err == nil {
			return b
		}
	}
	return def
}

// Duration returns a string in time.ParseDuration syntax ("1.5s", "300ms")
// or a number (or a string holding one), which counts seconds; otherwise
// def.
func (v Value) Duration(def time.Duration) time.Duration {
	if d, ok := toDuration(v.v); ok {
		return d
	}
	return def
}

func toDuration(v any) (time.Duration, bool) {
	switch x := v.(type) {
	case string:
		x = strings.TrimSpace(x)
		if d, err := time.ParseDuration(x); err == nil {
			return d, true
		}
		if f, err := strconv.ParseFloat(x, 64); err == nil { // seconds, like a number
			return secondsToDuration(f)
		}
		return 0, false
	case int64:
		return secondsToDuration(float64(x))
	case float64:
		return secondsToDuration(x)
	}
	return 0, false
}

// maxSeconds is the longest time.Duration in seconds (about 292 years).
const maxSeconds = float64(math.MaxInt64 / int64(time.Second))

// secondsToDuration converts a number of seconds, refusing NaN, the
// infinities and what would overflow (a wrapped value is garbage, where the
// getter's default or Scan's ErrType is the honest answer).
func secondsToDuration(sec float64) (time.Duration, bool) {
	if sec != sec || sec > maxSeconds || sec < -maxSeconds {
		return 0, false
	}
	return time.Duration(sec * float64(time.Second)), true
}

// StringSlice returns a list of scalars as strings, or splits a string on
// commas (the way a list arrives from an environment variable or a flag),
// trimming spaces; otherwise def. The slice is the caller's.
func (v Value) StringSlice(def []string) []string {
	switch x := v.v.(type) {
	case []any:
		out := make([]string, 0, len(x))
		for _, e := range x {
			s := Value{v: e, ok: true}.String("\x00")
			if s == "\x00" {
				return def
			}
			out = append(out, s)
		}
		return out
	case string:
		if x == "" {
			return []string{}
		}
		parts := strings.Split(x, ",")
		for i := range parts {
			parts[i] = strings.TrimSpace(parts[i])
		}
		return parts
	}
	return def
}

// Map returns a copy of a map value (nested maps and lists copied too), or
// def when the value is not a map.
func (v Value) Map(def map[string]any) map[string]any {
	if m, ok := v.v.(map[string]any); ok {
		return deepCopy(m).(map[string]any)
	}
	return def
}

// Interface returns a copy of the value: nil, string, bool, int64, float64,
// []any or map[string]any.
func (v Value) Interface() any { return deepCopy(v.v) }

// Scan decodes the value into dst, which must be a non-nil pointer. Structs
// take their fields by json tag (or by field name, case-insensitively, as
// encoding/json does); strings convert to numbers, bools and durations as
// the getters do; a time.Duration field reads "1.5s" or seconds. It returns
// an error wrapping ErrType that names the path inside the value, and
// ErrNotFound when the value does not exist (dst is left untouched).
func (v Value) Scan(dst any) error {
	if !v.ok {
		return ErrNotFound
	}
	return decode(v.v, dst, "")
}
