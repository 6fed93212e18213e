package rediskv

import (
	"testing"
	"time"

	"github.com/microos/go-os/kv"
)

// Values read from Redis are outside input: another client may have
// written anything under a key.
func FuzzDecode(f *testing.F) {
	f.Add(encode(kv.Item{Value: []byte("v"), TTL: time.Hour}))
	f.Add([]byte("plain"))
	f.Add([]byte{formatV1})
	f.Fuzz(func(t *testing.T, b []byte) {
		it, err := decode(b)
		if err != nil {
			return
		}
		if len(it.Value) != len(b)-headerLen || it.TTL < 0 {
			t.Fatalf("decode(%x) = %+v", b, it)
		}
	})
}

func TestEncodeDecode(t *testing.T) {
	b := encode(kv.Item{Value: []byte("hello"), TTL: time.Minute})
	it, err := decode(b)
	if err != nil || string(it.Value) != "hello" || it.Version == 0 || it.TTL <= 59*time.Second || it.TTL > time.Minute {
		t.Fatalf("decode(encode) = %+v, %v", it, err)
	}
	if it2, _ := decode(encode(kv.Item{Value: []byte("hello")})); it2.Version == it.Version {
		t.Fatal("two writes got the same version")
	}
}
