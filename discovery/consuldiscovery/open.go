package consuldiscovery

import (
	"context"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"time"

	"github.com/hashicorp/consul/api"

	"github.com/microos/go-os/discovery"
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
	if u.User != nil {
		return nil, nil, fmt.Errorf("user info in the URL: pass the ACL token as ?token=")
	}
	cfg := api.DefaultConfig()
	if u.Host != "" {
		cfg.Address = u.Host
	}
	var opts []Option
	q := u.Query()
	keys := make([]string, 0, len(q))
	for k := range q {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		if len(q[k]) != 1 {
			return nil, nil, fmt.Errorf("parameter %q given %d times", k, len(q[k]))
		}
		v := q.Get(k)
		var err error
		switch k {
		case "token":
			cfg.Token = v
		case "datacenter", "dc":
			cfg.Datacenter = v
		case "tls":
			var on bool
			if on, err = strconv.ParseBool(v); on {
				cfg.Scheme = "https"
			}
		case "ca_file":
			cfg.TLSConfig.CAFile = v
		case "cert_file":
			cfg.TLSConfig.CertFile = v
		case "key_file":
			cfg.TLSConfig.KeyFile = v
		case "server_name":
			cfg.TLSConfig.Address = v
		case "insecure_skip_verify":
			cfg.TLSConfig.InsecureSkipVerify, err = strconv.ParseBool(v)
		case "wait":
			var d time.Duration
			if d, err = parsePositive(v); err == nil {
				opts = append(opts, WithWaitTime(d))
			}
		case "deregister_after":
			var d time.Duration
			if d, err = parsePositive(v); err == nil {
				opts = append(opts, WithDeregisterCriticalAfter(d))
			}
		default:
			return nil, nil, fmt.Errorf("unknown parameter %q (known: token, datacenter, tls, ca_file, cert_file, key_file, server_name, insecure_skip_verify, wait, deregister_after)", k)
		}
		if err != nil {
			return nil, nil, fmt.Errorf("parameter %s=%q: %w", k, v, err)
		}
	}
	if (cfg.TLSConfig.CertFile == "") != (cfg.TLSConfig.KeyFile == "") {
		return nil, nil, fmt.Errorf("cert_file and key_file go together")
	}
	return cfg, opts, nil
}

func parsePositive(v string) (time.Duration, error) {
	d, err := time.ParseDuration(v)
	if err == nil && d <= 0 {
		err = fmt.Errorf("not positive")
	}
	return d, err
}
