package config

import (
	"log/slog"
	"strings"
	"time"
)

// Option configures a Config.
type Option func(*options)

type options struct {
	env        string
	validators []func(*Snapshot) error
	onError    []func(error)
	logger     *slog.Logger
	poll       time.Duration
	strict     bool
	secrets    []string
	retryMin   time.Duration
	retryMax   time.Duration
	now        func() time.Time
}

// WithClock sets the clock that dates failures (Status, and the age Check
// reports); time.Now without it.
func WithClock(now func() time.Time) Option { return func(o *options) { o.now = now } }

// WithEnvironment selects the environment ("dev", "staging", "prod") whose
// overlays override the base sources: every source that is an Overlayer is
// followed by its Overlay(env). An empty env adds no overlays.
func WithEnvironment(env string) Option { return func(o *options) { o.env = env } }

// WithValidator adds a check that every new configuration must pass before
// it replaces the current one. A reload it fails is rejected (the last good
// snapshot stays and the error, wrapping ErrInvalid, is reported); at New it
// makes New fail, since there is no last good snapshot yet. Validators see
// the merged configuration and run on the reloading goroutine.
func WithValidator(validate func(*Snapshot) error) Option {
	return func(o *options) { o.validators = append(o.validators, validate) }
}

// WithErrorHandler adds a function told of every failed load, watch or
// rejected reload, with a *SourceError. It runs on the reloading goroutine
// and must not block; Status keeps the last error of each source too.
func WithErrorHandler(handle func(error)) Option {
	return func(o *options) { o.onError = append(o.onError, handle) }
}

// WithLogger logs failed loads and rejected reloads at Warn. Without it the
// Config logs nothing.
func WithLogger(l *slog.Logger) Option { return func(o *options) { o.logger = l } }

// WithPollInterval reloads every source that is not a Watcher (and every
// Watcher whose watch is failing) every d. Zero, the default, polls nothing:
// files and Consul are watched, the environment and flags do not change.
func WithPollInterval(d time.Duration) Option { return func(o *options) { o.poll = d } }

// WithStrictStart makes New fail when any source fails to load. Without it
// New starts from the sources that loaded, reports the others and keeps
// retrying them in the background (a source that is not a Watcher is
// retried only when polling is on).
func WithStrictStart() Option { return func(o *options) { o.strict = true } }

// WithSecretKeys adds words that mark a key holding one anywhere as secret
// in Redacted dumps, matched case-insensitively, to the defaults
// (redact's DefaultWords: password, passwd, secret, token, apikey, api_key,
// api-key, authorization, cookie, credential, private, session).
func WithSecretKeys(substrings ...string) Option {
	return func(o *options) {
		for _, s := range substrings {
			o.secrets = append(o.secrets, strings.ToLower(s))
		}
	}
}

// WithRetry sets the backoff between attempts to restart a failed watch:
// it starts at min and doubles up to max, with jitter. The defaults are
// 500ms and 30s.
func WithRetry(min, max time.Duration) Option {
	return func(o *options) { o.retryMin, o.retryMax = min, max }
}

func collect(opts []Option) options {
	o := options{retryMin: 500 * time.Millisecond, retryMax: 30 * time.Second}
	for _, opt := range opts {
		opt(&o)
	}
	if o.retryMin <= 0 {
		o.retryMin = 500 * time.Millisecond
	}
	if o.retryMax < o.retryMin {
		o.retryMax = o.retryMin
	}
	return o
}
