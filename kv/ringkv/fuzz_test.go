package ringkv

import (
	"testing"
	"time"

	"github.com/microos/go-os/kv"
)

// A peer's getmulti answer is outside input: garbage must be an error,
// never a panic or an index out of range.
func FuzzReadRecords(f *testing.F) {
	f.Add(appendRecord(appendRecord(nil, 0, kv.Item{Value: []byte("a"), Version: 7}), 2, kv.Item{Value: []byte("bc")}), 3)
	f.Add([]byte{0x80}, 1)
	f.Add([]byte{5, 1, 0, 200}, 10)
	f.Fuzz(func(t *testing.T, b []byte, n int) {
		if n < 0 || n > 1000 {
			return
		}
		readRecords(b, n, func(i int, it kv.Item) {
			if i < 0 || i >= n {
				t.Fatalf("index %d out of [0,%d)", i, n)
			}
		})
	})
}

func TestRecordsRoundTrip(t *testing.T) {
	b := appendRecord(nil, 1, kv.Item{Value: []byte("hello"), Version: 42, TTL: 1500 * 1e6})
	var got kv.Item
	if err := readRecords(b, 2, func(i int, it kv.Item) { got = it }); err != nil {
		t.Fatal(err)
	}
	if string(got.Value) != "hello" || got.Version != 42 || got.TTL != 1500*1e6 {
		t.Fatalf("round trip = %+v", got)
	}
	if err := readRecords(b, 1, func(int, kv.Item) {}); err == nil {
		t.Fatal("an index beyond the keys was accepted")
	}
}

// Replication records come from peers: garbage must be an error, never a
// panic, and every record decoded must carry a valid key and a version.
func FuzzReadRecs(f *testing.F) {
	f.Add(appendRec(appendRec(nil, record{Key: "a", Value: []byte("x"), Version: 3}), record{Key: "b", Version: 9, Dead: true}))
	f.Add([]byte{0, 1, 0, 1, 'k', 200})
	f.Add([]byte{2, 1, 0, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		readRecs(b, func(r record) error {
			if kv.ValidateKey(r.Key) != nil || r.Version == 0 {
				t.Fatalf("decoded %+v", r)
			}
			return nil
		})
	})
}

func TestRecsRoundTrip(t *testing.T) {
	in := []record{
		{Key: "a", Value: []byte("hello"), Version: 42, TTL: 1500 * time.Millisecond},
		{Key: "gone", Version: 43, Dead: true},
	}
	var b []byte
	for _, r := range in {
		b = appendRec(b, r)
	}
	var out []record
	if err := readRecs(b, func(r record) error { out = append(out, r); return nil }); err != nil {
		t.Fatal(err)
	}
	if len(out) != 2 || out[0].Key != "a" || string(out[0].Value) != "hello" || out[0].Version != 42 || out[0].TTL != 1500*time.Millisecond ||
		out[1].Key != "gone" || !out[1].Dead || out[1].Version != 43 {
		t.Fatalf("round trip = %+v", out)
	}
	if err := readRecs(b[:len(b)-1], func(record) error { return nil }); err == nil {
		t.Fatal("a truncated record was accepted")
	}
}
