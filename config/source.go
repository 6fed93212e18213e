package config

import "context"

// Source is what a backend implements: a file, the environment, flags,
// a Consul key prefix. New puts the Config in front of an ordered list of
// them; a new backend needs only a Source.
//
// Load returns the source's values as a tree: a map whose values are
// nested maps, slices and scalars. Any map[string]any, map[any]any, []any,
// string, bool, integer or float type is accepted; the Config normalises and
// copies the tree, so the source may reuse what it returned. Load may do
// I/O, honours ctx and is safe for concurrent use. It returns ErrNotFound
// when the source does not exist, ErrParse (wrapped) when its content is
// malformed, and ErrUnavailable (wrapped) when the backend cannot be reached.
type Source interface {
	// Name says where values come from, in Status and errors:
	// "file:/etc/app/app.yaml", "env:APP_", "consul:config/app/".
	Name() string
	Load(ctx context.Context) (map[string]any, error)
}

// Watcher is a Source that can tell when it may have changed, so that a
// reload follows a change without polling.
type Watcher interface {
	Source
	// Watch blocks until ctx is done, calling changed whenever the source
	// may have changed since the last Load; the Config then loads it and
	// compares, so a spurious call costs a load, not a reload. Calls to
	// changed come from one goroutine and must not be expected to block.
	// Watch returns nil when ctx is done, or an error when it can no longer
	// watch: the Config reports it, reloads the source, and calls Watch
	// again after a capped exponential backoff with jitter.
	Watch(ctx context.Context, changed func()) error
}

// Overlayer is a Source that has per-environment overrides: the file
// app.yaml has app.prod.yaml, the Consul prefix config/app/ has
// config/app/prod/. With WithEnvironment(env) the Config places
// Overlay(env) right after the source, so it overrides it. An overlay that
// does not exist loads as empty, without error.
type Overlayer interface {
	Source
	Overlay(env string) Source
}
