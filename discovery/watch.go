package discovery

import (
	"cmp"
	"context"
	"github.com/microos/go-os/internal/backoff"
	"slices"
	"time"
)

// runWatch is the loop behind every Watch: blocking queries on the driver,
// diffed into events, with capped exponential backoff and jitter after a
// failure. It returns when ctx is done.
func (r *registry) runWatch(ctx context.Context, name string, ch chan<- Event) {
	var (
		index   uint64
		last    []*Service
		synced  bool
		failing bool
		bo      = backoff.Backoff{Min: r.retryMin, Max: r.retryMax}
		done    = ctx.Done()
		log     = r.o.logger.With("service", name)
	)
	send := func(ev Event) bool {
		ev.Service = name
		ev.Time = time.Now()
		select {
		case ch <- ev:
			return true
		case <-done:
			return false
		}
	}
	for {
		started := time.Now()
		query := index
		if failing {
			query = 0 // after a failure, answer at once: that is the recovery
		}
		svcs, next, err := r.d.WatchService(ctx, name, query)
		if ctx.Err() != nil {
			return
		}
		r.observe(ctx, err)
		if err != nil {
			wait := bo.Next()
			if !failing {
				log.Warn("discovery: watch failed; retrying with backoff", "err", err, "retry_in", wait)
			}
			failing = true
			if !send(Event{Type: EventError, Err: &OpError{Op: "watch", Service: name, Err: err}, Services: last}) {
				return
			}
			if !backoff.SleepDone(done, wait) {
				return
			}
			continue
		}
		bo.Reset()
		if next < query {
			// The backend lost its state (a fresh Consul agent): its
			// indexes start again, so the next query must not wait on ours.
			next = 0
		}
		index = next
		svcs = normalize(svcs)
		if !synced || failing {
			for _, ev := range diff(last, svcs) {
				if synced && !send(ev) {
					return
				}
			}
			if failing {
				log.Info("discovery: watch recovered")
			}
			synced, failing, last = true, false, svcs
			if !send(Event{Type: EventSync, Services: svcs}) {
				return
			}
		} else {
			for _, ev := range diff(last, svcs) {
				if !send(ev) {
					return
				}
			}
			last = svcs
		}
		// Bound the query rate of a service that never stops changing.
		if wait := r.o.watchInterval - time.Since(started); wait > 0 && !backoff.SleepDone(done, wait) {
			return
		}
	}
}

// diff returns the events that turn the state old into new: removals,
// then updates, then additions, each sorted by node ID; each carries new as
// its Services. A node that moved to another version is an update.
func diff(old, new []*Service) []Event {
	type versioned struct {
		version string
		node    *Node
	}
	index := func(svcs []*Service) map[string]versioned {
		m := make(map[string]versioned)
		for _, s := range svcs {
			for _, n := range s.Nodes {
				m[n.ID] = versioned{s.Version, n}
			}
		}
		return m
	}
	before, after := index(old), index(new)
	var removed, updated, added []Event
	for id, b := range before {
		a, ok := after[id]
		switch {
		case !ok:
			removed = append(removed, Event{Type: EventRemove, Version: b.version, Node: b.node, Services: new})
		case a.version != b.version || !a.node.Equal(b.node):
			updated = append(updated, Event{Type: EventUpdate, Version: a.version, Node: a.node, Services: new})
		}
	}
	for id, a := range after {
		if _, ok := before[id]; !ok {
			added = append(added, Event{Type: EventAdd, Version: a.version, Node: a.node, Services: new})
		}
	}
	byID := func(a, b Event) int { return cmp.Compare(a.Node.ID, b.Node.ID) }
	slices.SortFunc(removed, byID)
	slices.SortFunc(updated, byID)
	slices.SortFunc(added, byID)
	return slices.Concat(removed, updated, added)
}
