package kv

import (
	"context"
	"fmt"
	"net/url"
	"time"

	"github.com/microos/go-os/internal/urlopen"
)

var backends = urlopen.New[Driver]("kv")

func init() {
	Register("mem", func(_ context.Context, u *url.URL) (Driver, error) {
		if u.RawQuery != "" {
			return nil, fmt.Errorf("mem:// takes no parameters but namespace, got %q", u.RawQuery)
		}
		return newMemory(time.Now), nil
	})
}

// Register makes Open understand scheme. Adapters call it from init:
// importing kv/rediskv registers redis, rediss, redis+cluster and
// rediss+cluster; kv/memcachekv registers memcache. It panics if the scheme
// is taken.
func Register(scheme string, open func(ctx context.Context, u *url.URL) (Driver, error)) {
	backends.Register(scheme, open)
}

// Open returns a Store for the backend the URL names, so that an
// application picks its backend with one string:
//
//	mem://
//	redis://[user:password@]host:port/db     (rediss:// for TLS)
//	redis+cluster://host1:port1,host2:port2  (rediss+cluster:// for TLS)
//	memcache://host1:port1,host2:port2
//
// The query parameter namespace=NS is the same as WithNamespace(NS) and
// works on every scheme; the others are the backend's. The backend's
// adapter must be imported (blank, if only its URL is used).
func Open(ctx context.Context, rawURL string, opts ...Option) (Store, error) {
	u, err := urlopen.Parse(rawURL)
	if err != nil {
		return nil, fmt.Errorf("kv: open: %w", err)
	}
	q := u.Query()
	if ns := q.Get("namespace"); ns != "" {
		opts = append([]Option{WithNamespace(ns)}, opts...)
		q.Del("namespace")
		u.RawQuery = q.Encode()
	}
	o := collect(opts)
	d, err := backends.OpenURL(ctx, u)
	if err != nil {
		return nil, err
	}
	if m, ok := d.(*memory); ok {
		m.now = o.now
	}
	return New(d, opts...), nil
}
