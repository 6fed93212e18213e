// Package kvtest is the conformance suite of kv: every backend runs it
// against a real server, and the memory store runs it too. When a behaviour
// of kv.Store matters, it is here.
package kvtest

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/microos/go-os/kv"
	"github.com/microos/go-os/oserr"
)

// Harness describes the backend under test.
type Harness struct {
	// New returns a Store on the backend; the suite closes it. Stores made
	// by one Run share the backend, and the suite keeps its keys apart.
	New func(t *testing.T, opts ...kv.Option) kv.Store

	// Advance moves the backend's clock forward (the memory store's fake
	// clock). Nil: real time passes, and the suite waits for expiry.
	Advance func(d time.Duration)

	// TTLResolution is the shortest TTL the backend honours (memcached:
	// 1 s); the expiry test uses it. Zero means 50 ms.
	TTLResolution time.Duration

	// Unreachable, if set, returns a Store whose backend cannot be reached
	// (a closed port), to check that down is not the same as missing.
	Unreachable func(t *testing.T) kv.Store

	// Hung, if set, returns a Store whose backend accepts connections but
	// never answers, to check that calls end by their ctx deadline. Leave
	// it nil for a backend that cannot honour ctx during a call (and say
	// so in its docs).
	Hung func(t *testing.T) kv.Store

	// Outage, if set, returns a Store on the backend and two functions that
	// stop the backend for this Store (a testenv.Proxy cut, or a server of
	// the test's own killed) and start it again, for the Check case.
	Outage func(t *testing.T) (s kv.Store, down, up func())
}

// Run runs the whole suite.
func Run(t *testing.T, h Harness) {
	run := randomHex(4)
	tests := []struct {
		name string
		fn   func(t *testing.T, h Harness, s kv.Store, key func(string) string)
	}{
		{"GetMissing", testGetMissing},
		{"SetGet", testSetGet},
		{"Overwrite", testOverwrite},
		{"EmptyValue", testEmptyValue},
		{"ValueIsCopied", testValueIsCopied},
		{"LargeValue", testLargeValue},
		{"DeleteIdempotent", testDelete},
		{"GetMulti", testGetMulti},
		{"Add", testAdd},
		{"CompareAndSwap", testCompareAndSwap},
		{"ConcurrentCAS", testConcurrentCAS},
		{"TTLReadBack", testTTLReadBack},
		{"TTLExpiry", testTTLExpiry},
		{"TTLBounds", testTTLBounds},
		{"CASKeepsTTL", testCASKeepsTTL},
		{"InvalidKeys", testInvalidKeys},
		{"InvalidItems", testInvalidItems},
		{"Namespace", testNamespace},
		{"CancelledContext", testCancelledContext},
		{"UseAfterClose", testUseAfterClose},
		{"CloseDuringCalls", testCloseDuringCalls},
		{"CheckHealthy", testCheckHealthy},
		{"ShutdownIdempotent", testShutdownIdempotent},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := h.New(t)
			t.Cleanup(func() { s.Close() })
			prefix := "kvtest-" + run + "-" + tc.name + "-"
			tc.fn(t, h, s, func(k string) string { return prefix + k })
		})
	}
	if h.Unreachable != nil {
		t.Run("Unreachable", func(t *testing.T) { testUnreachable(t, h) })
	}
	if h.Hung != nil {
		t.Run("Hung", func(t *testing.T) { testHung(t, h) })
		t.Run("CloseWaitsForHungCall", func(t *testing.T) { testCloseWaitsForHungCall(t, h) })
		t.Run("ShutdownHonoursItsDeadline", func(t *testing.T) { testShutdownDeadline(t, h) })
	}
	if h.Outage != nil {
		t.Run("CheckOutage", func(t *testing.T) { testCheckOutage(t, h) })
	}
}

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return c
}

func mustSet(t *testing.T, s kv.Store, it kv.Item) {
	t.Helper()
	if err := s.Set(ctx(t), it); err != nil {
		t.Fatalf("Set(%q): %v", it.Key, err)
	}
}

func mustGet(t *testing.T, s kv.Store, key string) kv.Item {
	t.Helper()
	it, err := s.Get(ctx(t), key)
	if err != nil {
		t.Fatalf("Get(%q): %v", key, err)
	}
	return it
}

func wantErr(t *testing.T, what string, err, want error) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Fatalf("%s: error %v, want %v", what, err, want)
	}
}

func testGetMissing(t *testing.T, _ Harness, s kv.Store, key func(string) string) {
	_, err := s.Get(ctx(t), key("missing"))
	wantErr(t, "Get(missing)", err, kv.ErrNotFound)
	if errors.Is(err, kv.ErrUnavailable) {
		t.Fatalf("a miss is also ErrUnavailable: %v", err)
	}
}

func testSetGet(t *testing.T, _ Harness, s kv.Store, key func(string) string) {
	k := key("a")
	mustSet(t, s, kv.Item{Key: k, Value: []byte("hello")})
	it := mustGet(t, s, k)
	if it.Key != k || string(it.Value) != "hello" || it.TTL != 0 || it.Version == 0 {
		t.Fatalf("Get = %+v, want key %q, value hello, no TTL, a version", it, k)
	}
}

func testOverwrite(t *testing.T, _ Harness, s kv.Store, key func(string) string) {
	k := key("a")
	mustSet(t, s, kv.Item{Key: k, Value: []byte("one"), TTL: time.Hour})
	v1 := mustGet(t, s, k).Version
	mustSet(t, s, kv.Item{Key: k, Value: []byte("two")})
	it := mustGet(t, s, k)
	if string(it.Value) != "two" || it.Version == v1 || it.TTL != 0 {
		t.Fatalf("after overwrite Get = %+v (first version %d): want two, a new version, no TTL", it, v1)
	}
}

func testEmptyValue(t *testing.T, _ Harness, s kv.Store, key func(string) string) {
	k := key("empty")
	mustSet(t, s, kv.Item{Key: k})
	if it := mustGet(t, s, k); it.Value == nil || len(it.Value) != 0 {
		t.Fatalf("empty value read back as %#v, want a non-nil empty slice", it.Value)
	}
}

func testValueIsCopied(t *testing.T, _ Harness, s kv.Store, key func(string) string) {
	k := key("copy")
	v := []byte("abc")
	mustSet(t, s, kv.Item{Key: k, Value: v})
	v[0] = 'X'
	it := mustGet(t, s, k)
	it.Value[1] = 'Y'
	if got := mustGet(t, s, k); string(got.Value) != "abc" {
		t.Fatalf("stored value changed through the caller's slices: %q", got.Value)
	}
}

func testLargeValue(t *testing.T, _ Harness, s kv.Store, key func(string) string) {
	k := key("large")
	v := make([]byte, 1<<20)
	rand.Read(v)
	mustSet(t, s, kv.Item{Key: k, Value: v})
	if got := mustGet(t, s, k); !bytes.Equal(got.Value, v) {
		t.Fatalf("1 MiB value read back with %d bytes, not equal", len(got.Value))
	}
}

func testDelete(t *testing.T, _ Harness, s kv.Store, key func(string) string) {
	k := key("d")
	mustSet(t, s, kv.Item{Key: k, Value: []byte("x")})
	for i := 0; i < 2; i++ {
		if err := s.Delete(ctx(t), k); err != nil {
			t.Fatalf("Delete #%d: %v", i+1, err)
		}
	}
	_, err := s.Get(ctx(t), k)
	wantErr(t, "Get after Delete", err, kv.ErrNotFound)
}

func testGetMulti(t *testing.T, _ Harness, s kv.Store, key func(string) string) {
	var keys []string
	for i := 0; i < 100; i++ {
		k := key(strconv.Itoa(i))
		keys = append(keys, k)
		if i%3 == 0 {
			mustSet(t, s, kv.Item{Key: k, Value: []byte("v" + strconv.Itoa(i))})
		}
	}
	keys = append(keys, keys[0]) // a duplicate is fine
	got, err := s.GetMulti(ctx(t), keys)
	if err != nil {
		t.Fatalf("GetMulti: %v", err)
	}
	if len(got) != 34 {
		t.Fatalf("GetMulti found %d items, want 34", len(got))
	}
	for i := 0; i < 100; i += 3 {
		k := key(strconv.Itoa(i))
		it, ok := got[k]
		if !ok || it.Key != k || string(it.Value) != "v"+strconv.Itoa(i) || it.Version == 0 {
			t.Fatalf("GetMulti[%q] = %+v, %v", k, it, ok)
		}
	}
	empty, err := s.GetMulti(ctx(t), nil)
	if err != nil || empty == nil || len(empty) != 0 {
		t.Fatalf("GetMulti(nil) = %v, %v; want an empty map", empty, err)
	}
}

func testAdd(t *testing.T, _ Harness, s kv.Store, key func(string) string) {
	k := key("add")
	if err := s.Add(ctx(t), kv.Item{Key: k, Value: []byte("first")}); err != nil {
		t.Fatalf("Add to a missing key: %v", err)
	}
	err := s.Add(ctx(t), kv.Item{Key: k, Value: []byte("second")})
	wantErr(t, "second Add", err, kv.ErrExists)
	if it := mustGet(t, s, k); string(it.Value) != "first" {
		t.Fatalf("a refused Add changed the value to %q", it.Value)
	}
}

func testCompareAndSwap(t *testing.T, _ Harness, s kv.Store, key func(string) string) {
	k := key("cas")
	mustSet(t, s, kv.Item{Key: k, Value: []byte("1")})
	it := mustGet(t, s, k)
	stale := it

	it.Value = []byte("2")
	if err := s.CompareAndSwap(ctx(t), it); err != nil {
		t.Fatalf("CAS with the current version: %v", err)
	}
	after := mustGet(t, s, k)
	if string(after.Value) != "2" || after.Version == stale.Version {
		t.Fatalf("after CAS Get = %+v: want 2 with a new version", after)
	}

	stale.Value = []byte("3")
	wantErr(t, "CAS with a stale version", s.CompareAndSwap(ctx(t), stale), kv.ErrConflict)
	if got := mustGet(t, s, k); string(got.Value) != "2" {
		t.Fatalf("a conflicting CAS wrote %q", got.Value)
	}

	if err := s.Delete(ctx(t), k); err != nil {
		t.Fatal(err)
	}
	wantErr(t, "CAS on a deleted key", s.CompareAndSwap(ctx(t), after), kv.ErrNotFound)
}

// testConcurrentCAS has many writers increment one counter with
// read-modify-CAS loops: a lost update shows as a wrong total.
func testConcurrentCAS(t *testing.T, _ Harness, s kv.Store, key func(string) string) {
	const writers, each = 8, 20
	k := key("counter")
	mustSet(t, s, kv.Item{Key: k, Value: []byte("0")})
	var wg sync.WaitGroup
	errs := make(chan error, writers)
	for w := 0; w < writers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < each; {
				it, err := s.Get(context.Background(), k)
				if err != nil {
					errs <- err
					return
				}
				n, _ := strconv.Atoi(string(it.Value))
				it.Value = []byte(strconv.Itoa(n + 1))
				switch err := s.CompareAndSwap(context.Background(), it); {
				case err == nil:
					i++
				case !errors.Is(err, kv.ErrConflict):
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("writer: %v", err)
	}
	if got := string(mustGet(t, s, k).Value); got != strconv.Itoa(writers*each) {
		t.Fatalf("counter = %s after %d increments: an update was lost", got, writers*each)
	}
}

func testTTLReadBack(t *testing.T, _ Harness, s kv.Store, key func(string) string) {
	k := key("ttl")
	mustSet(t, s, kv.Item{Key: k, Value: []byte("x"), TTL: time.Hour})
	it := mustGet(t, s, k)
	if it.TTL <= 58*time.Minute || it.TTL > time.Hour {
		t.Fatalf("TTL read back as %v, want just under 1h", it.TTL)
	}
	// Beyond memcached's 30-day relative limit.
	mustSet(t, s, kv.Item{Key: k, Value: []byte("x"), TTL: 40 * 24 * time.Hour})
	if it := mustGet(t, s, k); it.TTL <= 39*24*time.Hour || it.TTL > 40*24*time.Hour {
		t.Fatalf("40-day TTL read back as %v", it.TTL)
	}
	got, err := s.GetMulti(ctx(t), []string{k})
	if err != nil || got[k].TTL <= 39*24*time.Hour {
		t.Fatalf("GetMulti TTL = %v, %v", got[k].TTL, err)
	}
}

func testTTLExpiry(t *testing.T, h Harness, s kv.Store, key func(string) string) {
	ttl := h.TTLResolution
	if ttl == 0 {
		ttl = 50 * time.Millisecond
	}
	kept := key("kept")
	mustSet(t, s, kv.Item{Key: kept, Value: []byte("x")})
	// A TTL is never cut short: the item is there right after the write.
	// On real time, a loaded machine can take longer than a short TTL
	// between the write and the read: then the key expiring proves
	// nothing, and the round is tried again with twice the TTL.
	var k string
	for round := 0; ; round++ {
		k = key(fmt.Sprintf("expiring-%d", round))
		start := time.Now()
		mustSet(t, s, kv.Item{Key: k, Value: []byte("x"), TTL: ttl})
		it, err := s.Get(ctx(t), k)
		if err == nil {
			if it.TTL <= 0 || it.TTL > ttl {
				t.Fatalf("right after Set with TTL %v, Get reports TTL %v", ttl, it.TTL)
			}
			break
		}
		if took := time.Since(start); errors.Is(err, kv.ErrNotFound) && h.Advance == nil && took >= ttl && round < 6 {
			t.Logf("Set and Get took %v, past the TTL %v: again with %v", took, ttl, 2*ttl)
			ttl *= 2
			continue
		}
		t.Fatalf("Get right after Set with TTL %v: %v", ttl, err)
	}
	if h.Advance != nil {
		// ...and until its last moment, with a time left above zero (0
		// would read as "never expires").
		h.Advance(ttl - time.Microsecond)
		if it := mustGet(t, s, k); it.TTL <= 0 {
			t.Fatalf("1µs before expiry, Get reports TTL %v, want > 0", it.TTL)
		}
		h.Advance(time.Microsecond)
		_, err := s.Get(ctx(t), k)
		wantErr(t, "Get once the TTL passed", err, kv.ErrNotFound)
	} else {
		// Real time: the server expires the key on its own clock.
		deadline := time.Now().Add(ttl + 3*time.Second)
		for {
			_, err := s.Get(ctx(t), k)
			if errors.Is(err, kv.ErrNotFound) {
				break
			}
			if err != nil {
				t.Fatalf("Get while waiting for expiry: %v", err)
			}
			if time.Now().After(deadline) {
				t.Fatalf("key with TTL %v still there after %v", ttl, ttl+3*time.Second)
			}
			time.Sleep(ttl / 10)
		}
	}
	if err := s.Add(ctx(t), kv.Item{Key: k, Value: []byte("again")}); err != nil {
		t.Fatalf("Add over an expired key: %v", err)
	}
	mustGet(t, s, kept)
}

var invalidKeys = []string{"", "has space", "new\nline", "tab\tkey", "nul\x00", "del\x7f", strings.Repeat("k", kv.MaxKeyLen+1)}

func testInvalidKeys(t *testing.T, h Harness, s kv.Store, key func(string) string) {
	c := ctx(t)
	for _, k := range invalidKeys {
		_, err := s.Get(c, k)
		wantErr(t, fmt.Sprintf("Get(%q)", k), err, kv.ErrInvalidKey)
		wantErr(t, fmt.Sprintf("Set(%q)", k), s.Set(c, kv.Item{Key: k, Value: []byte("x")}), kv.ErrInvalidKey)
		wantErr(t, fmt.Sprintf("Add(%q)", k), s.Add(c, kv.Item{Key: k}), kv.ErrInvalidKey)
		wantErr(t, fmt.Sprintf("CompareAndSwap(%q)", k), s.CompareAndSwap(c, kv.Item{Key: k, Version: 1}), kv.ErrInvalidKey)
		wantErr(t, fmt.Sprintf("Delete(%q)", k), s.Delete(c, k), kv.ErrInvalidKey)
		_, err = s.GetMulti(c, []string{key("ok"), k})
		wantErr(t, fmt.Sprintf("GetMulti(%q)", k), err, kv.ErrInvalidKey)
	}
	ns := h.New(t, kv.WithNamespace(key("ns:")))
	defer ns.Close()
	wantErr(t, "namespaced Set of an empty key", ns.Set(c, kv.Item{Key: "", Value: []byte("x")}), kv.ErrInvalidKey)
	longest := key("")
	longest += strings.Repeat("k", kv.MaxKeyLen-len(longest))
	mustSet(t, s, kv.Item{Key: longest, Value: []byte("x")})
	mustGet(t, s, longest)
	var op *kv.OpError
	if _, err := s.Get(c, "bad key"); !errors.As(err, &op) || op.Op != "get" || op.Key != "bad key" {
		t.Fatalf("invalid key error %v does not name the operation and key", err)
	}
}

func testTTLBounds(t *testing.T, _ Harness, s kv.Store, key func(string) string) {
	k := key("max")
	wantErr(t, "Set with a TTL over MaxTTL", s.Set(ctx(t), kv.Item{Key: k, TTL: kv.MaxTTL + time.Hour}), kv.ErrInvalidItem)
	mustSet(t, s, kv.Item{Key: k, Value: []byte("x"), TTL: kv.MaxTTL})
	if it := mustGet(t, s, k); it.TTL < kv.MaxTTL-time.Hour {
		t.Fatalf("MaxTTL read back as %v", it.TTL)
	}
}

// A read-modify-CAS loop keeps the item's expiry when it writes back the
// TTL it read.
func testCASKeepsTTL(t *testing.T, _ Harness, s kv.Store, key func(string) string) {
	k := key("cas-ttl")
	if err := s.Add(ctx(t), kv.Item{Key: k, Value: []byte("1"), TTL: time.Hour}); err != nil {
		t.Fatal(err)
	}
	it := mustGet(t, s, k)
	it.Value = []byte("2")
	if err := s.CompareAndSwap(ctx(t), it); err != nil {
		t.Fatalf("CAS with the version Add gave: %v", err)
	}
	if got := mustGet(t, s, k); got.TTL <= 58*time.Minute || string(got.Value) != "2" {
		t.Fatalf("after CAS with the TTL read: %+v, want value 2 with just under 1h left", got)
	}
}

func testInvalidItems(t *testing.T, _ Harness, s kv.Store, key func(string) string) {
	c := ctx(t)
	k := key("item")
	wantErr(t, "Set with a negative TTL", s.Set(c, kv.Item{Key: k, TTL: -time.Second}), kv.ErrInvalidItem)
	wantErr(t, "CAS without a version", s.CompareAndSwap(c, kv.Item{Key: k}), kv.ErrInvalidItem)
	_, err := s.Get(c, k)
	wantErr(t, "Get after refused writes", err, kv.ErrNotFound)
}

func testNamespace(t *testing.T, h Harness, plain kv.Store, key func(string) string) {
	a := h.New(t, kv.WithNamespace(key("a:")))
	b := h.New(t, kv.WithNamespace(key("b:")))
	defer a.Close()
	defer b.Close()
	mustSet(t, a, kv.Item{Key: "k", Value: []byte("in a")})
	if _, err := b.Get(ctx(t), "k"); !errors.Is(err, kv.ErrNotFound) {
		t.Fatalf("namespace b sees a's key: %v", err)
	}
	if it := mustGet(t, plain, key("a:")+"k"); string(it.Value) != "in a" {
		t.Fatalf("namespaced key stored as %q", it.Value)
	}
	got, err := a.GetMulti(ctx(t), []string{"k", "other"})
	if err != nil || len(got) != 1 || got["k"].Key != "k" {
		t.Fatalf("namespaced GetMulti = %v, %v; want the caller's key", got, err)
	}
	long := strings.Repeat("k", kv.MaxKeyLen-len(key("a:"))+1)
	wantErr(t, "Set of a key too long with its namespace", a.Set(ctx(t), kv.Item{Key: long}), kv.ErrInvalidKey)
}

// A call the caller cancelled fails with context.Canceled, and never
// blames the backend with ErrUnavailable.
func testCancelledContext(t *testing.T, _ Harness, s kv.Store, key func(string) string) {
	c, cancel := context.WithCancel(context.Background())
	cancel()
	k := key("x")
	_, getErr := s.Get(c, k)
	_, multiErr := s.GetMulti(c, []string{k, key("y")})
	for op, err := range map[string]error{
		"Get":            getErr,
		"GetMulti":       multiErr,
		"Set":            s.Set(c, kv.Item{Key: k}),
		"Add":            s.Add(c, kv.Item{Key: k}),
		"CompareAndSwap": s.CompareAndSwap(c, kv.Item{Key: k, Version: 1}),
		"Delete":         s.Delete(c, k),
	} {
		if !errors.Is(err, context.Canceled) || errors.Is(err, kv.ErrUnavailable) {
			t.Errorf("%s with a cancelled ctx: %v, want context.Canceled and not ErrUnavailable", op, err)
		}
	}
}

func testUseAfterClose(t *testing.T, _ Harness, s kv.Store, key func(string) string) {
	k := key("closed")
	mustSet(t, s, kv.Item{Key: k, Value: []byte("kept")})
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	c := ctx(t)
	_, err := s.Get(c, k)
	wantErr(t, "Get after Close", err, kv.ErrClosed)
	_, err = s.GetMulti(c, []string{k})
	wantErr(t, "GetMulti after Close", err, kv.ErrClosed)
	_, err = s.GetMulti(c, nil)
	wantErr(t, "GetMulti(nil) after Close", err, kv.ErrClosed)
	wantErr(t, "Set after Close", s.Set(c, kv.Item{Key: k}), kv.ErrClosed)
	wantErr(t, "Add after Close", s.Add(c, kv.Item{Key: k}), kv.ErrClosed)
	wantErr(t, "CAS after Close", s.CompareAndSwap(c, kv.Item{Key: k, Version: 1}), kv.ErrClosed)
	wantErr(t, "Delete after Close", s.Delete(c, k), kv.ErrClosed)
}

// Close while calls are in flight: a hook counts the calls inside the
// Store, and Close runs only once one is seen inside. Every call returns
// (a result or ErrClosed), Close returns, and the leak check of the
// adapter's TestMain finds nothing left.
func testCloseDuringCalls(t *testing.T, h Harness, _ kv.Store, key func(string) string) {
	var inside atomic.Int64
	s := h.New(t, kv.WithHook(func(next kv.Invoker) kv.Invoker {
		return func(ctx context.Context, c *kv.Call) error {
			inside.Add(1)
			defer inside.Add(-1)
			return next(ctx, c)
		}
	}))
	k := key("closing")
	mustSet(t, s, kv.Item{Key: k, Value: []byte("x")})
	var wg sync.WaitGroup
	var stop atomic.Bool
	errs := make(chan error, 16)
	for g := 0; g < 16; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for !stop.Load() {
				_, err := s.Get(context.Background(), k)
				if err != nil {
					if !errors.Is(err, kv.ErrClosed) {
						errs <- err
					}
					return
				}
			}
		}()
	}
	for inside.Load() == 0 {
		runtime.Gosched()
	}
	err := s.Close()
	stop.Store(true)
	if err != nil {
		t.Fatalf("Close during calls: %v", err)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("a call racing Close: %v, want a result or ErrClosed", err)
	}
	if _, err := s.Get(context.Background(), k); !errors.Is(err, kv.ErrClosed) {
		t.Errorf("Get after Close: %v, want ErrClosed", err)
	}
}

// A call blocked inside the driver (a hung backend) when Close runs:
// Close waits for it, so the call has returned (by its deadline, as
// ErrUnavailable) before Close does. A call that ends with
// ErrUnavailable was admitted before Close refused new calls, so it was
// in flight; one that got ErrClosed came too late, and the round is
// tried again.
func testCloseWaitsForHungCall(t *testing.T, h Harness) {
	for round := 0; round < 50; round++ {
		// The backend never answers: the call leaves the driver only when
		// its ctx ends, not before callDeadline.
		s, callDeadline, done, cancel := startHungGet(t, h, 300*time.Millisecond)
		if err := s.Close(); err != nil {
			t.Fatalf("Close: %v", err)
		}
		closed := time.Now()
		err := <-done
		cancel()
		if errors.Is(err, kv.ErrClosed) {
			continue // Close came first: no call was in flight
		}
		if !errors.Is(err, kv.ErrUnavailable) {
			t.Fatalf("the hung call: %v, want ErrUnavailable", err)
		}
		if closed.Before(callDeadline) {
			t.Fatalf("Close returned %v before the call in flight could leave the driver", callDeadline.Sub(closed))
		}
		return
	}
	t.Fatal("in 50 rounds no call was in flight when Close ran")
}

// startHungGet starts a Get with the given timeout on a store whose
// backend never answers, and gives the goroutine a chance to enter the
// driver before the caller closes the store.
func startHungGet(t *testing.T, h Harness, timeout time.Duration) (s kv.Store, callDeadline time.Time, done <-chan error, cancel context.CancelFunc) {
	s = h.Hung(t)
	c, cancel := context.WithTimeout(context.Background(), timeout)
	callDeadline, _ = c.Deadline()
	started := make(chan struct{})
	errc := make(chan error, 1)
	go func() {
		close(started)
		_, err := s.Get(c, "k")
		errc <- err
	}()
	<-started
	runtime.Gosched()
	return s, callDeadline, errc, cancel
}

// Shutdown with a call blocked in the driver for longer than Shutdown's
// own deadline: Shutdown returns by its deadline (before the call's) with
// an error of class DeadlineExceeded, and the call still returns.
func testShutdownDeadline(t *testing.T, h Harness) {
	for round := 0; round < 50; round++ {
		s, callDeadline, done, cancel := startHungGet(t, h, 2*time.Second)
		sc, scancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
		err := s.Shutdown(sc)
		scancel()
		returned := time.Now()
		callErr := <-done
		cancel()
		if err == nil {
			// No call was in flight: Shutdown came first.
			if !errors.Is(callErr, kv.ErrClosed) {
				t.Fatalf("Shutdown returned nil while a call was in flight (it got %v)", callErr)
			}
			continue
		}
		// The call in flight ends by its own deadline, or earlier with
		// ErrClosed when the driver's Close cuts it.
		if !errors.Is(callErr, kv.ErrUnavailable) && !errors.Is(callErr, kv.ErrClosed) {
			t.Fatalf("the call in flight: %v, want ErrUnavailable or ErrClosed", callErr)
		}
		if oserr.Code(err) != oserr.DeadlineExceeded {
			t.Fatalf("Shutdown with a call hung past its deadline: %v, want class DeadlineExceeded", err)
		}
		if !returned.Before(callDeadline) {
			t.Fatal("Shutdown waited for the hung call instead of its own deadline")
		}
		if again := s.Close(); again == nil || again.Error() != err.Error() {
			t.Fatalf("Close after Shutdown: %v, want Shutdown's result again (%v)", again, err)
		}
		return
	}
	t.Fatal("in 50 rounds no call was in flight when Shutdown ran")
}

func testHung(t *testing.T, h Harness) {
	s := h.Hung(t)
	defer s.Close()
	const deadline = 200 * time.Millisecond
	for op, call := range map[string]func(context.Context) error{
		"Get":      func(c context.Context) error { _, err := s.Get(c, "k"); return err },
		"Set":      func(c context.Context) error { return s.Set(c, kv.Item{Key: "k"}) },
		"GetMulti": func(c context.Context) error { _, err := s.GetMulti(c, []string{"a", "b"}); return err },
	} {
		c, cancel := context.WithTimeout(context.Background(), deadline)
		start := time.Now()
		err := call(c)
		took := time.Since(start)
		cancel()
		if !errors.Is(err, kv.ErrUnavailable) || !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("%s on a hung backend: %v, want ErrUnavailable and context.DeadlineExceeded", op, err)
		}
		// DeadlineExceeded above says the ctx ended the call; the bound
		// only catches a call that waited on something else (the
		// client's own read timeout, a retry) far past it, loose enough
		// for a loaded machine under -race.
		if took > 5*deadline {
			t.Errorf("%s on a hung backend took %v, far past its %v deadline", op, took, deadline)
		}
	}
}

func testUnreachable(t *testing.T, h Harness) {
	s := h.Unreachable(t)
	defer s.Close()
	c, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	start := time.Now()
	_, err := s.Get(c, "k")
	wantErr(t, "Get from an unreachable backend", err, kv.ErrUnavailable)
	if errors.Is(err, kv.ErrNotFound) {
		t.Fatalf("down is reported as missing: %v", err)
	}
	wantErr(t, "Set to an unreachable backend", s.Set(c, kv.Item{Key: "k"}), kv.ErrUnavailable)
	_, err = s.GetMulti(c, []string{"a", "b"})
	wantErr(t, "GetMulti from an unreachable backend", err, kv.ErrUnavailable)
	if took := time.Since(start); took > 2500*time.Millisecond {
		t.Fatalf("calls took %v, past their 2s deadline", took)
	}
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

func testCheckHealthy(t *testing.T, _ Harness, s kv.Store, key func(string) string) {
	c := ctx(t)
	if err := s.Check(c); err != nil {
		t.Fatalf("Check of a new store: %v", err)
	}
	mustSet(t, s, kv.Item{Key: key("k"), Value: []byte("v")})
	if _, err := s.Get(c, key("missing")); !errors.Is(err, kv.ErrNotFound) {
		t.Fatalf("Get missing: %v", err)
	}
	if err := s.Check(c); err != nil {
		t.Fatalf("Check after a hit and a miss: %v", err)
	}
	done, cancel := context.WithCancel(c)
	cancel()
	if err := s.Check(done); err == nil {
		t.Fatal("Check with a done ctx: nil, want ctx's error")
	}
}

func testShutdownIdempotent(t *testing.T, _ Harness, s kv.Store, key func(string) string) {
	c := ctx(t)
	if err := s.Shutdown(c); err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	if err := s.Shutdown(c); err != nil {
		t.Fatalf("second Shutdown: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("Close after Shutdown: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("double Close: %v", err)
	}
	wantErr(t, "Set after Shutdown", s.Set(c, kv.Item{Key: key("k")}), kv.ErrClosed)
	if err := s.Check(c); !errors.Is(err, kv.ErrClosed) || oserr.Code(err) != oserr.Closed {
		t.Fatalf("Check after Close: %v, want ErrClosed", err)
	}
}

// Check through an outage: nil while the backend answers; once it is
// stopped an error of class Unavailable, returned before the ctx deadline
// (Check does not block); nil again once it is back.
func testCheckOutage(t *testing.T, h Harness) {
	s, down, up := h.Outage(t)
	defer s.Close()
	c := ctx(t)
	if err := s.Set(c, kv.Item{Key: "kvtest-check-" + randomHex(4), Value: []byte("v")}); err != nil {
		t.Fatalf("Set on a healthy backend: %v", err)
	}
	if err := s.Check(c); err != nil {
		t.Fatalf("Check while healthy: %v", err)
	}

	down()
	// No call since the last Check: Check probes (when the driver can)
	// or answers from the last call; either way one failed call settles it.
	// The deadline is far past what a refused dial takes (go-redis tries
	// five times, 100 ms apart): a Check that returns only at its deadline
	// blocked; one that returns before it did not, however loaded the
	// machine (2 s was missed in a stress run).
	check := func() error {
		cc, cancel := context.WithTimeout(context.Background(), 15*time.Second)
		defer cancel()
		err := s.Check(cc)
		if cc.Err() != nil {
			t.Fatalf("Check blocked until its deadline: %v", err)
		}
		return err
	}
	err := check()
	if err == nil {
		gc, cancel := context.WithTimeout(context.Background(), 15*time.Second)
		_, gerr := s.Get(gc, "kvtest-check-probe")
		cancel()
		if !errors.Is(gerr, kv.ErrUnavailable) {
			t.Fatalf("Get with the backend down: %v, want ErrUnavailable", gerr)
		}
		err = check()
	}
	if oserr.Code(err) != oserr.Unavailable || !errors.Is(err, kv.ErrUnavailable) {
		t.Fatalf("Check with the backend down: %v (class %v), want Unavailable", err, oserr.Code(err))
	}

	up()
	// The client reconnects on the next call; a few calls may still fail
	// while it does.
	deadline := time.Now().Add(10 * time.Second)
	for {
		gc, cancel := context.WithTimeout(context.Background(), time.Second)
		_, gerr := s.Get(gc, "kvtest-check-probe")
		cancel()
		if errors.Is(gerr, kv.ErrNotFound) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("backend back up, Get still: %v", gerr)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err := check(); err != nil {
		t.Fatalf("Check with the backend back: %v", err)
	}
}
