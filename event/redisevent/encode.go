package redisevent

import (
	"time"
	"unicode/utf8"

	"github.com/microos/go-os/event"
)

// encode is an entry's fields: "r", the record's JSON without its data
// (the stored struct's shape, written by hand: json.Marshal's reflection
// cost as much as the XADD's own client work), and "d", the data as is
// (no base64 inflating it by a third).
func encode(r event.Record) ([]any, error) {
	hdr, err := appendHeader(nil, r)
	if err != nil {
		return nil, err
	}
	return appendFields(nil, hdr, r.Data), nil
}

// appendFields appends an entry's field/value pairs to vals.
func appendFields(vals []any, hdr, data []byte) []any {
	vals = append(vals, "r", hdr)
	if len(data) > 0 {
		vals = append(vals, "d", data)
	}
	return vals
}

// appendHeader appends r's JSON header to b.
func appendHeader(b []byte, r event.Record) ([]byte, error) {
	if y := r.Timestamp.Year(); y < 0 || y > 9999 {
		return nil, &yearError{r.Timestamp}
	}
	b = append(b, `{"t":`...)
	b = appendString(b, r.Type)
	if r.Origin != (event.Origin{}) { // a Bus without WithService: no bytes for nothing
		b = append(b, `,"o":{"Service":`...)
		b = appendString(b, r.Origin.Service)
		b = append(b, `,"Version":`...)
		b = appendString(b, r.Origin.Version)
		b = append(b, `,"Instance":`...)
		b = appendString(b, r.Origin.Instance)
		b = append(b, '}')
	}
	b = append(b, `,"ts":"`...)
	b = r.Timestamp.AppendFormat(b, time.RFC3339Nano)
	b = append(b, '"')
	if r.RootID != "" {
		b = append(b, `,"root":`...)
		b = appendString(b, r.RootID)
	}
	if r.ParentID != "" {
		b = append(b, `,"parent":`...)
		b = appendString(b, r.ParentID)
	}
	if len(r.Metadata) > 0 {
		b = append(b, `,"m":{`...)
		first := true
		for k, v := range r.Metadata {
			if !first {
				b = append(b, ',')
			}
			first = false
			b = appendString(b, k)
			b = append(b, ':')
			b = appendString(b, v)
		}
		b = append(b, '}')
	}
	return append(b, '}'), nil
}

type yearError struct{ t time.Time }

func (e *yearError) Error() string { return "timestamp " + e.t.String() + " outside years 0-9999" }

const hexDigits = "0123456789abcdef"

// appendString appends s as a JSON string, as encoding/json writes it
// (invalid UTF-8 as U+FFFD), without its HTML escaping.
func appendString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i++
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
