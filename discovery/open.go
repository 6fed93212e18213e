package discovery

import (
	"context"
	"fmt"
	"net/url"

	"github.com/microos/go-os/internal/urlopen"
)

var backends = urlopen.New[Driver]("discovery")

func init() {
	Register("mem", func(_ context.Context, u *url.URL) (Driver, error) {
		if u.Host != "" || (u.Path != "" && u.Path != "/") || u.RawQuery != "" {
			return nil, fmt.Errorf("mem:// takes no host, path or parameter, got %q", u.Redacted())
		}
		return newMemDriver(), nil
	})
}

// Register makes Open understand scheme. Adapters call it from init:
// importing discovery/consuldiscovery registers consul. It panics if the
// scheme is taken.
func Register(scheme string, open func(ctx context.Context, u *url.URL) (Driver, error)) {
	backends.Register(scheme, open)
}

// Open returns a Registry for the backend the URL names, so that an
// application picks its backend with one string:
//
//	mem://
//	consul://host:port[?token=T&datacenter=DC&tls=1&ca_file=F&cert_file=F&key_file=F&server_name=N&insecure_skip_verify=1]
//
// consul:// without host:port uses the Consul client's defaults
// (CONSUL_HTTP_ADDR, CONSUL_HTTP_TOKEN, ... or 127.0.0.1:8500). The
// backend's adapter must be imported (blank, if only its URL is used).
// Unknown parameters are an error, so that a misspelt one is never
// silently ignored. For
// mem:// the result is a *Memory, whose fault injection is reachable with a
// type assertion.
func Open(ctx context.Context, rawURL string, opts ...Option) (Registry, error) {
	d, err := backends.Open(ctx, rawURL)
	if err != nil {
		return nil, err
	}
	if m, ok := d.(*memDriver); ok {
		return &Memory{Registry: New(m, opts...), d: m}, nil
	}
	return New(d, opts...), nil
}
