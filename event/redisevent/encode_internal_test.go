package redisevent

import (
	"bytes"
	"encoding/json"
	"reflect"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/microos/go-os/event"
)

// The hand-written JSON decodes, through decode, to the record, for every
// string json.Marshal would write: quotes, backslashes, control bytes,
// non-ASCII, invalid UTF-8 (as U+FFFD, as json.Marshal writes it).
func TestEncodeDecodes(t *testing.T) {
	for _, s := range []string{"", "plain", `q"uo\te`, "ctl\x00\x01\x1f\n\r\t", "é漢字🙂", "bad\xffutf8\xc3", "<html>&"} {
		r := event.Record{ID: "5-1", Type: "t.x", // Publish refuses a type that is not UTF-8
			Origin:    event.Origin{Service: s, Version: s + "v", Instance: "i" + s},
			Timestamp: time.Date(2026, 12, 2, 15, 4, 5, 123456789, time.FixedZone("x", 3600)),
			RootID:    "1-0" + s, ParentID: s, Metadata: map[string]string{s: s, "k": "v" + s}, Data: []byte(s)}
		fields, err := encode(r)
		if err != nil {
			t.Fatal(err)
		}
		hdr, data, _ := bytes.Cut(fields[1].([]byte), []byte("\n")) // the data may hold newlines: the first ends the JSON
		if !json.Valid(hdr) || string(data) != s {
			t.Fatalf("%q: invalid JSON or data in %q", s, fields[1])
		}
		// What json.Marshal would have written, in the earlier layout (data in
		// a field "d"), is the reference: it is read too.
		ref, _ := json.Marshal(stored{Type: r.Type, Origin: r.Origin, Timestamp: r.Timestamp, RootID: r.RootID, ParentID: r.ParentID, Metadata: r.Metadata})
		m := redis.XMessage{ID: r.ID, Values: map[string]any{"r": string(fields[1].([]byte))}}
		typ := r.Type
		want, err := decode(redis.XMessage{ID: r.ID, Values: map[string]any{"r": string(ref), "d": string(r.Data)}}, typ)
		if err != nil {
			t.Fatal(err)
		}
		got, err := decode(m, typ)
		if err != nil {
			t.Fatalf("%q: %v", s, err)
		}
		if !reflect.DeepEqual(got, want) || !got.Timestamp.Equal(r.Timestamp) {
			t.Fatalf("%q: decoded %+v, want %+v", s, got, want)
		}
	}
	bare := event.Record{ID: "7-0", Type: "t", Timestamp: time.Unix(1, 0).UTC()}
	fields, err := encode(bare)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := decode(redis.XMessage{ID: "7-0", Values: map[string]any{"r": string(fields[1].([]byte))}}, "t"); err != nil ||
		got.Origin != (event.Origin{}) || !got.Timestamp.Equal(bare.Timestamp) || got.Data != nil {
		t.Fatalf("a record without origin or data: %s decoded to %+v, %v", fields[1], got, err)
	}
	if _, err := encode(event.Record{Type: "t", Timestamp: time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)}); err == nil {
		t.Fatal("year 10000 encoded")
	}
}

func BenchmarkEncode(b *testing.B) {
	r := event.Record{Type: "bench", Origin: event.Origin{Service: "orders", Version: "1.0", Instance: "i-1"}, Timestamp: time.Now(), RootID: "1-0", Data: make([]byte, 256)}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := encode(r); err != nil {
			b.Fatal(err)
		}
	}
}
