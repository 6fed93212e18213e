package ringkv

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"

	"github.com/microos/go-os/kv"
)

// own runs c on this instance as an owner of its key: it decides c when
// it is the primary in its view (or the sender could not reach the
// owners before it), and forwards it once to the primary otherwise, so
// that a call sent with a stale view is redirected, never lost.
func (r *Ring) own(ctx context.Context, c call) (kv.Item, error) {
	v := r.view.Load()
	var buf [4]int
	return r.ownIn(ctx, &c, v, v.pref(c.key, buf[:0]))
}

// ownIn is own with the view and the key's owners in it.
func (r *Ring) ownIn(ctx context.Context, c *call, v *view, pref []int) (kv.Item, error) {
	if r.closing.Load() {
		return kv.Item{}, errLeaving
	}
	idx := -1
	if v.self >= 0 {
		idx = slices.Index(pref, v.self)
	}
	if !c.forced {
		if idx == 0 && r.syncing.Load() {
			// Joined and not handed its keys yet: the previous owner decides.
			if prev := r.prevOwner(c.key); prev != "" {
				fc := *c
				fc.forced, fc.hops = true, c.hops+1
				it, err := r.send(ctx, prev, fc)
				if !isDown(err) || ctx.Err() != nil {
					return it, err
				}
			}
		}
		switch {
		case idx != 0 && c.pos == 0 && c.hops == 0:
			for j, m := range pref {
				if m == v.self {
					continue
				}
				fc := *c
				fc.pos, fc.hops = j, 1
				it, err := r.send(ctx, v.peers[m], fc)
				if !isDown(err) || ctx.Err() != nil {
					return it, err
				}
			}
			if idx < 0 {
				return kv.Item{}, errNotOwner
			}
		case idx < 0:
			return kv.Item{}, errNotOwner
		}
	}
	return r.decide(ctx, c, idx == 0 && !c.forced)
}

// prevOwner is the primary of key in the ring without this instance,
// while it joins.
func (r *Ring) prevOwner(key string) string {
	r.syncMu.Lock()
	prev := r.syncPrev
	r.syncMu.Unlock()
	if prev == nil {
		return ""
	}
	var buf [4]int
	pref := prev.pref(key, buf[:0])
	if len(pref) == 0 {
		return ""
	}
	return prev.peers[pref[0]]
}

// decide performs c here. A primary reads its own copy; an owner standing
// in for an unreachable primary first compares the copies of the owners
// it can reach and repairs the stale ones. A write is stored here, then
// on the other owners.
func (r *Ring) decide(ctx context.Context, c *call, primary bool) (kv.Item, error) {
	if c.op == "get" && primary {
		return r.getPrimary(ctx, c.key)
	}
	if err := ctx.Err(); err != nil {
		return kv.Item{}, err
	}
	if c.op == "get" {
		if !c.forced {
			r.repairKey(ctx, c.key)
		}
		return r.local.get(c.key)
	}
	var check func(*entry) error
	switch c.op {
	case "set", "delete":
		check = func(*entry) error { return nil }
	case "add":
		check = func(cur *entry) error {
			if cur != nil {
				return kv.ErrExists
			}
			return nil
		}
	case "cas":
		check = func(cur *entry) error {
			switch {
			case cur == nil:
				return kv.ErrNotFound
			case cur.version != c.version:
				return kv.ErrConflict
			}
			return nil
		}
	default:
		return kv.Item{}, fmt.Errorf("%w: unknown operation %q", kv.ErrInvalidItem, c.op)
	}
	r.viewMu.RLock()
	rec, err := r.local.decide(c.key, c.value, c.ttl, c.op == "delete", check)
	r.viewMu.RUnlock()
	if err != nil {
		return kv.Item{}, err
	}
	return kv.Item{}, r.replicate(ctx, rec)
}

// getPrimary is a get decided here as the key's primary: it reads this
// instance's copy, and picks a fraction of the reads for read repair.
func (r *Ring) getPrimary(ctx context.Context, key string) (kv.Item, error) {
	if err := ctx.Err(); err != nil {
		return kv.Item{}, err
	}
	r.sampleRepair(key)
	return r.local.get(key)
}

// sampleRepair queues key for read repair with the probability
// WithReadRepair sets; N=1 (repairBelow 0) draws no random number.
func (r *Ring) sampleRepair(key string) {
	if r.repairBelow > 0 && rand.Uint64() < r.repairBelow {
		r.repairs.add(key)
		r.wake()
	}
}

// replicate copies rec to the key's other owners in the current view and
// waits for the write quorum. An owner that cannot be reached is left for
// the repair worker.
func (r *Ring) replicate(ctx context.Context, rec record) error {
	v := r.view.Load()
	var buf [4]int
	pref := v.pref(rec.Key, buf[:0])
	var targets []string
	for _, m := range pref {
		if m != v.self {
			targets = append(targets, v.peers[m])
		}
	}
	if len(targets) == 0 {
		return nil
	}
	body := appendRec(nil, rec)
	errs := make([]error, len(targets))
	if len(targets) == 1 {
		errs[0] = r.replicateTo(ctx, targets[0], body)
	} else {
		var wg sync.WaitGroup
		for i, t := range targets {
			wg.Add(1)
			go func() {
				defer wg.Done()
				errs[i] = r.replicateTo(ctx, t, body)
			}()
		}
		wg.Wait()
	}
	acks, downs := 1, 0 // this instance's copy
	var failed error
	for _, err := range errs {
		switch {
		case err == nil:
			acks++
		case isDown(err):
			downs++
			failed = errors.Join(failed, err)
		default:
			failed = errors.Join(failed, err)
		}
	}
	if downs > 0 {
		r.repairs.add(rec.Key)
		r.wake()
	}
	need := r.o.writeQuorum
	if need == 0 {
		need = len(targets) + 1 - downs // every owner that could be reached
	}
	need = min(need, len(targets)+1)
	if acks < need {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return kv.Unavailable(fmt.Errorf("ringkv: %q stored on %d of the %d owners the write quorum needs: %w", rec.Key, acks, need, failed))
	}
	return nil
}
