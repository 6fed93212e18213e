package ringkv_test

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/gomodule/redigo/redis"

	"github.com/microos/go-os/kv"
	"github.com/microos/go-os/kv/ringkv"
)

// A peer that does not switch its connections to RESP (a proxy in front
// of it) is called over HTTP: every operation still works.
func TestRefusedUpgradeFallsBackToHTTP(t *testing.T) {
	nodes := make([]*node, 2)
	urls := make([]string, 2)
	for i := range nodes {
		nodes[i] = newNode(t)
		nodes[i].noUpgrade.Store(true)
		urls[i] = nodes[i].url
	}
	for _, n := range nodes {
		n.join(t, urls, ringkv.WithReplicas(1))
	}
	settle(t, nodes...)
	s := nodes[0].ring.Store()
	defer s.Close()
	ctx := context.Background()
	for i := 0; i < 20; i++ {
		k := "fallback-" + strconv.Itoa(i)
		if err := s.Set(ctx, kv.Item{Key: k, Value: []byte("v")}); err != nil {
			t.Fatal(err)
		}
		if err := s.Add(ctx, kv.Item{Key: k, Value: []byte("w")}); !errors.Is(err, kv.ErrExists) {
			t.Fatalf("Add of an existing key: %v, want ErrExists", err)
		}
		it, err := s.Get(ctx, k)
		if err != nil || string(it.Value) != "v" {
			t.Fatalf("Get %s = %q, %v", k, it.Value, err)
		}
		if err := s.Delete(ctx, k); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Get(ctx, k); !errors.Is(err, kv.ErrNotFound) {
			t.Fatalf("Get after Delete: %v", err)
		}
	}
	if n := nodes[1].upgradedConns(); n != 0 {
		t.Fatalf("%d connections switched though the peer refuses", n)
	}
	if err := nodes[0].ring.Check(ctx); err != nil {
		t.Fatalf("Check after refused upgrades: %v", err)
	}
}

// upgrade opens a connection to the handler at base and switches it.
func upgrade(t *testing.T, base string) redis.Conn { return redis.NewConn(upgradeRaw(t, base), 0, 0) }

func upgradeRaw(t *testing.T, base string) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", strings.TrimPrefix(base, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest(http.MethodGet, base+"/conn", nil)
	req.Header.Set("Connection", "Upgrade")
	req.Header.Set("Upgrade", "ringkv-resp")
	if err := req.Write(c); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(c), req)
	if err != nil || resp.StatusCode != http.StatusSwitchingProtocols {
		t.Fatalf("upgrade: %v, %v", resp, err)
	}
	return c
}

// Commands on a switched connection are outside input: each bad one gets
// an error naming its class, stores nothing, and the connection serves
// the next.
func TestConnRejectsGarbage(t *testing.T) {
	r, srv := selfServed(t, ringkv.WithMaxValueSize(1024))
	c := upgrade(t, srv.URL)
	defer c.Close()
	big := string(make([]byte, 2048))
	for _, tc := range []struct {
		args []any
		want string // the error's first word
	}{
		{[]any{"a"}, "invalid"},
		{[]any{"a", "v", "0", "0", "0", "0", "0", "extra"}, "invalid"},
		{[]any{"a", "", "0", "0", "0", "0", "0"}, "notfound"}, // the valid control
		{[]any{"bad key", "", "0", "0", "0", "0", "0"}, "invalid"},
		{[]any{"", "", "0", "0", "0", "0", "0"}, "invalid"},
		{[]any{"a", "", "-1", "0", "0", "0", "0"}, "invalid"},
		{[]any{"a", "", "soon", "0", "0", "0", "0"}, "invalid"},
		{[]any{"a", "", "99999999999999999999", "0", "0", "0", "0"}, "invalid"},
		{[]any{"a", "", "0", "0", "x", "0", "0"}, "invalid"},
		{[]any{"a", "", "0", "0", "0", "3", "0"}, "notowner"}, // forwarded too often
	} {
		_, err := c.Do("GET", tc.args...)
		var re redis.Error
		if !errors.As(err, &re) || !strings.HasPrefix(string(re), tc.want+" ") {
			t.Errorf("GET %q: %v, want a %q error", tc.args, err, tc.want)
		}
	}
	for _, tc := range []struct {
		cmd  string
		args []any
		want string
	}{
		{"EXPLODE", []any{"a", "v", "0", "0", "0", "0", "0"}, "unknownop"},
		{"CAS", []any{"a", "v", "0", "0", "0", "0", "0"}, "invalid"}, // version 0
		{"SET", []any{"a", big, "0", "0", "0", "0", "0"}, "toolarge"},
		{"HELLO", []any{"3"}, "invalid"},
		{"REPLICATE", []any{"\xff\xff\xff"}, "invalid"},
	} {
		_, err := c.Do(tc.cmd, tc.args...)
		var re redis.Error
		if !errors.As(err, &re) || !strings.HasPrefix(string(re), tc.want+" ") {
			t.Errorf("%s: %v, want a %q error", tc.cmd, err, tc.want)
		}
	}
	s := r.Store()
	defer s.Close()
	if _, err := s.Get(context.Background(), "a"); !errors.Is(err, kv.ErrNotFound) {
		t.Fatalf("garbage commands stored something: %v", err)
	}
	// A valid write and read on the same connection, after all that.
	if _, err := c.Do("SET", "a", "v", "1500", "0", "0", "0", "0"); err != nil {
		t.Fatal(err)
	}
	reply, err := redis.Bytes(c.Do("GET", "a", "", "0", "0", "0", "0", "0"))
	if err != nil || len(reply) != 17 || string(reply[16:]) != "v" {
		t.Fatalf("GET after garbage: %q, %v", reply, err)
	}
	// Bytes that are not RESP: an error, and the connection is closed.
	raw := upgradeRaw(t, srv.URL)
	defer raw.Close()
	if _, err := raw.Write([]byte("*x\r\n")); err != nil {
		t.Fatal(err)
	}
	answer, err := io.ReadAll(raw)
	if err != nil || !strings.HasPrefix(string(answer), "-invalid ") {
		t.Fatalf("bytes that are not RESP: %q, %v; want an error, then the end", answer, err)
	}
}

// A connection a peer switched is closed when the instance's HTTP server
// shuts down, as the server's own connections are: it does not keep
// serving the ring from a server that is gone.
func TestServerShutdownClosesSwitchedConns(t *testing.T) {
	_, srv := selfServed(t)
	c := upgrade(t, srv.URL)
	defer c.Close()
	if _, err := c.Do("SET", "a", "v", "0", "0", "0", "0", "0"); err != nil {
		t.Fatal(err)
	}
	if err := srv.Config.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Do("GET", "a", "", "0", "0", "0", "0", "0"); err == nil {
		t.Fatal("a switched connection still served after the server's Shutdown")
	}
}
