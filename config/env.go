package config

import (
	"context"
	"os"
	"slices"
	"strings"
)

// Env is a Source reading environment variables that start with a prefix:
// with prefix "APP_", APP_DB_POOL=10 is the value "10" at path db, pool.
// Names are lower-cased and split on the separator, "_" by default: every
// underscore starts a new level, so with prefix "ORDERS_" the variable
// ORDERS_ADVERTISE_ADDR is the path advertise, addr (read it with
// Get("advertise", "addr")), not the key advertise_addr. When keys contain
// underscores, use EnvSeparator("__"): ORDERS_ADVERTISE_ADDR is then the
// key advertise_addr and ORDERS_DB__POOL the path db, pool. Values stay strings;
// the getters and Scan convert them. When a name is both a value and a
// map (APP_DB=x and APP_DB_POOL=10), the map wins.
type Env struct {
	prefix  string
	sep     string
	environ func() []string
}

// EnvOption configures an Env.
type EnvOption func(*Env)

// EnvSeparator sets the string that separates path elements in a name.
func EnvSeparator(sep string) EnvOption { return func(e *Env) { e.sep = sep } }

// EnvFrom reads the variables from environ ("KEY=value" strings, like
// os.Environ) instead of the process environment; tests use it.
func EnvFrom(environ []string) EnvOption {
	return func(e *Env) { e.environ = func() []string { return environ } }
}

// NewEnv returns a Source for the environment variables named prefix*.
func NewEnv(prefix string, opts ...EnvOption) *Env {
	e := &Env{prefix: prefix, sep: "_", environ: os.Environ}
	for _, o := range opts {
		o(e)
	}
	if e.sep == "" {
		e.sep = "_"
	}
	return e
}

// Name implements Source.
func (e *Env) Name() string { return "env:" + e.prefix }

// Load implements Source.
func (e *Env) Load(ctx context.Context) (map[string]any, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	vars := e.environ()
	// Sorted, so that a longer name (a map) always comes after its
	// prefix (a value) and wins whatever the order of the environment.
	vars = slices.Sorted(slices.Values(vars))
	tree := map[string]any{}
	for _, kv := range vars {
		name, value, ok := strings.Cut(kv, "=")
		if !ok || !strings.HasPrefix(name, e.prefix) {
			continue
		}
		path := splitPath(strings.ToLower(name[len(e.prefix):]), e.sep)
		if len(path) > 0 {
			Insert(tree, path, value)
		}
	}
	return tree, nil
}

// splitPath splits name on sep, dropping empty elements.
func splitPath(name, sep string) []string {
	parts := strings.Split(name, sep)
	out := parts[:0]
	for _, p := range parts {
		if p != "" {
			out = append(out, p)
		}
	}
	return out
}

// Insert sets value at path in tree, creating the maps on the way, for
// sources that build a tree from flat names (environment variables, flags,
// Consul keys). A map already at path wins over a value, and a value met on
// the way is replaced by a map, so the result does not depend on the order
// of insertion when the names are sorted. An empty path does nothing.
func Insert(tree map[string]any, path []string, value any) {
	if len(path) == 0 {
		return
	}
	for _, k := range path[:len(path)-1] {
		sub, ok := tree[k].(map[string]any)
		if !ok {
			sub = map[string]any{}
			tree[k] = sub
		}
		tree = sub
	}
	last := path[len(path)-1]
	if _, isMap := tree[last].(map[string]any); isMap {
		return
	}
	tree[last] = value
}
