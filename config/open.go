package config

import (
	"context"
	"fmt"
	"net/url"
	"path/filepath"
	"strconv"

	"github.com/microos/go-os/internal/urlopen"
)

var schemes = urlopen.New[Source]("config")

func init() {
	Register("mem", func(context.Context, *url.URL) (Source, error) { return NewMemory(nil), nil })
	Register("file", openFile)
	Register("env", openEnv)
}

// Register makes Open understand scheme. Adapters call it from init:
// importing config/consulconfig registers consul. It panics if the scheme
// is taken.
func Register(scheme string, open func(ctx context.Context, u *url.URL) (Source, error)) {
	schemes.Register(scheme, open)
}

// Open returns the Source the URL names, so that an application lists its
// sources as strings (flags, an environment variable):
//
//	mem://
//	file:///etc/app/app.yaml    file:app.yaml (relative)    ?format=yaml&optional=true
//	env://APP_                  ?sep=__
//	consul://127.0.0.1:8500/config/app/    (import config/consulconfig)
//
// The source's adapter must be imported (blank, if only its URL is used).
func Open(ctx context.Context, rawURL string) (Source, error) {
	return schemes.Open(ctx, rawURL)
}

// OpenAll opens every URL in order.
func OpenAll(ctx context.Context, rawURLs ...string) ([]Source, error) {
	out := make([]Source, 0, len(rawURLs))
	for _, u := range rawURLs {
		s, err := Open(ctx, u)
		if err != nil {
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
	if sep := u.Query().Get("sep"); sep != "" {
		opts = append(opts, EnvSeparator(sep))
	}
	return NewEnv(prefix, opts...), nil
}
