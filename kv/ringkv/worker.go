package ringkv

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"time"

	"github.com/microos/go-os/internal/backoff"
	"github.com/microos/go-os/kv"
)

// wake asks the worker to look for work.
func (r *Ring) wake() {
	select {
	case r.kick <- struct{}{}:
	default:
	}
}

// work is the ring's background goroutine: handoffs after membership
// changes, the join's wait for its keys, and repairs. It retries with
// capped exponential backoff and jitter.
func (r *Ring) work() {
	defer r.wg.Done()
	bo := backoff.Backoff{Min: 20 * time.Millisecond, Max: time.Second}
	for {
		failed := false
		if cur := r.view.Load(); cur != r.handedOff.Load() {
			if r.handoff(r.ctx, r.handedOff.Load(), cur) {
				r.handedOff.Store(cur)
			} else {
				failed = true
			}
		}
		if r.syncing.Load() && !r.trySync(r.ctx) {
			failed = true
		}
		for _, k := range r.repairs.take() {
			if !r.repairKey(r.ctx, k) {
				r.repairs.add(k)
				failed = true
			}
		}
		if r.ctx.Err() != nil {
			return
		}
		r.signalSettled()
		var retry <-chan time.Time
		var t *time.Timer
		if failed {
			t = time.NewTimer(bo.Next())
			retry = t.C
		} else {
			bo.Reset()
		}
		select {
		case <-r.kick:
		case <-retry:
		case <-r.ctx.Done():
		}
		if t != nil {
			t.Stop()
		}
	}
}

// handoff sends every key this instance holds to the owners it gains from
// old to cur (all its owners, when this instance is no longer one of
// them, after which it drops its copy). It reports whether every push
// got through.
func (r *Ring) handoff(ctx context.Context, old, cur *view) bool {
	if len(cur.peers) == 0 {
		return true // no owner to hand keys to: keep them
	}
	recs := r.local.snapshot()
	if len(recs) == 0 {
		return true
	}
	batches := map[string][]record{}
	var drops []record
	var buf, obuf [4]int
	for _, rec := range recs {
		pref := cur.pref(rec.Key, buf[:0])
		mine := cur.self >= 0 && slices.Contains(pref, cur.self)
		oldPref := old.pref(rec.Key, obuf[:0])
		for _, m := range pref {
			if m == cur.self {
				continue
			}
			peer := cur.peers[m]
			if mine && slices.ContainsFunc(oldPref, func(o int) bool { return old.peers[o] == peer }) {
				continue // it has the key already
			}
			batches[peer] = append(batches[peer], rec)
		}
		if !mine {
			drops = append(drops, rec)
		}
	}
	ok := true
	failedPeers := map[string]bool{}
	for peer, b := range batches {
		if err := r.push(ctx, peer, b); err != nil {
			r.log.Warn("ringkv: handoff failed; retrying", "self", r.self, "peer", peer, "records", len(b), "err", err)
			ok, failedPeers[peer] = false, true
		}
	}
	if ok {
		for _, rec := range drops {
			r.local.drop(rec.Key, rec.Version)
		}
	}
	return ok
}

// maxBatch bounds a handoff request's body.
const maxBatch = 1 << 20

// push sends recs to peer in batches.
func (r *Ring) push(ctx context.Context, peer string, recs []record) error {
	var body []byte
	flush := func() error {
		if len(body) == 0 {
			return nil
		}
		_, err := r.postBulk(ctx, peer, "replicate", url.Values{}, body)
		body = body[:0]
		return err
	}
	for _, rec := range recs {
		body = appendRec(body, rec)
		r.moved.Add(1)
		if len(body) >= maxBatch {
			if err := flush(); err != nil {
				return err
			}
		}
	}
	return flush()
}

// pushOwned sends peer every key this instance holds that peer owns.
func (r *Ring) pushOwned(ctx context.Context, peer string) error {
	v := r.view.Load()
	var recs []record
	var buf [4]int
	for _, rec := range r.local.snapshot() {
		for _, m := range v.pref(rec.Key, buf[:0]) {
			if v.peers[m] == peer {
				recs = append(recs, rec)
				break
			}
		}
	}
	return r.push(ctx, peer, recs)
}

// startSync marks this instance as joining v: until every other member
// confirms it has handed its keys over, the previous owners decide the
// keys this instance now owns.
func (r *Ring) startSync(v *view) {
	r.syncMu.Lock()
	defer r.syncMu.Unlock()
	r.syncWait = map[string]bool{}
	for i, p := range v.peers {
		if i != v.self {
			r.syncWait[p] = true
		}
	}
	r.updateSyncLocked(v)
}

func (r *Ring) updateSync(v *view) {
	r.syncMu.Lock()
	defer r.syncMu.Unlock()
	r.updateSyncLocked(v)
}

func (r *Ring) updateSyncLocked(v *view) {
	for p := range r.syncWait {
		if !v.has(p) {
			delete(r.syncWait, p) // it left: nothing more will come from it
		}
	}
	if len(r.syncWait) == 0 || v.self < 0 {
		r.syncWait, r.syncPrev = nil, nil
		r.syncing.Store(false)
		return
	}
	rest := slices.Delete(slices.Clone(v.peers), v.self, v.self+1)
	prev, _ := r.makeView(rest)
	r.syncPrev = prev
	r.syncing.Store(true)
}

// trySync asks the members this instance still waits for whether they
// have handed their keys over, and reports whether none is left.
func (r *Ring) trySync(ctx context.Context) bool {
	r.syncMu.Lock()
	var wait []string
	for p := range r.syncWait {
		wait = append(wait, p)
	}
	r.syncMu.Unlock()
	q := url.Values{}
	q.Set("from", r.self)
	for _, p := range wait {
		if _, err := r.postBulk(ctx, p, "sync", q, nil); err == nil {
			r.syncMu.Lock()
			delete(r.syncWait, p)
			r.syncMu.Unlock()
		}
	}
	r.updateSync(r.view.Load())
	return !r.syncing.Load()
}

var errLeaveIncomplete = errors.New("ringkv: leave: some keys could not be handed off")

// leave hands every key to its owners in the ring without this instance.
func (r *Ring) leave(ctx context.Context) error {
	v := r.view.Load()
	if v.self < 0 {
		return nil
	}
	rest := slices.Delete(slices.Clone(v.peers), v.self, v.self+1)
	if len(rest) == 0 {
		return nil
	}
	next, err := r.makeView(rest)
	if err != nil {
		return err
	}
	batches := map[string][]record{}
	var buf [4]int
	for _, rec := range r.local.snapshot() {
		for _, m := range next.pref(rec.Key, buf[:0]) {
			batches[next.peers[m]] = append(batches[next.peers[m]], rec)
		}
	}
	var errs error
	for peer, b := range batches {
		if err := r.push(ctx, peer, b); err != nil {
			errs = errors.Join(errs, fmt.Errorf("%s: %w", peer, err))
		}
	}
	if errs != nil {
		return kv.Unavailable(fmt.Errorf("%w: %w", errLeaveIncomplete, errs))
	}
	return nil
}
