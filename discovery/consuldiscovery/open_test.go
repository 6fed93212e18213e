package consuldiscovery_test

import (
	"net/url"
	"strings"
	"testing"

	"github.com/microos/go-os/discovery/consuldiscovery"
)

func TestParseURL(t *testing.T) {
	u, _ := url.Parse("consul://10.1.2.3:8501?token=s3cr3t&datacenter=eu1&tls=1&ca_file=/ca.pem&cert_file=/c.pem&key_file=/k.pem&server_name=consul.internal&insecure_skip_verify=false&wait=30s&deregister_after=5m")
	cfg, opts, err := consuldiscovery.ParseURL(u)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Address != "10.1.2.3:8501" || cfg.Token != "s3cr3t" || cfg.Datacenter != "eu1" || cfg.Scheme != "https" ||
		cfg.TLSConfig.CAFile != "/ca.pem" || cfg.TLSConfig.CertFile != "/c.pem" || cfg.TLSConfig.KeyFile != "/k.pem" ||
		cfg.TLSConfig.Address != "consul.internal" || cfg.TLSConfig.InsecureSkipVerify {
		t.Fatalf("config %+v", cfg)
	}
	if len(opts) != 2 {
		t.Fatalf("%d options, want wait and deregister_after", len(opts))
	}
	for raw, want := range map[string]string{
		"consul://h:1?tokn=x":             `unknown parameter "tokn"`,
		"consul://h:1?tls=maybe":          "tls",
		"consul://h:1?wait=-1s":           "wait",
		"consul://h:1?cert_file=/c.pem":   "cert_file and key_file",
		"consul://user:pw@h:1":            "token",
		"consul://h:1/path":               "path",
		"consul://h:1?token=a&token=b":    "2 times",
		"consul://h:1?deregister_after=x": "deregister_after",
	} {
		u, _ := url.Parse(raw)
		if _, _, err := consuldiscovery.ParseURL(u); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("ParseURL(%s) = %v, want an error about %s", raw, err, want)
		}
	}
}

func FuzzParseURL(f *testing.F) {
	for _, s := range []string{"consul://127.0.0.1:8500", "consul://?token=x&tls=true", "consul://h?wait=1m&dc=x", "consul://h?insecure_skip_verify=1&ca_file=%00"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		u, err := url.Parse(raw)
		if err != nil {
			return
		}
		u.Scheme = "consul"
		cfg, _, err := consuldiscovery.ParseURL(u)
		if err == nil && cfg == nil {
			t.Fatal("nil config without error")
		}
	})
}
