package config

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"time"

	"github.com/microos/go-os/internal/health"
	"github.com/microos/go-os/internal/redact"
)

// Config is the merged configuration of an ordered list of sources, kept
// current as they change. Reads come from an immutable Snapshot swapped
// atomically on reload, so they never block, never fail and never see half
// a reload. Safe for concurrent use.
type Config struct {
	opts    options
	sources []*sourceState
	snap    atomic.Pointer[Snapshot]

	// reloadMu makes reloads one at a time: it guards every
	// sourceState.tree and the publication of snapshots.
	reloadMu sync.Mutex

	keys *redact.Keys // the secret keys of Redacted dumps

	watchMu  sync.Mutex
	watchers map[*watcher]struct{}

	cancel    context.CancelFunc
	wg        sync.WaitGroup
	closed    atomic.Bool
	closeOnce sync.Once
	closeErr  error
}

// sourceState is what the Config knows of one source.
type sourceState struct {
	src Source
	// loadMu keeps one load of this source at a time, so that an older
	// load never lands after a newer one.
	loadMu sync.Mutex
	tree   map[string]any // last good tree; guarded by Config.reloadMu

	mu     sync.Mutex
	status SourceStatus
	health health.Tracker // the last load, watch or reload of this source
}

// SourceStatus is the health of one source.
type SourceStatus struct {
	Name string
	// LastSuccess is when the source last loaded and its values were
	// accepted (or were unchanged).
	LastSuccess time.Time
	// LastError is the last failed load, watch or rejected reload of the
	// source, and LastErrorAt when it happened; it stays after a success so
	// that a flapping source shows. Compare the times to tell which is newer.
	LastError   error
	LastErrorAt time.Time
	// Watching is true while the source is a Watcher whose watch runs.
	Watching bool
}

// Healthy reports whether the source's last attempt succeeded.
func (s SourceStatus) Healthy() bool { return !s.LastSuccess.Before(s.LastErrorAt) }

// Status is the health of a Config: its current snapshot and every source.
type Status struct {
	Version  uint64
	LoadedAt time.Time
	Sources  []SourceStatus
}

// New loads the sources in order (later ones override earlier ones; maps
// merge deeply, scalars and lists replace) and starts watching those that
// are Watchers. With WithEnvironment, every Overlayer is followed by its
// overlay. New takes ownership of the sources: Close closes those that are
// io.Closers.
//
// A source that fails to load is reported and left out (New fails instead
// under WithStrictStart); New fails if the merged configuration fails a
// validator. ctx bounds the initial loads only.
func New(ctx context.Context, sources []Source, opts ...Option) (*Config, error) {
	c := &Config{opts: collect(opts), watchers: map[*watcher]struct{}{}}
	c.keys = redact.NewKeys(c.opts.secrets...)
	for i, s := range sources {
		if s == nil {
			// New owns the sources: the ones it already took are closed.
			for _, other := range sources {
				if cl, ok := other.(io.Closer); ok && other != nil {
					cl.Close()
				}
			}
			return nil, fmt.Errorf("config: new: source %d is nil", i)
		}
		c.sources = append(c.sources, c.newSourceState(s))
		if ov, ok := s.(Overlayer); ok && c.opts.env != "" {
			if o := ov.Overlay(c.opts.env); o != nil {
				c.sources = append(c.sources, c.newSourceState(o))
			}
		}
	}
	for _, st := range c.sources {
		tree, err := load(ctx, st.src)
		if err != nil {
			err = c.report(st, "load", err)
			if c.opts.strict {
				c.closeSources()
				return nil, err
			}
			continue
		}
		st.tree = tree
		st.succeeded(time.Now())
	}
	snap, err := c.build(0)
	if err != nil {
		c.closeSources()
		return nil, err
	}
	c.snap.Store(snap)

	bg, cancel := context.WithCancel(context.Background())
	c.cancel = cancel
	for _, st := range c.sources {
		if w, ok := st.src.(Watcher); ok {
			c.wg.Add(1)
			go c.watch(bg, st, w)
		}
	}
	if c.opts.poll > 0 {
		c.wg.Add(1)
		go c.poll(bg)
	}
	return c, nil
}

func (c *Config) newSourceState(s Source) *sourceState {
	st := &sourceState{src: s, status: SourceStatus{Name: s.Name()}}
	st.health.Now = c.opts.now
	return st
}

// Check reports the health of the sources: nil while the latest load,
// watch or reload of every source succeeded, else an error wrapping the
// sentinel of the latest failure (ErrUnavailable for a backend that cannot
// be reached, ErrForbidden, ErrParse, ErrInvalid for a rejected reload;
// oserr.Code tells the class), the failure itself and its age, one per
// failing source, joined. After Close it returns ErrClosed. Reads keep
// serving the last good snapshot meanwhile. Check makes no call to a
// backend: it answers from what the loads and watches saw. It never blocks
// and is safe for concurrent use.
func (c *Config) Check(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if c.closed.Load() {
		return ErrClosed
	}
	var errs []error
	for _, st := range c.sources {
		st.mu.Lock()
		last := st.status.LastError
		st.mu.Unlock()
		if err := st.health.Check(ctx, sentinelOf(last)); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// sentinelOf is the sentinel err carries, ErrUnavailable when none.
func sentinelOf(err error) error {
	for _, s := range []error{ErrForbidden, ErrNotFound, ErrParse, ErrInvalid, ErrType, ErrUnavailable} {
		if errors.Is(err, s) {
			return s
		}
	}
	return ErrUnavailable
}

// Get returns the value at path in the current snapshot:
// c.Get("db", "pool").Int(10). It never blocks and never allocates for a
// scalar. To read several related values consistently, read them from one
// Snapshot.
func (c *Config) Get(path ...string) Value { return c.snap.Load().Get(path...) }

// Scan decodes the value at path of the current snapshot into dst; see
// Value.Scan.
func (c *Config) Scan(dst any, path ...string) error { return c.snap.Load().Scan(dst, path...) }

// Snapshot returns the current snapshot. It stays valid, unchanged, after
// later reloads.
func (c *Config) Snapshot() *Snapshot { return c.snap.Load() }

// Status reports the current snapshot's version and the health of every
// source, in merge order.
func (c *Config) Status() Status {
	s := c.snap.Load()
	st := Status{Version: s.version, LoadedAt: s.loadedAt, Sources: make([]SourceStatus, len(c.sources))}
	for i, src := range c.sources {
		src.mu.Lock()
		st.Sources[i] = src.status
		src.mu.Unlock()
	}
	return st
}

// Reload loads every source now and publishes the result if it changed and
// passes validation, as a change seen by a watch would (on SIGHUP, say, or
// for sources that are neither watched nor polled). It returns the
// failures joined; the sources that loaded are applied all the same.
func (c *Config) Reload(ctx context.Context) error {
	if c.closed.Load() {
		return ErrClosed
	}
	var errs []error
	for _, st := range c.sources {
		if err := c.reload(ctx, st); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// Close stops watching and polling, waits for the goroutines to end,
// closes every watch channel and the sources that are io.Closers. Reads
// keep returning the last snapshot. It is idempotent.
func (c *Config) Close() error {
	c.closeOnce.Do(func() {
		c.closed.Store(true)
		c.cancel()
		c.wg.Wait()
		c.watchMu.Lock()
		for w := range c.watchers {
			w.stop()
			delete(c.watchers, w)
		}
		c.watchMu.Unlock()
		c.closeErr = c.closeSources()
	})
	return c.closeErr
}

func (c *Config) closeSources() error {
	var errs []error
	for _, st := range c.sources {
		if cl, ok := st.src.(io.Closer); ok {
			if err := cl.Close(); err != nil {
				errs = append(errs, fmt.Errorf("config: close %s: %w", st.status.Name, err))
			}
		}
	}
	return errors.Join(errs...)
}

// load calls the source and normalises what it returned, so that a
// misbehaving source cannot panic a reader or mutate a snapshot.
func load(ctx context.Context, src Source) (tree map[string]any, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%w: source panicked: %v", ErrParse, r)
		}
	}()
	raw, err := src.Load(ctx)
	if err != nil {
		return nil, err
	}
	return normalizeTree(raw)
}

// reload loads one source and, if its tree changed, publishes the new
// merged snapshot unless it fails validation. The error returned is the
// one reported.
func (c *Config) reload(ctx context.Context, st *sourceState) error {
	st.loadMu.Lock()
	defer st.loadMu.Unlock()
	tree, err := load(ctx, st.src)
	if err != nil {
		if ctx.Err() != nil && c.closed.Load() {
			return ErrClosed // cut short by Close: not the source's failure
		}
		return c.report(st, "load", err)
	}
	c.reloadMu.Lock()
	defer c.reloadMu.Unlock()
	if c.closed.Load() {
		return ErrClosed
	}
	if st.tree != nil && equal(st.tree, tree) {
		st.succeeded(time.Now())
		return nil
	}
	old := st.tree
	st.tree = tree
	prev := c.snap.Load()
	snap, err := c.build(prev.version)
	if err != nil {
		st.tree = old // the last good tree stays
		var se *SourceError
		if errors.As(err, &se) {
			se.Source = st.status.Name
			return c.report(st, "", se)
		}
		return c.report(st, "validate", err)
	}
	st.succeeded(snap.loadedAt)
	if equal(prev.root, snap.root) {
		return nil // the change was overridden by a later source
	}
	c.snap.Store(snap)
	c.notify(prev, snap)
	return nil
}

// build merges the sources' trees into a snapshot and validates it.
func (c *Config) build(prevVersion uint64) (*Snapshot, error) {
	root := map[string]any{}
	for _, st := range c.sources {
		root = merge(root, st.tree)
	}
	snap := &Snapshot{root: root, version: prevVersion + 1, loadedAt: time.Now(), secrets: c.keys}
	for _, validate := range c.opts.validators {
		if err := validate(snap); err != nil {
			return nil, &SourceError{Source: "merged configuration", Op: "validate", Err: Wrap(ErrInvalid, err)}
		}
	}
	return snap, nil
}

// report records err in st's status, tells the error handlers and logger,
// and returns it as a *SourceError.
func (c *Config) report(st *sourceState, op string, err error) error {
	se, ok := err.(*SourceError)
	if !ok {
		se = &SourceError{Source: st.status.Name, Op: op, Err: err}
	}
	st.mu.Lock()
	st.status.LastError, st.status.LastErrorAt = se, c.now()
	st.mu.Unlock()
	st.health.Failure(se)
	for _, h := range c.opts.onError {
		h(se)
	}
	if c.opts.logger != nil {
		c.opts.logger.Warn("config: "+se.Op+" failed; keeping the last good configuration", "source", se.Source, "err", se.Err)
	}
	return se
}

func (st *sourceState) succeeded(at time.Time) {
	st.mu.Lock()
	st.status.LastSuccess = at
	st.mu.Unlock()
	st.health.Success()
}

func (c *Config) now() time.Time {
	if c.opts.now != nil {
		return c.opts.now()
	}
	return time.Now()
}

func (st *sourceState) setWatching(on bool) {
	st.mu.Lock()
	st.status.Watching = on
	st.mu.Unlock()
}

func (st *sourceState) watching() bool {
	st.mu.Lock()
	defer st.mu.Unlock()
	return st.status.Watching
}
