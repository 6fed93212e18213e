package zipkintrace

import (
	"strconv"
	"strings"
	"time"

	"github.com/microos/go-os/trace"

	"github.com/microos/go-os/internal/jsonw"
)

// appendSpans appends the batch as a Zipkin v2 JSON list, the document
// zipkin-go's JSONSerializer writes for the same spans (json_test.go
// checks the two decode alike), without its reflection, its per-span maps
// and its intermediate model: names and service names lower-cased as
// zipkin-go does, times in microseconds rounded as it rounds them, empty
// fields left out.
func appendSpans(b []byte, spans []*trace.SpanData) []byte {
	b = append(b, '[')
	for i, d := range spans {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendSpan(b, d)
	}
	return append(b, ']')
}

const hexDigits = "0123456789abcdef"

func appendHex(b []byte, id []byte) []byte {
	for _, c := range id {
		b = append(b, hexDigits[c>>4], hexDigits[c&0xf])
	}
	return b
}

func appendSpan(b []byte, d *trace.SpanData) []byte {
	b = append(b, '{') // fields in zipkin-go's order
	// Zipkin refuses a timestamp before 1970-01-01T00:00:01 (zipkin-go
	// fails the whole batch): such a span goes without one instead of
	// taking the batch's good spans down with it.
	if d.Start.Unix() >= 1 {
		b = append(b, `"timestamp":`...)
		b = strconv.AppendInt(b, micros(d.Start), 10)
		b = append(b, ',')
	}
	if us := durationMicros(d.Duration()); us > 0 {
		b = append(b, `"duration":`...)
		b = strconv.AppendInt(b, us, 10)
		b = append(b, ',')
	}
	b = append(b, `"traceId":"`...)
	if d.TraceID[0]|d.TraceID[1]|d.TraceID[2]|d.TraceID[3]|d.TraceID[4]|d.TraceID[5]|d.TraceID[6]|d.TraceID[7] == 0 {
		b = appendHex(b, d.TraceID[8:]) // a 64-bit id, as zipkin-go writes it
	} else {
		b = appendHex(b, d.TraceID[:])
	}
	b = append(b, `","id":"`...)
	b = appendHex(b, d.SpanID[:])
	b = append(b, '"')
	if d.ParentID.IsValid() {
		b = append(b, `,"parentId":"`...)
		b = appendHex(b, d.ParentID[:])
		b = append(b, '"')
	}
	if d.Debug {
		b = append(b, `,"debug":true`...)
	}
	if d.Name != "" {
		b = append(b, `,"name":`...)
		b = jsonw.AppendString(b, strings.ToLower(d.Name))
	}
	if int(d.Kind) < len(kindNames) && kindNames[d.Kind] != "" {
		b = append(b, `,"kind":"`...)
		b = append(b, kindNames[d.Kind]...)
		b = append(b, '"')
	}
	if d.Service != "" {
		b = append(b, `,"localEndpoint":{"serviceName":`...)
		b = jsonw.AppendString(b, strings.ToLower(d.Service))
		b = append(b, '}')
	}
	if r := d.Remote; r.Service != "" || r.Addr.IsValid() {
		b = append(b, `,"remoteEndpoint":{`...)
		sep := false
		if r.Service != "" {
			b = append(b, `"serviceName":`...)
			b = jsonw.AppendString(b, strings.ToLower(r.Service))
			sep = true
		}
		if a := r.Addr.Addr().Unmap().WithZone(""); a.IsValid() {
			if sep {
				b = append(b, ',')
			}
			if a.Is4() {
				b = append(b, `"ipv4":"`...)
			} else {
				b = append(b, `"ipv6":"`...)
			}
			b = a.AppendTo(b)
			b = append(b, '"')
			if p := r.Addr.Port(); p != 0 {
				b = append(b, `,"port":`...)
				b = strconv.AppendUint(b, uint64(p), 10)
			}
		}
		b = append(b, '}')
	}
	if len(d.Events) > 0 {
		b = append(b, `,"annotations":[`...)
		for i, ev := range d.Events {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, `{"timestamp":`...)
			b = strconv.AppendInt(b, micros(ev.Time), 10)
			b = append(b, `,"value":`...)
			b = jsonw.AppendString(b, ev.Name)
			b = append(b, '}')
		}
		b = append(b, ']')
	}
	if len(d.Tags) > 0 || d.Error != "" {
		b = append(b, `,"tags":{`...)
		n := 0
		for i, t := range d.Tags {
			k, v := zipkinTag(t)
			if (k == "error" && d.Error != "") || laterTagMaps(d.Tags[i+1:], k) {
				continue // a later value for the same Zipkin key wins, as in a map
			}
			if n > 0 {
				b = append(b, ',')
			}
			b = jsonw.AppendString(b, k)
			b = append(b, ':')
			b = jsonw.AppendString(b, v)
			n++
		}
		if d.Error != "" {
			if n > 0 {
				b = append(b, ',')
			}
			b = append(b, `"error":`...)
			b = jsonw.AppendString(b, d.Error)
		}
		b = append(b, '}')
	}
	return append(b, '}')
}

// laterTagMaps reports whether a tag in rest has the Zipkin key k
// (url.path and a tag named http.path both become http.path).
func laterTagMaps(rest []trace.Tag, k string) bool {
	for _, t := range rest {
		if kk, _ := zipkinTag(t); kk == k {
			return true
		}
	}
	return false
}

var kindNames = [...]string{trace.Server: "SERVER", trace.Client: "CLIENT", trace.Producer: "PRODUCER", trace.Consumer: "CONSUMER"}

// micros is t in microseconds since the epoch, rounded as zipkin-go does.
func micros(t time.Time) int64 { return t.Round(time.Microsecond).UnixNano() / 1e3 }

// durationMicros is d in microseconds, rounded to the nearest; a positive
// duration under a microsecond is one, a negative one is none.
func durationMicros(d time.Duration) int64 {
	switch {
	case d <= 0:
		return 0
	case d < time.Microsecond:
		return 1
	}
	return int64((d + 500*time.Nanosecond) / time.Microsecond)
}
