package consuldiscovery

import (
	"context"
	"fmt"
	"net/url"
	"time"

	"github.com/hashicorp/consul/api"

	"github.com/microos/go-os/discovery"
	"github.com/microos/go-os/internal/consulx"
)

func init() {
	discovery.Register("consul", func(_ context.Context, u *url.URL) (discovery.Driver, error) {
		cfg, opts, err := ParseURL(u)
		if err != nil {
			return nil, err
		}
		return dial(cfg, collect(opts))
	})
}

// ParseURL turns a consul:// URL into the client configuration and options
// that discovery.Open uses:
//
//	consul://host:port?token=T&datacenter=DC&tls=1&ca_file=F&cert_file=F&key_file=F&server_name=N&insecure_skip_verify=1&wait=1m&deregister_after=1m
//
// Without host:port the client's defaults apply (CONSUL_HTTP_ADDR, ...).
// tls=1 talks HTTPS; the files are PEM. Unknown parameters are an error,
// so that a misspelt one is not silently ignored.
func ParseURL(u *url.URL) (*api.Config, []Option, error) {
	if u.Scheme != "consul" {
		return nil, nil, fmt.Errorf("scheme %q: want consul", u.Scheme)
	}
	if u.Path != "" && u.Path != "/" {
		return nil, nil, fmt.Errorf("unexpected path %q (want consul://host:port?options)", u.Path)
	}
	q := u.Query()
	cfg, err := consulx.ClientConfig(u, q)
	if err != nil {
		return nil, nil, err
	}
	var opts []Option
	for k, with := range map[string]func(time.Duration) Option{"wait": WithWaitTime, "deregister_after": WithDeregisterCriticalAfter} {
		vs, ok := q[k]
		if !ok {
			continue
		}
		delete(q, k)
		if len(vs) != 1 {
			return nil, nil, fmt.Errorf("parameter %q given %d times", k, len(vs))
		}
		d, err := consulx.Positive(vs[0])
		if err != nil {
			return nil, nil, fmt.Errorf("parameter %s=%q: %w", k, vs[0], err)
		}
		opts = append(opts, with(d))
	}
	if err := consulx.Unknown(q, "wait", "deregister_after"); err != nil {
		return nil, nil, err
	}
	return cfg, opts, nil
}
