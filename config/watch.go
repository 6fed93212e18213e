package config

import (
	"context"
	"github.com/microos/go-os/internal/backoff"
	"sync"
	"time"
)

// Watch returns a channel that receives the value at path each time a
// reload changes it (the whole tree for an empty path); a reload that
// leaves the path alone sends nothing. The channel holds the latest value
// only: a slow reader skips intermediate values but always sees the newest.
// It is closed when ctx is done or the Config is closed.
func (c *Config) Watch(ctx context.Context, path ...string) <-chan Value {
	ch := make(chan Value, 1)
	w := &watcher{path: append([]string(nil), path...), ch: ch}
	if !c.addWatcher(w) {
		close(ch)
		return ch
	}
	stop := context.AfterFunc(ctx, func() { c.removeWatcher(w) })
	w.mu.Lock()
	w.stopCtx = stop
	w.mu.Unlock()
	return ch
}

// OnChange calls fn with the value at path each time a reload changes it.
// fn runs on the reloading goroutine, one call at a time, after the new
// snapshot is published; it must not block for long nor call Reload or
// Close (both wait for the reloading goroutine: to shut down from a
// callback, signal another goroutine that calls Close).
// The returned stop function unregisters it; Close does too.
func (c *Config) OnChange(fn func(Value), path ...string) (stop func()) {
	w := &watcher{path: append([]string(nil), path...), fn: fn}
	if !c.addWatcher(w) {
		return func() {}
	}
	return func() { c.removeWatcher(w) }
}

type watcher struct {
	path    []string
	ch      chan Value
	fn      func(Value)
	stopCtx func() bool

	mu      sync.Mutex
	stopped bool
}

func (c *Config) addWatcher(w *watcher) bool {
	c.watchMu.Lock()
	defer c.watchMu.Unlock()
	if c.closed.Load() {
		return false
	}
	c.watchers[w] = struct{}{}
	return true
}

func (c *Config) removeWatcher(w *watcher) {
	c.watchMu.Lock()
	delete(c.watchers, w)
	c.watchMu.Unlock()
	w.stop()
}

// deliver hands v to the watcher without ever blocking: a value the
// reader has not taken yet is replaced by the newer one.
func (w *watcher) deliver(v Value) {
	if w.fn != nil {
		w.fn(v)
		return
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.stopped {
		return
	}
	select {
	case <-w.ch:
	default:
	}
	w.ch <- v
}

func (w *watcher) stop() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.stopped {
		return
	}
	w.stopped = true
	if w.stopCtx != nil {
		w.stopCtx()
	}
	if w.ch != nil {
		close(w.ch)
	}
}

// notify tells every watcher whose path changed between prev and next.
// It runs under reloadMu, so watchers see changes in order.
func (c *Config) notify(prev, next *Snapshot) {
	c.watchMu.Lock()
	ws := make([]*watcher, 0, len(c.watchers))
	for w := range c.watchers {
		ws = append(ws, w)
	}
	c.watchMu.Unlock()
	for _, w := range ws {
		old, cur := prev.Get(w.path...), next.Get(w.path...)
		if old.ok != cur.ok || !equal(old.v, cur.v) {
			w.deliver(cur)
		}
	}
}

// watch runs a Watcher's Watch until ctx is done, reloading the source on
// every change; when the watch fails it reports it, waits a capped
// exponential backoff with jitter, reloads and watches again.
func (c *Config) watch(ctx context.Context, st *sourceState, w Watcher) {
	defer c.wg.Done()
	attempt := 0
	for {
		st.setWatching(true)
		started := time.Now()
		err := w.Watch(ctx, func() { c.reload(ctx, st) })
		st.setWatching(false)
		if ctx.Err() != nil {
			return
		}
		if err == nil {
			err = errWatchEnded
		}
		c.report(st, "watch", err)
		if time.Since(started) > c.opts.retryMax {
			attempt = 0 // it had been working: start the backoff over
		}
		if !backoff.Sleep(ctx, backoff.Delay(attempt, c.opts.retryMin, c.opts.retryMax)) {
			return
		}
		attempt++
		c.reload(ctx, st)
	}
}

// poll reloads, every poll interval, the sources nothing else keeps current.
func (c *Config) poll(ctx context.Context) {
	defer c.wg.Done()
	t := time.NewTicker(c.opts.poll)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		for _, st := range c.sources {
			if _, ok := st.src.(Watcher); ok && st.watching() {
				continue
			}
			c.reload(ctx, st)
		}
	}
}
