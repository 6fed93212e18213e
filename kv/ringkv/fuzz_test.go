package ringkv

import (
	"testing"

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
