package ringkv

import (
	"context"
	"net/url"
	"slices"
	"sync"

	"github.com/microos/go-os/kv"
)

// repairSet is the keys whose copies may differ: written while an owner
// was unreachable, or picked by read repair. Bounded: past maxRepairs,
// the handoff of the next membership change is what restores copies.
type repairSet struct {
	mu   sync.Mutex
	keys map[string]struct{}
}

const maxRepairs = 1 << 16

func (s *repairSet) add(key string) {
	s.mu.Lock()
	if s.keys == nil {
		s.keys = make(map[string]struct{})
	}
	if len(s.keys) < maxRepairs {
		s.keys[key] = struct{}{}
	}
	s.mu.Unlock()
}

func (s *repairSet) take() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]string, 0, len(s.keys))
	for k := range s.keys {
		out = append(out, k)
	}
	clear(s.keys)
	return out
}

func (s *repairSet) len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.keys)
}

// peekPeer returns peer's record of key, tombstones included.
func (r *Ring) peekPeer(ctx context.Context, peer, key string) (record, bool, error) {
	q := url.Values{}
	q.Set("k", key)
	answer, err := r.post(ctx, peer, "peek", q, nil)
	if err == kv.ErrNotFound {
		return record{}, false, nil
	}
	if err != nil {
		return record{}, false, err
	}
	var rec record
	found := false
	err = readRecs(answer, func(x record) error {
		x.Value = clone(x.Value)
		rec, found = x, true
		return nil
	})
	return rec, found, err
}

// repairKey makes the copies of key on its owners the newest of them and
// reports whether every owner was reached. An instance that no longer
// owns key pushes its copy to the owners and drops it.
func (r *Ring) repairKey(ctx context.Context, key string) bool {
	v := r.view.Load()
	var buf [4]int
	pref := v.pref(key, buf[:0])
	mine := v.self >= 0 && slices.Contains(pref, v.self)
	best, have := r.local.peek(key)
	type copyOf struct {
		peer    string
		version uint64
	}
	var others []copyOf
	ok := true
	for _, m := range pref {
		if m == v.self {
			continue
		}
		if r.suspect(v.peers[m]) {
			ok = false // just failed: not worth a timeout per read
			continue
		}
		rec, found, err := r.peekPeer(ctx, v.peers[m], key)
		if err != nil {
			ok = false
			continue
		}
		var ver uint64
		if found {
			ver = rec.Version
			if !have || rec.Version > best.Version {
				best, have = rec, true
			}
		}
		others = append(others, copyOf{v.peers[m], ver})
	}
	if !have {
		return ok
	}
	if mine {
		r.local.merge(best)
	}
	body := appendRec(nil, best)
	for _, o := range others {
		if o.version < best.Version {
			if err := r.replicateTo(ctx, o.peer, body); err != nil {
				ok = false
			}
		}
	}
	if !mine && ok {
		r.local.drop(key, best.Version)
	}
	return ok
}
