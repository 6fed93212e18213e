package redisevent

import (
	"time"

	"github.com/microos/go-os/event"

	"github.com/microos/go-os/internal/jsonw"
)

// encode is an entry's fields: one field "r", the record's JSON without
// its data (the stored struct's shape, written by hand: json.Marshal's
// reflection cost as much as the XADD's own client work), then, when
// there is data, a newline and the data as is (no base64 inflating it by
// a third). One field, not a second "d" for the data: Redis's work per
// XADD grows with its arguments, and a second field cost about 20% more
// than the bare XADD of the same payload (JSON never holds a raw newline,
// so the first one ends the header).
func encode(r event.Record) ([]any, error) {
	b, err := appendEntry(nil, r)
	if err != nil {
		return nil, err
	}
	return []any{"r", b}, nil
}

// appendEntry appends the value of r's field "r" to b.
func appendEntry(b []byte, r event.Record) ([]byte, error) {
	b, err := appendHeader(b, r)
	if err != nil {
		return nil, err
	}
	if len(r.Data) > 0 {
		b = append(append(b, '\n'), r.Data...)
	}
	return b, nil
}

// entrySize is about how many bytes appendEntry writes for r.
func entrySize(r event.Record) int {
	n := 64 + 2*len(r.Type) + len(r.Origin.Service) + len(r.Origin.Version) + len(r.Origin.Instance) +
		len(r.RootID) + len(r.ParentID) + len(r.Data)
	for k, v := range r.Metadata {
		n += len(k) + len(v) + 6
	}
	return n
}

// appendHeader appends r's JSON header to b.
func appendHeader(b []byte, r event.Record) ([]byte, error) {
	if y := r.Timestamp.Year(); y < 0 || y > 9999 {
		return nil, &yearError{r.Timestamp}
	}
	b = append(b, `{"t":`...)
	b = jsonw.AppendString(b, r.Type)
	if r.Origin != (event.Origin{}) { // a Bus without WithService: no bytes for nothing
		b = append(b, `,"o":{"Service":`...)
		b = jsonw.AppendString(b, r.Origin.Service)
		b = append(b, `,"Version":`...)
		b = jsonw.AppendString(b, r.Origin.Version)
		b = append(b, `,"Instance":`...)
		b = jsonw.AppendString(b, r.Origin.Instance)
		b = append(b, '}')
	}
	b = append(b, `,"ts":"`...)
	b = r.Timestamp.AppendFormat(b, time.RFC3339Nano)
	b = append(b, '"')
	if r.RootID != "" {
		b = append(b, `,"root":`...)
		b = jsonw.AppendString(b, r.RootID)
	}
	if r.ParentID != "" {
		b = append(b, `,"parent":`...)
		b = jsonw.AppendString(b, r.ParentID)
	}
	if len(r.Metadata) > 0 {
		b = append(b, `,"m":{`...)
		first := true
		for k, v := range r.Metadata {
			if !first {
				b = append(b, ',')
			}
			first = false
			b = jsonw.AppendString(b, k)
			b = append(b, ':')
			b = jsonw.AppendString(b, v)
		}
		b = append(b, '}')
	}
	return append(b, '}'), nil
}

type yearError struct{ t time.Time }

func (e *yearError) Error() string { return "timestamp " + e.t.String() + " outside years 0-9999" }
