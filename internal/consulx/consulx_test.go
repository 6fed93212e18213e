package consulx

import (
	"fmt"
	"net/url"
	"strings"
	"testing"

	"github.com/hashicorp/consul/api"
)

func TestClientConfig(t *testing.T) {
	u, _ := url.Parse("consul://10.0.0.1:8500/config/app/?token=T&dc=eu&tls=1&server_name=consul.internal&format=yaml")
	q := u.Query()
	cfg, err := ClientConfig(u, q)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Address != "10.0.0.1:8500" || cfg.Token != "T" || cfg.Datacenter != "eu" || cfg.Scheme != "https" || cfg.TLSConfig.Address != "consul.internal" {
		t.Fatalf("config = %+v", cfg)
	}
	if len(q) != 1 || q.Get("format") != "yaml" {
		t.Fatalf("left for the adapter: %v, want only format", q)
	}
	if err := Unknown(q, "format"); err == nil || !strings.Contains(err.Error(), `"format"`) {
		t.Fatalf("Unknown with a leftover: %v", err)
	}
	if err := Unknown(url.Values{}); err != nil {
		t.Fatalf("Unknown with nothing left: %v", err)
	}
}

func TestClientConfigRejects(t *testing.T) {
	for _, raw := range []string{
		"consul://u:p@h:1",
		"consul://h:1?token=a&token=b",
		"consul://h:1?tls=maybe",
		"consul://h:1?cert_file=c.pem",
		"consul://h:1?insecure_skip_verify=yes-please",
	} {
		u, _ := url.Parse(raw)
		if _, err := ClientConfig(u, u.Query()); err == nil {
			t.Errorf("ClientConfig(%q) accepted it", raw)
		}
	}
}

func TestForbidden(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want bool
	}{
		{api.StatusError{Code: 403, Body: "Permission denied"}, true},
		{fmt.Errorf("wrapped: %w", api.StatusError{Code: 401}), true},
		{api.StatusError{Code: 500, Body: "rpc error: ACL not found"}, true},
		{api.StatusError{Code: 500, Body: "rpc error: no leader"}, false},
		{fmt.Errorf("dial tcp: connection refused"), false},
	} {
		if got := Forbidden(tc.err); got != tc.want {
			t.Errorf("Forbidden(%v) = %v, want %v", tc.err, got, tc.want)
		}
	}
	if !BadRequest(api.StatusError{Code: 400}) || BadRequest(api.StatusError{Code: 404}) {
		t.Error("BadRequest misclassifies")
	}
}
