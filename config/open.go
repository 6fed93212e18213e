package config

import (
	"context"
	"fmt"
	"io"
	"net/url"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/microos/go-os/internal/urlopen"
)

var schemes = urlopen.New[Source]("config")

func init() {
	Register("mem", func(context.Context, *url.URL) (Source, error) { return NewMemory(nil), nil })
	Register("file", openFile)
	Register("env", openEnv)
}

// Register makes OpenSource understand scheme. Adapters call it from init:
// importing config/consulconfig registers consul. It panics if the scheme
// is taken.
func Register(scheme string, open func(ctx context.Context, u *url.URL) (Source, error)) {
	schemes.Register(scheme, open)
}

// OpenSource returns the Source the URL names, so that an application lists its
// sources as strings (flags, an environment variable):
//
//	mem://
//	file:///etc/app/app.yaml    file:app.yaml (relative)    ?format=yaml&optional=true
//	env://APP_                  ?sep=__
//	consul://127.0.0.1:8500/config/app/    (import config/consulconfig)
//
// The source's adapter must be imported (blank, if only its URL is used).
func OpenSource(ctx context.Context, rawURL string) (Source, error) {
	return schemes.Open(ctx, rawURL)
}

// OpenSources opens every URL in order. When one fails, the sources
// already opened are closed.
func OpenSources(ctx context.Context, rawURLs ...string) ([]Source, error) {
	out := make([]Source, 0, len(rawURLs))
	for _, u := range rawURLs {
		s, err := OpenSource(ctx, u)
		if err != nil {
			for _, o := range out {
				if c, ok := o.(io.Closer); ok {
					c.Close()
				}
			}
			return nil, err
		}
		out = append(out, s)
	}
	return out, nil
}

func openFile(_ context.Context, u *url.URL) (Source, error) {
	path := u.Path
	switch {
	case u.Opaque != "":
		path = u.Opaque // file:app.yaml
	case u.Host != "" && u.Host != "localhost":
		path = filepath.Join(u.Host, u.Path) // file://./app.yaml
	}
	if path == "" {
		return nil, fmt.Errorf("no file path")
	}
	var opts []FileOption
	q := u.Query()
	if err := onlyParams(q, "format", "optional"); err != nil {
		return nil, err
	}
	if f := q.Get("format"); f != "" {
		opts = append(opts, FileFormat(f))
	}
	if o := q.Get("optional"); o != "" {
		b, err := strconv.ParseBool(o)
		if err != nil {
			return nil, fmt.Errorf("optional=%q: %w", o, err)
		}
		if b {
			opts = append(opts, Optional())
		}
	}
	return NewFile(path, opts...), nil
}

func openEnv(_ context.Context, u *url.URL) (Source, error) {
	prefix := u.Host
	if u.Opaque != "" {
		prefix = u.Opaque
	}
	var opts []EnvOption
	if err := onlyParams(u.Query(), "sep"); err != nil {
		return nil, err
	}
	if sep := u.Query().Get("sep"); sep != "" {
		opts = append(opts, EnvSeparator(sep))
	}
	return NewEnv(prefix, opts...), nil
}

// onlyParams refuses a parameter other than known, so that a misspelt one
// (optinal=true) is an error, never silently ignored.
func onlyParams(q url.Values, known ...string) error {
	for k := range q {
		if !slices.Contains(known, k) {
			return fmt.Errorf("unknown parameter %q (known: %s)", k, strings.Join(known, ", "))
		}
	}
	return nil
}

// Open is the Config of the sources the URLs name, merged in order (a
// later source overrides an earlier one), as every go-os package's Open
// returns its portable type:
//
//	cfg, err := config.Open(ctx, []string{"file:app.yaml", "env://APP_?sep=__"}, config.WithEnvironment("prod"))
//
// The Config owns the sources: Close closes them. A source that fails to
// open closes the ones opened before it.
func Open(ctx context.Context, rawURLs []string, opts ...Option) (*Config, error) {
	srcs, err := OpenSources(ctx, rawURLs...)
	if err != nil {
		return nil, err
	}
	return New(ctx, srcs, opts...)
}
