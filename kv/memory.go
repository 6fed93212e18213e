package kv

import (
	"context"
	"hash/maphash"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"
)

// NewMemory returns a complete in-process Store: TTL expiry, versions and
// compare-and-swap, safe for concurrent use. It is what unit tests and the
// embedded default use. WithClock gives it a fake clock.
func NewMemory(opts ...Option) Store {
	return New(NewMemoryDriver(opts...), opts...)
}

// NewMemoryDriver returns the memory backend itself, so that several Stores
// (say, with different namespaces) can share one: New(d, WithNamespace(...)).
// Closing a Store over it does not clear it; it is freed with its last Store.
// Of opts it uses only WithClock.
func NewMemoryDriver(opts ...Option) Driver {
	return newMemory(collect(opts).now)
}

type memEntry struct {
	value   []byte
	expires time.Time // zero: never
	version uint64
}

// memory shards its map so that readers on many cores do not contend on
// one lock's reader count.
type memory struct {
	now     func() time.Time
	seed    maphash.Seed
	version atomic.Uint64
	shards  [memShards]memShard
}

const memShards = 16

type memShard struct {
	mu sync.RWMutex
	m  map[string]memEntry
	// sweepAt is the map size at which the next write sweeps expired
	// entries: twice the live size after the last sweep, so sweeping costs
	// O(1) amortised per write and needs no goroutine.
	sweepAt int
	_       [24]byte // 64 bytes a shard: neighbours do not share a cache line
}

func newMemory(now func() time.Time) *memory {
	m := &memory{now: now, seed: maphash.MakeSeed()}
	// Versions start at a random point, so that two memories (the
	// instances of a ringkv ring) do not hand out the same version for
	// different values, and a CAS read on one cannot succeed on another.
	m.version.Store(rand.Uint64() >> 1)
	for i := range m.shards {
		m.shards[i] = memShard{m: make(map[string]memEntry), sweepAt: 1024}
	}
	return m
}

func (m *memory) shard(key string) *memShard {
	return &m.shards[maphash.String(m.seed, key)%memShards]
}

// live reports whether e holds a value at now; now is read only for entries
// that can expire, because reading the clock costs more than the lookup.
func (e memEntry) live(now func() time.Time) (ttl time.Duration, ok bool) {
	if e.value == nil {
		return 0, false
	}
	if e.expires.IsZero() {
		return 0, true
	}
	ttl = e.expires.Sub(now())
	return ttl, ttl > 0
}

func (m *memory) Get(ctx context.Context, key string) (Item, error) {
	if err := ctx.Err(); err != nil {
		return Item{}, err
	}
	sh := m.shard(key)
	sh.mu.RLock()
	e := sh.m[key]
	sh.mu.RUnlock()
	ttl, ok := e.live(m.now)
	if !ok {
		return Item{}, ErrNotFound
	}
	return Item{Value: clone(e.value), TTL: ttl, Version: e.version}, nil
}

func (m *memory) GetMulti(ctx context.Context, keys []string, found func(int, Item)) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	for i, k := range keys {
		sh := m.shard(k)
		sh.mu.RLock()
		e := sh.m[k]
		sh.mu.RUnlock()
		if ttl, ok := e.live(m.now); ok {
			found(i, Item{Value: clone(e.value), TTL: ttl, Version: e.version})
		}
	}
	return nil
}

func (m *memory) Set(ctx context.Context, it Item) error {
	return m.write(ctx, it, func(memEntry, bool) error { return nil })
}

func (m *memory) Add(ctx context.Context, it Item) error {
	return m.write(ctx, it, func(_ memEntry, exists bool) error {
		if exists {
			return ErrExists
		}
		return nil
	})
}

func (m *memory) CompareAndSwap(ctx context.Context, it Item) error {
	return m.write(ctx, it, func(cur memEntry, exists bool) error {
		switch {
		case !exists:
			return ErrNotFound
		case cur.version != it.Version:
			return ErrConflict
		}
		return nil
	})
}

// write stores it if allow, given the current entry, returns nil.
func (m *memory) write(ctx context.Context, it Item, allow func(cur memEntry, exists bool) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	e := memEntry{value: clone(it.Value)}
	if it.TTL > 0 {
		e.expires = m.now().Add(it.TTL)
	}
	sh := m.shard(it.Key)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	cur := sh.m[it.Key]
	_, exists := cur.live(m.now)
	if err := allow(cur, exists); err != nil {
		return err
	}
	e.version = m.version.Add(1)
	sh.m[it.Key] = e
	if len(sh.m) >= sh.sweepAt {
		sh.sweep(m.now)
	}
	return nil
}

func (sh *memShard) sweep(now func() time.Time) {
	for k, e := range sh.m {
		if _, ok := e.live(now); !ok {
			delete(sh.m, k)
		}
	}
	sh.sweepAt = max(2*len(sh.m), 1024)
}

func (m *memory) Delete(ctx context.Context, key string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	sh := m.shard(key)
	sh.mu.Lock()
	delete(sh.m, key)
	sh.mu.Unlock()
	return nil
}

// Prune deletes the keys drop returns true for and says how many went.
// ringkv uses it to drop the keys an instance no longer owns.
func (m *memory) Prune(drop func(key string) bool) int {
	n := 0
	for i := range m.shards {
		sh := &m.shards[i]
		sh.mu.Lock()
		for k := range sh.m {
			if drop(k) {
				delete(sh.m, k)
				n++
			}
		}
		sh.mu.Unlock()
	}
	return n
}

// Pruner is implemented by the memory driver (NewMemoryDriver).
type Pruner interface {
	Prune(drop func(key string) bool) int
}

func (m *memory) closeSafe() {}

// Close does nothing: the data lives as long as a Store refers to it, so
// that Stores sharing the driver outlive each other.
// System names the backend in traces and logs.
func (m *memory) System() string { return "memory" }

func (m *memory) Close() error { return nil }

// clone copies v, keeping an empty value distinct from a missing one.
func clone(v []byte) []byte {
	if v == nil {
		return []byte{}
	}
	return append(make([]byte, 0, len(v)), v...)
}
