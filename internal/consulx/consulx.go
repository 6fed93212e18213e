// Package consulx is what the Consul adapters (config/consulconfig,
// discovery/consuldiscovery, sync/consulsync, monitor/consulmonitor) share: one reading of a consul:// URL's
// connection parameters and one classification of Consul's errors, so
// that the same URL means the same connection in every package.
package consulx

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/hashicorp/consul/api"
)

// NewClient makes a Consul client on cfg. When cfg brings no HTTP client
// or transport, the client gets a transport of its own, and closeIdle
// frees that transport's connections: the adapter that opened the client
// by URL calls it on Close, so that no connection (and no goroutine) is
// left behind. With the caller's own client or transport, closeIdle does
// nothing: those are the caller's to close.
func NewClient(cfg *api.Config) (client *api.Client, closeIdle func(), err error) {
	closeIdle = func() {}
	if cfg.HttpClient == nil && cfg.Transport == nil {
		t := http.DefaultTransport.(*http.Transport).Clone()
		t.MaxIdleConnsPerHost = 4
		cfg.Transport = t
		closeIdle = t.CloseIdleConnections
	}
	client, err = api.NewClient(cfg)
	if err != nil {
		return nil, nil, err
	}
	return client, closeIdle, nil
}

// Params are the connection parameters ClientConfig reads.
var Params = []string{"token", "datacenter", "dc", "tls", "ca_file", "cert_file", "key_file", "server_name", "insecure_skip_verify"}

// ClientConfig makes the client configuration of a consul://host:port URL
// and takes its connection parameters out of q, leaving the adapter's own:
//
//	token=T  datacenter=DC (or dc=)  tls=1  ca_file=F  cert_file=F  key_file=F
//	server_name=N  insecure_skip_verify=1
//
// Without a host the client's defaults apply (CONSUL_HTTP_ADDR, ...). User
// info in the URL is refused: the ACL token goes in token=. A parameter
// given twice is an error.
func ClientConfig(u *url.URL, q url.Values) (*api.Config, error) {
	if u.User != nil {
		return nil, errors.New("user info in the URL: pass the ACL token as ?token=")
	}
	cfg := api.DefaultConfig()
	if u.Host != "" {
		cfg.Address = u.Host
	}
	for _, k := range Params {
		vs, ok := q[k]
		if !ok {
			continue
		}
		delete(q, k)
		if len(vs) != 1 {
			return nil, fmt.Errorf("parameter %q given %d times", k, len(vs))
		}
		v := vs[0]
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
		}
		if err != nil {
			return nil, fmt.Errorf("parameter %s=%q: %w", k, v, err)
		}
	}
	if (cfg.TLSConfig.CertFile == "") != (cfg.TLSConfig.KeyFile == "") {
		return nil, errors.New("cert_file and key_file go together")
	}
	return cfg, nil
}

// Unknown is the error for parameters left in q that nobody took, so that
// a misspelt one is never silently ignored; nil when q is empty.
func Unknown(q url.Values, own ...string) error {
	if len(q) == 0 {
		return nil
	}
	keys := make([]string, 0, len(q))
	for k := range q {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return fmt.Errorf("unknown parameter %q (known: %s)", keys[0], strings.Join(append(slices.Clone(Params), own...), ", "))
}

// Positive parses a duration that must be above zero.
func Positive(v string) (time.Duration, error) {
	d, err := time.ParseDuration(v)
	if err == nil && d <= 0 {
		err = errors.New("not positive")
	}
	return d, err
}

// Forbidden reports whether Consul refused the request's ACL token.
func Forbidden(err error) bool {
	var status api.StatusError
	if !errors.As(err, &status) {
		return false
	}
	return status.Code == http.StatusUnauthorized || status.Code == http.StatusForbidden ||
		status.Code == http.StatusInternalServerError && strings.Contains(status.Body, "ACL not found")
}

// BadRequest reports whether Consul refused the request as malformed.
func BadRequest(err error) bool {
	var status api.StatusError
	return errors.As(err, &status) && status.Code == http.StatusBadRequest
}
