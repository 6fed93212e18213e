package redact

import (
	"sync/atomic"
	"unsafe"

	"github.com/microos/go-os/internal/jsonw"
)

// cacheSlots is the size of a KeyCache: a program logs a few dozen
// distinct keys, each from a string constant.
const (
	cacheBits  = 9
	cacheSlots = 1 << cacheBits
)

// KeyCache remembers the answer of Keys.Secret per key string, for a hot
// path that sees the same keys on every line. A key is known by the
// address and length of its bytes, not by its text: the keys of a log
// line are string constants, so a lookup is a hash of the address and a
// comparison, whatever the key's length. Because strings are immutable
// and a slot holds a reference to the key it remembers (so that its
// memory cannot be reused for another string while remembered), the same
// address and length mean the same text. A key built at run time has a
// new address each time: it misses, is checked with Keys.Secret and
// takes the slot, without allocating.
//
// A KeyCache never allocates and is safe for concurrent use: each slot is
// a sequence lock, a reader that races a writer takes the slow path.
type KeyCache struct {
	keys  *Keys
	slots [cacheSlots]cacheSlot
}

type cacheSlot struct {
	seq  atomic.Uint32 // odd while a writer fills the slot
	meta atomic.Uint32 // len<<2 | plain<<1 | secret; 0 when empty
	ptr  atomic.Pointer[byte]
}

// NewKeyCache returns a cache in front of keys.
func NewKeyCache(keys *Keys) *KeyCache { return &KeyCache{keys: keys} }

// Keys returns the matcher the cache is in front of.
func (c *KeyCache) Keys() *Keys { return c.keys }

// Secret reports what c.Keys().Secret(key) reports.
func (c *KeyCache) Secret(key string) bool {
	secret, _ := c.Lookup(key)
	return secret
}

// Lookup reports what c.Keys().Secret(key) reports and, as plain, whether
// key goes into a JSON string as it is (jsonw.Plain): an encoder that asks
// both skips its own scan of the key.
func (c *KeyCache) Lookup(key string) (secret, plain bool) {
	if len(key) == 0 || len(key) >= 1<<29 {
		return c.keys.Secret(key), jsonw.Plain(key)
	}
	p := unsafe.StringData(key)
	i := slotOf(p)
	if m, ok := c.slots[i].get(p, len(key)); ok {
		return m&1 != 0, m&2 != 0
	}
	if m, ok := c.slots[i^1].get(p, len(key)); ok {
		return m&1 != 0, m&2 != 0
	}
	m := c.fill(i, p, key)
	return m&1 != 0, m&2 != 0
}

// slotOf hashes an address onto a slot (Fibonacci hashing: constants laid
// out next to each other land far apart). Slots i and i^1 form a set:
// two keys that hash alike both stay.
func slotOf(p *byte) uintptr {
	return uintptr(uint64(uintptr(unsafe.Pointer(p))) * 0x9e3779b97f4a7c15 >> (64 - cacheBits))
}

// get returns the flags s holds for the key at p of length n, ok false
// when it holds another key or a writer is filling it.
func (s *cacheSlot) get(p *byte, n int) (flags uint32, ok bool) {
	seq := s.seq.Load()
	if seq&1 != 0 || s.ptr.Load() != p {
		return 0, false
	}
	meta := s.meta.Load()
	if meta>>2 != uint32(n) || s.seq.Load() != seq {
		return 0, false
	}
	return meta & 3, true
}

// fill checks key and stores its flags in the set of slot i: in an empty
// slot, else in the one filled more often, so that keys built at run time
// (a new address every line) churn one slot of a set while a constant
// keeps the other. A slot another writer holds is left alone.
func (c *KeyCache) fill(i uintptr, p *byte, key string) uint32 {
	flags := uint32(0)
	if c.keys.Secret(key) {
		flags |= 1
	}
	if jsonw.Plain(key) {
		flags |= 2
	}
	s, t := &c.slots[i], &c.slots[i^1]
	if s.meta.Load() != 0 && (t.meta.Load() == 0 || t.seq.Load() >= s.seq.Load()) {
		s = t
	}
	seq := s.seq.Load()
	if seq&1 == 0 && s.seq.CompareAndSwap(seq, seq+1) {
		s.ptr.Store(p)
		s.meta.Store(uint32(len(key))<<2 | flags)
		s.seq.Store(seq + 2)
	}
	return flags
}
