package kv

import (
	"context"
	"sync"
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

type memory struct {
	now func() time.Time

	mu      sync.RWMutex
	m       map[string]memEntry
	version uint64
	// sweepAt is the map size at which the next write sweeps expired
	// entries: twice the live size after the last sweep, so sweeping costs
	// O(1) amortised per write and needs no goroutine.
	sweepAt int
}

func newMemory(now func() time.Time) *memory {
	return &memory{now: now, m: make(map[string]memEntry), sweepAt: 1024}
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
	m.mu.RLock()
	e := m.m[key]
	m.mu.RUnlock()
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
	m.mu.RLock()
	defer m.mu.RUnlock()
	for i, k := range keys {
		e := m.m[k]
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
	m.mu.Lock()
	defer m.mu.Unlock()
	cur := m.m[it.Key]
	_, exists := cur.live(m.now)
	if err := allow(cur, exists); err != nil {
		return err
	}
	m.version++
	e.version = m.version
	m.m[it.Key] = e
	if len(m.m) >= m.sweepAt {
		m.sweep()
	}
	return nil
}

func (m *memory) sweep() {
	for k, e := range m.m {
		if _, ok := e.live(m.now); !ok {
			delete(m.m, k)
		}
	}
	m.sweepAt = max(2*len(m.m), 1024)
}

func (m *memory) Delete(ctx context.Context, key string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	m.mu.Lock()
	delete(m.m, key)
	m.mu.Unlock()
	return nil
}

// Close does nothing: the data lives as long as a Store refers to it, so
// that Stores sharing the driver outlive each other.
func (m *memory) Close() error { return nil }

// clone copies v, keeping an empty value distinct from a missing one.
func clone(v []byte) []byte {
	if v == nil {
		return []byte{}
	}
	return append(make([]byte, 0, len(v)), v...)
}
