package redisurl

import (
	"net/url"
	"testing"

	"github.com/redis/go-redis/v9"
)

func TestClient(t *testing.T) {
	for raw, cluster := range map[string]bool{
		"redis://127.0.0.1:6379/0":                        false,
		"rediss://u:p@127.0.0.1:6380/2?dial_timeout=1s":   false,
		"redis+cluster://127.0.0.1:7000,127.0.0.1:7001":   true,
		"redis+cluster://127.0.0.1:7000?addr=127.0.0.1:1": true,
	} {
		u, _ := url.Parse(raw)
		c, err := Client(u)
		if err != nil {
			t.Fatalf("Client(%q): %v", raw, err)
		}
		switch c := c.(type) {
		case *redis.Client:
			if cluster || !c.Options().ContextTimeoutEnabled {
				t.Errorf("%s: a standalone client without ContextTimeoutEnabled", raw)
			}
		case *redis.ClusterClient:
			if !cluster || !c.Options().ContextTimeoutEnabled || len(c.Options().Addrs) != 2 {
				t.Errorf("%s: cluster options %+v", raw, c.Options().Addrs)
			}
		}
		c.Close()
	}
	for _, raw := range []string{"redis://h:1/notadb", "redis://h:1/0?no_such_option=1"} {
		u, _ := url.Parse(raw)
		if c, err := Client(u); err == nil {
			c.Close()
			t.Errorf("Client(%q) accepted it", raw)
		}
	}
}
