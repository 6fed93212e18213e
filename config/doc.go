// Package config is dynamic configuration for a service: values merged
// from an ordered list of sources (embedded defaults, files, Consul, the
// environment, flags), overlaid per environment (dev, staging, prod),
// watched and reloaded without a restart.
//
//	defaults := config.NewMemory(map[string]any{"db": map[string]any{"pool": 10}})
//	cfg, err := config.New(ctx, []config.Source{
//		defaults,
//		config.NewFile("/etc/billing/app.yaml"),          // + app.prod.yaml
//		consulconfig.New(client, "config/billing/"),      // + config/billing/prod/
//		config.NewEnv("BILLING_"),                        // BILLING_DB_POOL=20
//	}, config.WithEnvironment("prod"), config.WithValidator(check))
//	if err != nil { ... }
//	defer cfg.Close()
//	pool := cfg.Get("db", "pool").Int(10)
//	for v := range cfg.Watch(ctx, "db") { resize(v.Map(nil)) }
//
// Later sources override earlier ones: maps merge key by key, scalars and
// lists replace. Every read comes from an immutable Snapshot that a reload
// swaps atomically, so a reader never sees half a reload and never waits:
// a typed read of a nested path costs about 20 ns and no allocation, and an
// Accessor made once reads in a few nanoseconds. Getters take a default and
// convert strings (values from the environment, flags and Consul keys are
// strings), so Get("db", "pool").Int(10) works whatever the source; Scan
// fills a struct by its json tags with the same conversions.
//
// A reload is event-driven: files are watched through their directory
// (inotify on Linux; an editor's save-by-rename and a Kubernetes ConfigMap
// update are seen, bursts are debounced), Consul through blocking queries.
// WithPollInterval adds polling for sources that cannot be watched. A
// reload whose source fails to load or parse, or whose result fails a
// validator, is rejected: the last good snapshot stays, the error goes to
// the WithErrorHandler functions and to Status. Watch and OnChange deliver
// the new value of a path only when that path changed.
//
// Print a Snapshot (or serve Handler) to see the configuration with
// secret-looking keys and URL passwords masked.
//
// # Backends
//
// A backend is a Source (Load, and Watch if it can tell of changes; Overlay
// if it has per-environment overrides); the Config in front of the sources
// owns merging, validation, snapshots, watches, retries and status once for
// all of them. In this package:
//
//   - NewMemory: values held in the process (defaults, tests); Set and
//     SetValue change them and notify. URL: mem://
//   - NewFile: a JSON file; YAML and TOML once config/yamlconfig and
//     config/tomlconfig are imported. Overlay app.prod.yaml. URL:
//     file:///etc/app.yaml?format=yaml&optional=true
//   - NewEnv: environment variables with a prefix, split on a separator.
//     URL: env://APP_?sep=__
//   - NewFlags: the flags set on a flag.FlagSet.
//
// In config/consulconfig: a Consul key prefix as a tree, or one key holding
// a document; URL consul://host:port/config/app/. OpenSource picks a source from
// a URL; the adapter package must be imported for its scheme. Every source
// passes config/configtest, the conformance suite.
//
// # Errors
//
// Sources wrap their failures onto the sentinels ErrNotFound (a missing
// file or key), ErrParse (a malformed document), ErrUnavailable (the
// backend cannot be reached), and the Config adds ErrInvalid (a validator
// refused the result) and ErrClosed; test them with errors.Is, or ask
// their class: ErrParse, ErrInvalid and ErrType are oserr.Invalid,
// ErrUnavailable oserr.Unavailable, ErrForbidden oserr.Forbidden. The Config
// reports each failure as a *SourceError naming the source and the step
// ("load", "watch", "validate"), which unwraps to the sentinel and to the
// backend's own error. Reads never fail: a getter returns its default, and
// Scan returns ErrNotFound or ErrType.
//
// By default New starts from the sources that load and keeps retrying the
// others (watched sources retry with capped exponential backoff and
// jitter; WithStrictStart makes New fail instead). New fails when the
// merged result fails a validator, as there is no last good snapshot yet.
//
// # Health and lifecycle
//
// Config.Check(ctx) reports the sources: the latest load, watch or
// reload of each, a rejected reload included; Close stops the watches and
// is idempotent. Check(ctx) is the one health check every long-lived go-os type
// has: nil when healthy, else an error wrapping the package's sentinel (its
// oserr class answers "unavailable?", "forbidden?", "closed?") with the
// last failure and its age. It answers from what the type's own calls saw,
// never blocks past ctx, and is safe for concurrent use; the monitor
// package calls it through a one-method interface.
//
// # Wrapper order
//
// On the server side the go-os wrappers go, outermost first:
// recover → trace → metrics → log → auth → config snapshot → mux.
// The tracer first, so that the span covers everything and its ids reach
// the log lines; metrics before log, so that the time measured includes
// the logging; auth inside them, so that refused requests are still
// traced, counted and logged; the config snapshot innermost, so that the
// handler reads one version of the configuration. Every go-os wrapper that
// copies the request joins the route slot, so any order still gives the
// same route to all of them (tested over every permutation). On the client
// side: trace → metrics → log → auth → router → base transport (metrics
// outside the router, or the route label becomes a node address).
//
// # Concurrency
//
// Config, Snapshot, Accessor and every Source here are safe for concurrent
// use. Reads never block. Reloads run one at a time on the Config's
// goroutines (one per watched source, one for polling); OnChange functions
// and error handlers run there, in order, and must not block for long.
// Watch channels hold only the latest value, so a slow reader never stalls
// a reload. Close stops every goroutine before it returns, closes the watch
// channels and the sources that are io.Closers, and is idempotent; the
// last snapshot stays readable.
package config
