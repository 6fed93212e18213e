package ringkv

import (
	"testing"
	"time"

	"github.com/microos/go-os/kv"
)

// getAt reads the TTL as the time left and treats "no time left" as
// expired, where the entry's expired (now >= expires) says so: one
// nanosecond before the expiry the key is live with 1ns left, at the
// expiry it is gone; a tombstone is a miss.
func TestGetAtExpiryBoundary(t *testing.T) {
	start := time.Unix(1_700_000_000, 0)
	now := start
	l := newLocal(func() time.Time { return now }, 0, time.Minute)
	if _, err := l.decide("k", []byte("v"), time.Second, false, func(*entry) error { return nil }); err != nil {
		t.Fatal(err)
	}
	now = start.Add(time.Second - time.Nanosecond)
	it, err := l.getAt(keyHash("k"), "k")
	if err != nil || it.TTL != time.Nanosecond || string(it.Value) != "v" {
		t.Fatalf("1ns before expiry: %+v, %v", it, err)
	}
	if e := l.shard("k").m["k"]; e.expired(now) {
		t.Fatal("expired disagrees 1ns before expiry")
	}
	now = start.Add(time.Second)
	if it, err := l.get("k"); err != kv.ErrNotFound {
		t.Fatalf("at expiry: %+v, %v", it, err)
	}
	if e := l.shard("k").m["k"]; !e.expired(now) {
		t.Fatal("expired disagrees at expiry")
	}
	if _, err := l.decide("k", nil, 0, true, func(*entry) error { return nil }); err != nil {
		t.Fatal(err)
	}
	if it, err := l.get("k"); err != kv.ErrNotFound {
		t.Fatalf("tombstone: %+v, %v", it, err)
	}
}
