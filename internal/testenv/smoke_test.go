package testenv_test

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/microos/go-os/internal/testenv"
)

// The smoke tests prove that every backend scripts/backends starts is really
// there and answers the way the adapter tests expect.

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return c
}

func TestRedisSmoke(t *testing.T) {
	c := redis.NewClient(&redis.Options{Addr: testenv.Redis(t)})
	defer c.Close()
	if err := c.Ping(ctx(t)).Err(); err != nil {
		t.Fatalf("PING: %v", err)
	}
}

func TestRedisClusterSmoke(t *testing.T) {
	c := redis.NewClusterClient(&redis.ClusterOptions{Addrs: testenv.RedisCluster(t)})
	defer c.Close()
	info, err := c.ClusterInfo(ctx(t)).Result()
	if err != nil {
		t.Fatalf("CLUSTER INFO: %v", err)
	}
	for _, want := range []string{"cluster_state:ok", "cluster_known_nodes:6", "cluster_size:3"} {
		if !strings.Contains(info, want) {
			t.Errorf("CLUSTER INFO lacks %q:\n%s", want, info)
		}
	}
}

func TestMemcachedSmoke(t *testing.T) {
	addrs := testenv.Memcached(t)
	if len(addrs) < 2 {
		t.Fatalf("want two memcached servers for hashing tests, have %v", addrs)
	}
	for _, addr := range addrs {
		reply := exchange(t, addr, "version\r\n")
		if !strings.HasPrefix(reply, "VERSION ") {
			t.Errorf("%s: version: %q", addr, reply)
		}
	}
}

func TestConsulSmoke(t *testing.T) {
	body := get(t, "http://"+testenv.Consul(t)+"/v1/status/leader")
	var leader string
	if err := json.Unmarshal(body, &leader); err != nil || leader == "" {
		t.Fatalf("no Consul leader: %q (%v)", body, err)
	}
}

func TestZipkinSmoke(t *testing.T) {
	spansURL, queryURL := testenv.Zipkin(t)
	traceID := randomHex(t, 8)
	span := fmt.Sprintf(`[{"traceId":%q,"id":%q,"name":"smoke","kind":"SERVER",
		"timestamp":%d,"duration":1500,"localEndpoint":{"serviceName":"go-os-smoke"}}]`,
		traceID, traceID, time.Now().UnixMicro())
	resp, err := http.Post(spansURL, "application/json", strings.NewReader(span))
	if err != nil {
		t.Fatalf("POST span: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted {
		t.Fatalf("POST span: status %d", resp.StatusCode)
	}
	// The collector makes spans queryable shortly after the POST.
	eventually(t, "span to be queryable", func() bool {
		resp, err := http.Get(queryURL + "/api/traces/" + traceID)
		if err != nil {
			return false
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK && strings.Contains(string(body), `"operationName":"smoke"`)
	})
}

func TestStatsdSmoke(t *testing.T) {
	addr, metricsURL := testenv.Statsd(t)
	name := "goos_smoke_" + randomHex(t, 4)
	send(t, addr, name+":3|c|#env:ci")
	eventually(t, name+" in /metrics", func() bool {
		return strings.Contains(string(get(t, metricsURL)), name+`{env="ci"} 3`)
	})
}

func TestStatsdGraphiteSmoke(t *testing.T) {
	addr, admin := testenv.StatsdGraphite(t)
	name := "goos.smoke." + randomHex(t, 4)
	send(t, addr, name+";env=ci:3|c")
	eventually(t, name+" in the daemon's counters", func() bool {
		return strings.Contains(exchange(t, admin, "counters\n"), name+";env=ci")
	})
}

func TestOAuth2Smoke(t *testing.T) {
	srv := testenv.OAuth2(t)
	cfg := clientcredentials.Config{
		ClientID: srv.ClientID, ClientSecret: srv.ClientSecret,
		TokenURL: srv.Issuer + "/token", Scopes: []string{"read"},
	}
	tok, err := cfg.Token(ctx(t))
	if err != nil {
		t.Fatalf("client_credentials token: %v", err)
	}
	req, _ := http.NewRequest(http.MethodPost, srv.Issuer+"/token/introspection",
		strings.NewReader(url.Values{"token": {tok.AccessToken}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(srv.ClientID, srv.ClientSecret)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("introspection: %v", err)
	}
	defer resp.Body.Close()
	var got struct {
		Active bool   `json:"active"`
		Scope  string `json:"scope"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&got); err != nil {
		t.Fatalf("introspection answer: %v", err)
	}
	if !got.Active || got.Scope != "read" {
		t.Fatalf("introspection: %+v, want active with scope read", got)
	}
}

func get(t *testing.T, u string) []byte {
	t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		t.Fatalf("GET %s: %v", u, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: status %d, %v", u, resp.StatusCode, err)
	}
	return body
}

func send(t *testing.T, addr, line string) {
	t.Helper()
	c, err := net.Dial("udp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.Write([]byte(line)); err != nil {
		t.Fatal(err)
	}
}

// exchange sends a line-protocol command and reads the answer up to the
// daemon's END marker.
func exchange(t *testing.T, addr, cmd string) string {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 2*time.Second)
	if err != nil {
		t.Fatalf("dial %s: %v", addr, err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.WriteString(c, cmd); err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	r := bufio.NewReader(c)
	for {
		line, err := r.ReadString('\n')
		b.WriteString(line)
		if err != nil || strings.HasPrefix(line, "VERSION ") || strings.TrimSpace(line) == "END" {
			return b.String()
		}
	}
}

func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func randomHex(t *testing.T, n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}
