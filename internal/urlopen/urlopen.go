// Package urlopen is the scheme registry behind every feature package's
// Open(ctx, url): adapters register an opener for their scheme in init, and
// the application picks a backend with one string.
package urlopen

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"sync"
)

// Opener makes a T from a parsed URL whose scheme it was registered for.
type Opener[T any] func(ctx context.Context, u *url.URL) (T, error)

// Registry maps URL schemes to openers. The zero value is not usable: make
// one with New. It is safe for concurrent use.
type Registry[T any] struct {
	feature string
	mu      sync.RWMutex
	openers map[string]Opener[T]
}

// New returns an empty registry; feature ("kv", "trace", ...) names it in errors.
func New[T any](feature string) *Registry[T] {
	return &Registry[T]{feature: feature, openers: map[string]Opener[T]{}}
}

// Register adds the opener for scheme. Registering a scheme twice is a
// programming error in an init function, so it panics, like database/sql.
func (r *Registry[T]) Register(scheme string, open Opener[T]) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, dup := r.openers[scheme]; dup {
		panic(fmt.Sprintf("%s: scheme %q registered twice", r.feature, scheme))
	}
	r.openers[scheme] = open
}

// Open parses rawURL and calls the opener registered for its scheme. An
// unknown scheme's error lists the registered ones and hints at the import
// that registers it.
func (r *Registry[T]) Open(ctx context.Context, rawURL string) (T, error) {
	u, err := Parse(rawURL)
	if err != nil {
		var zero T
		return zero, fmt.Errorf("%s: open: %w", r.feature, err)
	}
	return r.OpenURL(ctx, u)
}

// Parse is url.Parse with an error that does not quote the URL, which may
// hold a password (url.Error repeats the input).
func Parse(rawURL string) (*url.URL, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			return nil, fmt.Errorf("malformed URL: %w", ue.Err)
		}
		return nil, err
	}
	return u, nil
}

// OpenURL is Open for a URL already parsed (for example after the feature
// package took its own query parameters out).
func (r *Registry[T]) OpenURL(ctx context.Context, u *url.URL) (T, error) {
	var zero T
	if u.Scheme == "" {
		return zero, fmt.Errorf("%s: open %q: the URL has no scheme (want one of %v)", r.feature, redacted(u), r.Schemes())
	}
	r.mu.RLock()
	open := r.openers[u.Scheme]
	r.mu.RUnlock()
	if open == nil {
		return zero, fmt.Errorf("%s: open %q: no backend registered for scheme %q (registered: %v; is the adapter package imported?)",
			r.feature, redacted(u), u.Scheme, r.Schemes())
	}
	v, err := open(ctx, u)
	if err != nil {
		return zero, fmt.Errorf("%s: open %q: %w", r.feature, redacted(u), err)
	}
	return v, nil
}

// Schemes lists the registered schemes, sorted.
func (r *Registry[T]) Schemes() []string {
	r.mu.RLock()
	defer r.mu.RUnlock()
	out := make([]string, 0, len(r.openers))
	for s := range r.openers {
		out = append(out, s)
	}
	slices.Sort(out)
	return out
}

// redacted hides a password in the URL so that errors never leak it.
func redacted(u *url.URL) string { return u.Redacted() }
