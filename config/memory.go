package config

import (
	"context"
	"fmt"
	"sync"
)

// Memory is a Source that holds its values in the process: the embedded
// defaults of an application, and what unit tests use to change
// configuration on the fly. Set and SetValue notify the Configs watching
// it. Safe for concurrent use.
type Memory struct {
	name string

	mu   sync.Mutex
	tree map[string]any
	// changed is closed and replaced on every change, waking every Watch.
	changed chan struct{}
}

// NewMemory returns a Memory source holding a copy of values (nil for
// none). Values may be nested map[string]any, slices and scalars; a value
// of another type panics, as a literal in the program is a programming
// error (use Set to check values that come from outside).
func NewMemory(values map[string]any) *Memory {
	m := &Memory{name: "memory", changed: make(chan struct{})}
	if err := m.Set(values); err != nil {
		panic(fmt.Sprintf("config.NewMemory: %v", err))
	}
	return m
}

// Named sets the name the source has in Status and errors ("memory" by
// default) and returns m.
func (m *Memory) Named(name string) *Memory {
	m.name = name
	return m
}

// Name implements Source.
func (m *Memory) Name() string { return m.name }

// Load implements Source.
func (m *Memory) Load(ctx context.Context) (map[string]any, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.tree, nil // immutable: Set replaces it
}

// Set replaces all the values with a copy of values. A value of an
// unsupported type is an error wrapping ErrParse, and nothing changes.
func (m *Memory) Set(values map[string]any) error {
	tree, err := normalizeTree(values)
	if err != nil {
		return fmt.Errorf("config: memory: %w", err)
	}
	m.mu.Lock()
	m.tree = tree
	m.broadcast()
	m.mu.Unlock()
	return nil
}

// SetValue sets the value at path (creating the maps on the way, and
// replacing a non-map it meets), leaving the rest as it was. An empty path
// is Set of a map value.
func (m *Memory) SetValue(v any, path ...string) error {
	n, err := normalize(v)
	if err != nil {
		return fmt.Errorf("config: memory: %w", err)
	}
	if len(path) == 0 {
		tree, ok := n.(map[string]any)
		if !ok {
			return fmt.Errorf("config: memory: SetValue with an empty path needs a map, got %T", v)
		}
		return m.Set(tree)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.tree = setPath(m.tree, path, n)
	m.broadcast()
	return nil
}

// setPath returns a copy of tree with v at path; the maps on the path are
// copied, the rest shared, so snapshots holding the old tree stay intact.
func setPath(tree map[string]any, path []string, v any) map[string]any {
	out := make(map[string]any, len(tree)+1)
	for k, e := range tree {
		out[k] = e
	}
	if len(path) == 1 {
		out[path[0]] = v
		return out
	}
	sub, _ := out[path[0]].(map[string]any)
	out[path[0]] = setPath(sub, path[1:], v)
	return out
}

func (m *Memory) broadcast() {
	close(m.changed)
	m.changed = make(chan struct{})
}

// Watch implements Watcher.
func (m *Memory) Watch(ctx context.Context, changed func()) error {
	m.mu.Lock()
	ch := m.changed
	m.mu.Unlock()
	changed() // whatever changed between the last Load and now
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-ch:
		}
		m.mu.Lock()
		ch = m.changed
		m.mu.Unlock()
		changed()
	}
}
