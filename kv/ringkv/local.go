package ringkv

import (
	"sync"
	"sync/atomic"
	"time"

	"github.com/microos/go-os/kv"
)

// record is one key's state as it travels between instances: a value, or
// a tombstone (Dead) that keeps a delete from being undone by an older
// copy coming back through a handoff or a repair.
type record struct {
	Key     string
	Value   []byte
	TTL     time.Duration // time left; 0: no expiry
	Version uint64
	Dead    bool
}

// entry is a record in this instance's memory, on its LRU list. Its
// fields other than stamp and the links are not changed once it is in a
// shard's map: a write puts a new entry.
type entry struct {
	key        string
	value      []byte
	expires    time.Time // zero: never
	version    uint64
	dead       bool
	size       int64
	stamp      atomic.Uint64 // shard.tick when last moved to the front
	prev, next *entry
}

// entryOverhead approximates what an entry costs beyond its key and value
// (the struct, the map slot, the list links), so that many small items
// count against the byte bound too.
const entryOverhead = 96

const localShards = 16

// local is this instance's share of the ring: sharded maps with one LRU
// list per shard, bounded in bytes (each shard a sixteenth of the bound).
type local struct {
	now       func() time.Time
	clock     atomic.Uint64 // the latest version handed out or seen
	maxShard  int64         // 0: unbounded
	tombTTL   time.Duration
	evictions atomic.Int64
	shards    [localShards]lshard
}

type lshard struct {
	mu    sync.RWMutex
	m     map[string]*entry
	head  entry // sentinel: head.next is the most recently used
	bytes int64
	// tick counts moves to the front; an entry moved within the last
	// quarter of the shard's entries is not moved again by a read, so
	// that reads of hot keys share the read lock (approximate LRU).
	tick atomic.Uint64
	// sweepAt is the map size at which a write sweeps expired entries:
	// twice the live size after the last sweep (O(1) amortised).
	sweepAt int
}

func newLocal(now func() time.Time, maxBytes int64, tombTTL time.Duration) *local {
	l := &local{now: now, tombTTL: tombTTL}
	if maxBytes > 0 {
		l.maxShard = max(maxBytes/localShards, 1)
	}
	for i := range l.shards {
		sh := &l.shards[i]
		sh.m = make(map[string]*entry)
		sh.sweepAt = 1024
		sh.head.next, sh.head.prev = &sh.head, &sh.head
	}
	return l
}

// nextVersion is a hybrid logical clock: the wall clock in nanoseconds,
// or one more than the latest version seen when that is later. A new
// primary therefore versions its writes above every copy handed to it,
// so "the higher version wins" settles which copy is the newer one.
func (l *local) nextVersion() uint64 {
	wall := uint64(l.now().UnixNano())
	for {
		last := l.clock.Load()
		v := max(wall, last+1)
		if l.clock.CompareAndSwap(last, v) {
			return v
		}
	}
}

func (l *local) observe(v uint64) {
	for {
		last := l.clock.Load()
		if v <= last || l.clock.CompareAndSwap(last, v) {
			return
		}
	}
}

// shard is the shard of key. It is picked by the key's ring position,
// which a Get on the primary has computed already: one hash per Get.
// keyHash's low bits are mixed (its final step), and the map in the
// shard hashes with its own seed, so keys chosen to share a shard cost
// only lock contention.
func (l *local) shard(key string) *lshard { return l.shardAt(keyHash(key)) }

func (l *local) shardAt(h uint32) *lshard { return &l.shards[h%localShards] }

func (sh *lshard) unlink(e *entry) {
	e.prev.next, e.next.prev = e.next, e.prev
	e.prev, e.next = nil, nil
}

func (sh *lshard) pushFront(e *entry) {
	e.stamp.Store(sh.tick.Add(1))
	e.next, e.prev = sh.head.next, &sh.head
	sh.head.next.prev = e
	sh.head.next = e
}

func (sh *lshard) remove(e *entry) {
	sh.unlink(e)
	delete(sh.m, e.key)
	sh.bytes -= e.size
}

// expired reports whether e is past its expiry at now.
func (e *entry) expired(now time.Time) bool { return !e.expires.IsZero() && !now.Before(e.expires) }

func (e *entry) record(now time.Time) record {
	r := record{Key: e.key, Value: clone(e.value), Version: e.version, Dead: e.dead}
	if !e.expires.IsZero() {
		r.TTL = max(e.expires.Sub(now), time.Millisecond)
	}
	return r
}

// get returns the live value of key and marks it recently used; a miss
// (absent, a tombstone, expired) is kv.ErrNotFound.
func (l *local) get(key string) (kv.Item, error) { return l.getAt(keyHash(key), key) }

// getAt is get with the key's ring position h (keyHash(key)).
func (l *local) getAt(h uint32, key string) (kv.Item, error) {
	sh := l.shardAt(h)
	sh.mu.RLock()
	e := sh.m[key]
	if e == nil || e.dead {
		sh.mu.RUnlock()
		return kv.Item{}, kv.ErrNotFound
	}
	var ttl time.Duration
	if !e.expires.IsZero() {
		// expired(now) is now >= expires: the time left is not positive.
		if ttl = e.expires.Sub(l.now()); ttl <= 0 {
			sh.mu.RUnlock()
			return kv.Item{}, kv.ErrNotFound // removed by the next write or sweep
		}
	}
	recent := sh.tick.Load()-e.stamp.Load() <= uint64(len(sh.m)/4)
	sh.mu.RUnlock()
	// An entry's value, version and expiry never change once it is in the
	// map (a write replaces the entry), so the copy needs no lock.
	it := kv.Item{Value: clone(e.value), TTL: ttl, Version: e.version}
	if !recent {
		l.touch(sh, key, e)
	}
	return it, nil
}

// touch moves e to the front of its shard's LRU list, if it is still
// key's entry.
func (l *local) touch(sh *lshard, key string, e *entry) {
	sh.mu.Lock()
	if sh.m[key] == e {
		sh.unlink(e)
		sh.pushFront(e)
	}
	sh.mu.Unlock()
}

// peek returns key's record, tombstones included, without touching the
// LRU order: what a repair or a handoff compares.
func (l *local) peek(key string) (record, bool) {
	sh := l.shard(key)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	e := sh.m[key]
	if e == nil {
		return record{}, false
	}
	now := l.now()
	if e.expired(now) {
		sh.remove(e)
		return record{}, false
	}
	return e.record(now), true
}

// decide applies a client's write on the primary: check, given the live
// entry (nil when absent), says whether it may go ahead. It returns the
// record to replicate.
func (l *local) decide(key string, value []byte, ttl time.Duration, dead bool, check func(cur *entry) error) (record, error) {
	sh := l.shard(key)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	now := l.now()
	cur := sh.m[key]
	live := cur
	if live != nil && (live.dead || live.expired(now)) {
		live = nil
	}
	if err := check(live); err != nil {
		return record{}, err
	}
	e := &entry{key: key, value: clone(value), version: l.nextVersion(), dead: dead}
	if dead {
		e.value = nil
		if l.tombTTL > 0 {
			e.expires = now.Add(l.tombTTL)
		}
	} else if ttl > 0 {
		e.expires = now.Add(ttl)
	}
	if err := l.put(sh, e, now); err != nil {
		return record{}, err
	}
	return e.record(now), nil
}

// merge stores rec if it is newer than what this instance has, and says
// whether it did: replicas, handoffs and repairs all go through it, so
// the order they arrive in does not matter.
func (l *local) merge(rec record) (bool, error) {
	l.observe(rec.Version)
	sh := l.shard(rec.Key)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	now := l.now()
	if cur := sh.m[rec.Key]; cur != nil && cur.version >= rec.Version {
		return false, nil
	}
	e := &entry{key: rec.Key, value: clone(rec.Value), version: rec.Version, dead: rec.Dead}
	if rec.Dead {
		e.value = nil
		if l.tombTTL > 0 {
			e.expires = now.Add(l.tombTTL)
		}
	} else if rec.TTL > 0 {
		e.expires = now.Add(rec.TTL)
	}
	return true, l.put(sh, e, now)
}

// put replaces key's entry with e and evicts least recently used entries
// past the bound. sh.mu is held.
func (l *local) put(sh *lshard, e *entry, now time.Time) error {
	e.size = int64(len(e.key)+len(e.value)) + entryOverhead
	if l.maxShard > 0 && e.size > l.maxShard {
		return kv.Wrap(kv.ErrTooLarge, errTooLargeForBound(e.size, l.maxShard))
	}
	if old := sh.m[e.key]; old != nil {
		sh.remove(old)
	}
	sh.m[e.key] = e
	sh.pushFront(e)
	sh.bytes += e.size
	if len(sh.m) >= sh.sweepAt {
		for _, x := range sh.m {
			if x != e && x.expired(now) {
				sh.remove(x)
			}
		}
		sh.sweepAt = max(2*len(sh.m), 1024)
	}
	for l.maxShard > 0 && sh.bytes > l.maxShard {
		victim := sh.head.prev
		if victim == e {
			break
		}
		if !victim.expired(now) && !victim.dead {
			l.evictions.Add(1)
		}
		sh.remove(victim)
	}
	return nil
}

// drop removes key if it still has version: after a handoff, a write
// that came in meanwhile is kept.
func (l *local) drop(key string, version uint64) {
	sh := l.shard(key)
	sh.mu.Lock()
	if e := sh.m[key]; e != nil && e.version == version {
		sh.remove(e)
	}
	sh.mu.Unlock()
}

// snapshot returns every unexpired record (tombstones too), one shard
// locked at a time, for a handoff.
func (l *local) snapshot() []record {
	var out []record
	now := l.now()
	for i := range l.shards {
		sh := &l.shards[i]
		sh.mu.Lock()
		for _, e := range sh.m {
			if e.expired(now) {
				sh.remove(e)
				continue
			}
			out = append(out, e.record(now))
		}
		sh.mu.Unlock()
	}
	return out
}

// usage returns the live keys and the bytes held.
func (l *local) usage() (keys int, bytes int64) {
	for i := range l.shards {
		sh := &l.shards[i]
		sh.mu.Lock()
		for _, e := range sh.m {
			if !e.dead {
				keys++
			}
		}
		bytes += sh.bytes
		sh.mu.Unlock()
	}
	return keys, bytes
}

// clone copies v, keeping an empty value distinct from a missing one.
func clone(v []byte) []byte {
	if v == nil {
		return []byte{}
	}
	return append(make([]byte, 0, len(v)), v...)
}
