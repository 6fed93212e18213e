package config

import "sync/atomic"

// Accessor reads one path of a Config, resolving it once per snapshot:
// on a hot path, a.Get().Int(10) costs an atomic load and a pointer
// comparison instead of a map lookup per path element. Make it once
// (at startup) and share it; it is safe for concurrent use.
type Accessor struct {
	c     *Config
	path  []string
	cache atomic.Pointer[resolved]
}

type resolved struct {
	snap *Snapshot
	v    Value
}

// Accessor returns an Accessor for path.
func (c *Config) Accessor(path ...string) *Accessor {
	return &Accessor{c: c, path: append([]string(nil), path...)}
}

// Get returns the value at the accessor's path in the current snapshot.
func (a *Accessor) Get() Value {
	snap := a.c.snap.Load()
	if r := a.cache.Load(); r != nil && r.snap == snap {
		return r.v
	}
	v := snap.Get(a.path...)
	a.cache.Store(&resolved{snap: snap, v: v})
	return v
}
