// Package consulconfig is the config.Source for Consul's key-value store,
// on github.com/hashicorp/consul/api.
//
// A source reads either a key prefix as a tree (config/app/db/pool = "10"
// is the value "10" at path db, pool) or, with Document, one key holding a
// JSON, YAML or TOML document. It is watched with blocking queries, so a
// change reaches the Config as soon as Consul commits it; when Consul is
// down the Config keeps serving the last good values and retries with
// backoff.
//
//	client, _ := api.NewClient(api.DefaultConfig())
//	src := consulconfig.New(client, "config/billing/")
//	cfg, err := config.New(ctx, []config.Source{defaults, src}, config.WithEnvironment("prod"))
//
// With WithEnvironment("prod"), the overlay config/billing/prod/ overrides
// config/billing/. Importing this package registers the consul URL scheme
// with config.OpenSource:
//
//	consul://127.0.0.1:8500/config/billing/?token=T&datacenter=dc1&tls=1
//	consul://127.0.0.1:8500/config/billing.yaml?format=yaml   (Document)
package consulconfig

import (
	"context"
	"fmt"
	"net/url"
	"path"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/consul/api"

	"github.com/microos/go-os/config"
	"github.com/microos/go-os/internal/consulx"
)

// Source reads a Consul key prefix (or one key) and watches it. It is a
// config.Watcher and a config.Overlayer.
type Source struct {
	kv       *api.KV
	prefix   string // the key, for a document
	format   string // "" for a tree
	optional bool
	wait     time.Duration
	// closeIdle, when the source made the client, closes its connections.
	closeIdle func()

	mu sync.Mutex
	// envs are the subtrees of the prefix that belong to environments'
	// overlays, so not to the base.
	envs []string
}

// Option configures a Source.
type Option func(*Source)

// Document makes the source read one key holding a document of format
// ("json", "yaml", "toml"; the decoder must be registered with config,
// importing config/yamlconfig or config/tomlconfig) instead of a tree.
func Document(format string) Option { return func(s *Source) { s.format = format } }

// Optional makes a missing document key load as empty instead of failing
// with config.ErrNotFound. (A prefix without keys is always empty.)
func Optional() Option { return func(s *Source) { s.optional = true } }

// Environments names the subtrees of the prefix that hold environment
// overlays, which the base leaves out (default: dev, staging, prod; the
// environment given to config.WithEnvironment is added).
func Environments(names ...string) Option {
	return func(s *Source) { s.envs = append([]string(nil), names...) }
}

// WaitTime bounds each blocking query (default 5 minutes, Consul's
// maximum is 10); it only changes how often an idle watch reconnects.
func WaitTime(d time.Duration) Option { return func(s *Source) { s.wait = d } }

// New returns a Source for the keys under prefix, read through client,
// which it does not close.
func New(client *api.Client, prefix string, opts ...Option) *Source {
	s := &Source{kv: client.KV(), prefix: prefix, wait: 5 * time.Minute, envs: []string{"dev", "staging", "prod"}}
	for _, o := range opts {
		o(s)
	}
	if s.format == "" && s.prefix != "" && !strings.HasSuffix(s.prefix, "/") {
		s.prefix += "/"
	}
	return s
}

// Name implements config.Source.
func (s *Source) Name() string {
	if s.format != "" {
		return "consul:" + s.prefix + " (" + s.format + ")"
	}
	return "consul:" + s.prefix
}

// Close closes the client's idle connections when the source made the
// client (config.OpenSource); a client handed to New is left alone.
func (s *Source) Close() error {
	if s.closeIdle != nil {
		s.closeIdle()
	}
	return nil
}

// Load implements config.Source.
func (s *Source) Load(ctx context.Context) (map[string]any, error) {
	q := (&api.QueryOptions{}).WithContext(ctx)
	if s.format != "" {
		pair, _, err := s.kv.Get(s.prefix, q)
		if err != nil {
			return nil, mapError(ctx, err)
		}
		if pair == nil {
			if s.optional {
				return map[string]any{}, nil
			}
			return nil, fmt.Errorf("%w: key %s", config.ErrNotFound, s.prefix)
		}
		return config.Decode(s.format, pair.Value)
	}
	pairs, _, err := s.kv.List(s.prefix, q)
	if err != nil {
		return nil, mapError(ctx, err)
	}
	return s.tree(pairs), nil
}

// tree builds the values from the pairs, sorted by key as Consul returns
// them (so a subtree wins over a value at its name, see config.Insert),
// leaving out folder keys and the environments' overlays.
func (s *Source) tree(pairs api.KVPairs) map[string]any {
	s.mu.Lock()
	envs := s.envs
	s.mu.Unlock()
	slices.SortFunc(pairs, func(a, b *api.KVPair) int { return strings.Compare(a.Key, b.Key) })
	tree := map[string]any{}
	for _, p := range pairs {
		rel := strings.TrimPrefix(p.Key, s.prefix)
		if rel == "" || strings.HasSuffix(rel, "/") {
			continue
		}
		parts := strings.Split(rel, "/")
		if len(parts) > 1 && slices.Contains(envs, parts[0]) {
			continue
		}
		config.Insert(tree, parts, string(p.Value))
	}
	return tree
}

// Overlay implements config.Overlayer: the overlay of prefix config/app/
// for prod is config/app/prod/ (which the base then leaves out); the
// overlay of the document config/app.yaml is config/app.prod.yaml.
func (s *Source) Overlay(env string) config.Source {
	o := &Source{kv: s.kv, format: s.format, optional: true, wait: s.wait}
	if s.format != "" {
		ext := path.Ext(s.prefix)
		o.prefix = strings.TrimSuffix(s.prefix, ext) + "." + env + ext
		return o
	}
	o.prefix = s.prefix + env + "/"
	s.mu.Lock()
	if !slices.Contains(s.envs, env) {
		s.envs = append(slices.Clip(s.envs), env)
	}
	s.mu.Unlock()
	return o
}

// Watch implements config.Watcher with blocking queries: each returns as
// soon as the prefix's index moves past the one the previous returned.
func (s *Source) Watch(ctx context.Context, changed func()) error {
	var index uint64
	// A healthy Consul answers within the wait plus up to wait/16 of
	// jitter; one that accepted the query and went silent would otherwise
	// hold the watch forever while Status says it is watching.
	wait := s.wait
	if wait <= 0 {
		wait = 5 * time.Minute // Consul's default
	}
	limit := wait + wait/16 + 2*time.Second
	for {
		qctx, cancel := context.WithTimeout(ctx, limit)
		q := (&api.QueryOptions{WaitIndex: index, WaitTime: s.wait}).WithContext(qctx)
		var meta *api.QueryMeta
		var err error
		if s.format != "" {
			_, meta, err = s.kv.Get(s.prefix, q)
		} else {
			// Keys is the cheapest query that blocks on the prefix.
			_, meta, err = s.kv.Keys(s.prefix, "", q)
		}
		hung := qctx.Err() != nil
		cancel()
		if ctx.Err() != nil {
			return nil
		}
		if err != nil {
			if hung {
				return config.Unavailable(fmt.Errorf("consul did not answer a blocking query within %v: %w", limit, err))
			}
			return mapError(ctx, err)
		}
		switch next := meta.LastIndex; {
		case index == 0: // the first answer: watching now
			changed()
			index = max(next, 1)
		case next < index: // Consul's index went back (a restore): start over
			index = 0
		case next > index:
			index = next
			changed()
		}
	}
}

// mapError maps a client error onto config's sentinels: a refused ACL
// token is ErrForbidden; other answers than success are server-side
// trouble and transport errors mean Consul is down: both are
// ErrUnavailable, which a later reload may fix.
func mapError(ctx context.Context, err error) error {
	if ctx.Err() == context.DeadlineExceeded {
		// The load's deadline passed waiting on Consul: it did not answer
		// in time, which is what ErrUnavailable says.
		return fmt.Errorf("%w: %w: %w", config.ErrUnavailable, ctx.Err(), err)
	}
	if ctx.Err() != nil {
		return fmt.Errorf("%w: %w", ctx.Err(), err)
	}
	if consulx.Forbidden(err) {
		return fmt.Errorf("%w: %w", config.ErrForbidden, err)
	}
	return config.Unavailable(err)
}

func init() {
	config.Register("consul", open)
}

// open serves consul://host:port/prefix/?options: the connection
// parameters every Consul adapter reads (consulx.Params: token,
// datacenter, tls, ...), plus format=, optional=, wait= and
// environments=. An unknown parameter is an error.
func open(_ context.Context, u *url.URL) (config.Source, error) {
	q := u.Query()
	cfg, err := consulx.ClientConfig(u, q)
	if err != nil {
		return nil, err
	}
	cfg.Transport = nil // ClientConfig's default is shared; ours is closed by Close
	client, closeIdle, err := consulx.NewClient(cfg)
	if err != nil {
		return nil, err
	}
	var opts []Option
	take := func(k string) (string, bool, error) {
		vs, ok := q[k]
		delete(q, k)
		if ok && len(vs) != 1 {
			return "", false, fmt.Errorf("parameter %q given %d times", k, len(vs))
		}
		if !ok {
			return "", false, nil
		}
		return vs[0], true, nil
	}
	for _, k := range []string{"format", "optional", "wait", "environments"} {
		v, ok, err := take(k)
		if err != nil {
			return nil, err
		}
		if !ok {
			continue
		}
		switch k {
		case "format":
			opts = append(opts, Document(v))
		case "optional":
			on, err := strconv.ParseBool(v)
			if err != nil {
				return nil, fmt.Errorf("optional=%q: want true or false", v)
			}
			if on {
				opts = append(opts, Optional())
			}
		case "wait":
			d, err := consulx.Positive(v)
			if err != nil {
				return nil, fmt.Errorf("wait=%q: %w", v, err)
			}
			opts = append(opts, WaitTime(d))
		case "environments":
			opts = append(opts, Environments(strings.Split(v, ",")...))
		}
	}
	if err := consulx.Unknown(q, "format", "optional", "wait", "environments"); err != nil {
		return nil, err
	}
	s := New(client, strings.TrimPrefix(u.Path, "/"), opts...)
	s.closeIdle = closeIdle
	return s, nil
}
