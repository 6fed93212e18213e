package ringkv_test

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/microos/go-os/internal/fakeclock"
	"github.com/microos/go-os/internal/testenv"
	"github.com/microos/go-os/kv"
	"github.com/microos/go-os/kv/kvtest"
	"github.com/microos/go-os/kv/ringkv"
)

func TestMain(m *testing.M) {
	runChildIfAsked() // a child instance for the SIGKILL test
	goleak.VerifyTestMain(m)
}

// node is one instance: a ring membership with its handler on a loopback
// HTTP server of its own.
type node struct {
	url  string
	srv  *httptest.Server
	ring *ringkv.Ring
	h    atomic.Pointer[http.Handler]
	off  atomic.Bool // answer 503, as an instance that is not up yet
	// gate, when set, holds the copies sent to the instance until closed.
	gate atomic.Pointer[chan struct{}]
	h2   atomic.Int64 // calls that came over HTTP/2
	// hang, when set, makes the instance accept calls and never answer
	// (until the caller gives up); hung counts them.
	hang atomic.Bool
	hung atomic.Int64
	// noUpgrade refuses to switch connections to RESP, as a proxy in
	// front of the instance might.
	noUpgrade atomic.Bool
	// upgraded are the connections the ring's handler switched to RESP:
	// the server forgets them, so a crash or a hang closes them here.
	mu       sync.Mutex
	upgraded map[net.Conn]bool
}

// setOff makes the instance answer 503, or serve again.
func (n *node) setOff(off bool) {
	n.off.Store(off)
	n.closeUpgraded()
}

// setHang makes the instance hang every call, or answer again.
func (n *node) setHang(hang bool) {
	n.hang.Store(hang)
	n.closeUpgraded()
}

func (n *node) upgradedConns() int {
	n.mu.Lock()
	defer n.mu.Unlock()
	return len(n.upgraded)
}

func (n *node) closeUpgraded() {
	n.mu.Lock()
	defer n.mu.Unlock()
	for c := range n.upgraded {
		c.Close()
	}
	clear(n.upgraded)
}

func newNode(t testing.TB) *node {
	t.Helper()
	n := &node{}
	n.srv = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.ProtoMajor == 2 {
			n.h2.Add(1)
		}
		h := n.h.Load()
		if h == nil || n.off.Load() {
			http.Error(w, "not serving", http.StatusServiceUnavailable)
			return
		}
		if n.noUpgrade.Load() && r.Header.Get("Upgrade") != "" {
			http.Error(w, "no upgrades here", http.StatusBadRequest)
			return
		}
		if n.hang.Load() {
			n.hung.Add(1)
			<-r.Context().Done()
			return
		}
		if g := n.gate.Load(); g != nil && strings.HasSuffix(r.URL.Path, "/replicate") {
			select {
			case <-*g:
			case <-r.Context().Done():
				return
			}
		}
		(*h).ServeHTTP(w, r)
	}))
	n.upgraded = map[net.Conn]bool{}
	n.srv.Config.ConnState = func(c net.Conn, s http.ConnState) {
		if s == http.StateHijacked {
			n.mu.Lock()
			n.upgraded[c] = true
			n.mu.Unlock()
		}
	}
	// As an instance's server would be set up for WithH2C.
	n.srv.Config.Protocols = new(http.Protocols)
	n.srv.Config.Protocols.SetHTTP1(true)
	n.srv.Config.Protocols.SetUnencryptedHTTP2(true)
	n.srv.Start()
	n.url = n.srv.URL + "/_kv"
	t.Cleanup(n.srv.Close)
	return n
}

func (n *node) join(t testing.TB, peers []string, opts ...ringkv.Option) *ringkv.Ring {
	t.Helper()
	r, err := ringkv.New(n.url, peers, opts...)
	if err != nil {
		t.Fatal(err)
	}
	n.ring = r
	h := http.StripPrefix("/_kv", r.Handler())
	n.h.Store(&h)
	t.Cleanup(func() { r.Close() })
	return r
}

// kill stops the instance abruptly: its listener and connections close,
// nothing is handed off.
func (n *node) kill() {
	n.srv.Listener.Close()
	n.srv.CloseClientConnections()
	n.setOff(true)
}

// cluster starts n instances, all in one ring of fixed peers.
func cluster(t testing.TB, count int, opts ...ringkv.Option) []*node {
	t.Helper()
	nodes := make([]*node, count)
	urls := make([]string, count)
	for i := range nodes {
		nodes[i] = newNode(t)
		urls[i] = nodes[i].url
	}
	for _, n := range nodes {
		n.join(t, urls, opts...)
	}
	settle(t, nodes...)
	return nodes
}

func settle(t testing.TB, nodes ...*node) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	for _, n := range nodes {
		if err := n.ring.Settle(ctx); err != nil {
			t.Fatalf("Settle %s: %v", n.url, err)
		}
	}
}

// waitFor polls cond (what the ring does in the background) until it
// holds or 20 s pass.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestConformance(t *testing.T) {
	c := fakeclock.New(time.Unix(1_800_000_000, 0))
	nodes := cluster(t, 3, ringkv.WithClock(c.Now))
	var next int
	kvtest.Run(t, kvtest.Harness{
		// Each store is on another instance: whichever instance a call
		// starts on, the ring answers the same.
		New: func(t *testing.T, opts ...kv.Option) kv.Store {
			next++
			return nodes[next%len(nodes)].ring.Store(opts...)
		},
		Advance: c.Advance,
		Unreachable: func(t *testing.T) kv.Store {
			r, err := ringkv.New("http://client-only", []string{"http://" + testenv.FreePort(t) + "/_kv"})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { r.Close() })
			return r.Store()
		},
		Hung: func(t *testing.T) kv.Store {
			r, err := ringkv.New("http://client-only", []string{"http://" + testenv.Hung(t) + "/_kv"})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { r.Close() })
			return r.Store()
		},
	})
}

// peek asks one instance's handler for its own copy of key, as a repair
// would: "" and false when it has none.
func peek(t testing.TB, n *node, key string) (string, bool) {
	t.Helper()
	resp, err := http.Post(n.url+"/peek?k="+url.QueryEscape(key), "", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	switch resp.StatusCode {
	case http.StatusOK:
		return string(b), true // the record; the value is its tail
	case http.StatusNotFound:
		return "", false
	}
	t.Fatalf("peek %s: %d %s", key, resp.StatusCode, b)
	return "", false
}

func holders(t testing.TB, nodes []*node, key string) (n int) {
	for _, nd := range nodes {
		if _, ok := peek(t, nd, key); ok {
			n++
		}
	}
	return n
}

// Every key is held by N instances: the primary and N-1 replicas.
func TestKeysHaveNCopies(t *testing.T) {
	ctx := context.Background()
	for _, n := range []int{1, 2, 3} {
		t.Run("N="+strconv.Itoa(n), func(t *testing.T) {
			nodes := cluster(t, 4, ringkv.WithReplicas(n))
			s := nodes[0].ring.Store()
			defer s.Close()
			for i := 0; i < 100; i++ {
				k := "copies-" + strconv.Itoa(i)
				if err := s.Set(ctx, kv.Item{Key: k, Value: []byte("v")}); err != nil {
					t.Fatal(err)
				}
				if got := holders(t, nodes, k); got != n {
					t.Fatalf("%s is held by %d instances, want %d", k, got, n)
				}
			}
			total := 0
			for _, nd := range nodes {
				st := nd.ring.Stats()
				total += st.Keys
				if st.Keys < 100*n/4/2 {
					t.Errorf("%s holds %d of %d copies: unbalanced", nd.url, st.Keys, 100*n)
				}
			}
			if total != 100*n {
				t.Fatalf("%d copies in all, want %d", total, 100*n)
			}
		})
	}
}

// A call sent to an instance that does not own the key (a stale view) is
// forwarded to the owner, never answered as a miss.
func TestMisdirectedCallIsForwarded(t *testing.T) {
	nodes := cluster(t, 3, ringkv.WithReplicas(1))
	ctx := context.Background()
	s := nodes[0].ring.Store()
	defer s.Close()
	for i := 0; i < 30; i++ {
		k := "fwd-" + strconv.Itoa(i)
		if err := s.Set(ctx, kv.Item{Key: k, Value: []byte("v" + strconv.Itoa(i))}); err != nil {
			t.Fatal(err)
		}
		for _, n := range nodes {
			resp, err := http.Post(n.url+"/get?k="+k, "", nil)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK || string(b) != "v"+strconv.Itoa(i) {
				t.Fatalf("get %s at %s: %d %q", k, n.url, resp.StatusCode, b)
			}
		}
	}
}

// With N=2, an instance that is down leaves every key readable and
// writable; with N=1 its keys are unavailable, not missing.
func TestOneInstanceDown(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		n, w     int
		wantDown bool
	}{{1, 0, true}, {2, 0, false}, {2, 2, true}} {
		t.Run("N="+strconv.Itoa(tc.n)+",W="+strconv.Itoa(tc.w), func(t *testing.T) {
			nodes := cluster(t, 3, ringkv.WithReplicas(tc.n), ringkv.WithWriteQuorum(tc.w))
			s := nodes[0].ring.Store()
			defer s.Close()
			nodes[2].kill()
			var served, down int
			for i := 0; i < 100; i++ {
				k := "down-" + strconv.Itoa(i)
				switch err := s.Set(ctx, kv.Item{Key: k, Value: []byte("v")}); {
				case err == nil:
					served++
				case errors.Is(err, kv.ErrUnavailable):
					down++
				default:
					t.Fatalf("Set(%q): %v", k, err)
				}
			}
			if tc.wantDown && (served < 20 || down < 20) {
				t.Fatalf("%d served, %d unavailable: want both", served, down)
			}
			if !tc.wantDown && down != 0 {
				t.Fatalf("%d of 100 writes unavailable with a replica for every key", down)
			}
			if !tc.wantDown {
				// GetMulti reads the dead instance's keys from their replicas.
				var keys []string
				for i := 0; i < 100; i++ {
					keys = append(keys, "down-"+strconv.Itoa(i))
				}
				got, err := s.GetMulti(ctx, keys)
				if err != nil || len(got) != 100 {
					t.Fatalf("GetMulti with an instance down: %d of 100, %v", len(got), err)
				}
			}
			if err := nodes[0].ring.Check(ctx); !errors.Is(err, kv.ErrUnavailable) {
				t.Fatalf("Check with a peer down and keys under-replicated: %v", err)
			}
		})
	}
}

func TestCheck(t *testing.T) {
	ctx := context.Background()
	nodes := cluster(t, 2)
	s := nodes[0].ring.Store()
	defer s.Close()
	if err := s.Set(ctx, kv.Item{Key: "check", Value: []byte("v")}); err != nil {
		t.Fatal(err)
	}
	if err := nodes[0].ring.Check(ctx); err != nil {
		t.Fatalf("Check of a healthy ring: %v", err)
	}
	if err := s.Check(ctx); err != nil {
		t.Fatalf("Store.Check of a healthy ring: %v", err)
	}
	nodes[0].ring.Close()
	if err := nodes[0].ring.Check(ctx); !errors.Is(err, kv.ErrClosed) {
		t.Fatalf("Check after Close: %v, want ErrClosed", err)
	}
	if err := nodes[0].ring.Close(); err != nil {
		t.Fatalf("a second Close: %v", err)
	}
}

// A hung owner costs one timeout, not one per call: after a call to it
// fails, the next owner is tried first for a while.
func TestHungOwnerIsTriedLast(t *testing.T) {
	ctx := context.Background()
	client := &http.Client{Timeout: 200 * time.Millisecond, Transport: &http.Transport{}}
	defer client.CloseIdleConnections()
	nodes := cluster(t, 2, ringkv.WithHTTPClient(client))
	s := nodes[0].ring.Store()
	defer s.Close()
	var keys []string
	for i := 0; len(keys) < 20; i++ {
		k := "hung-" + strconv.Itoa(i)
		if err := s.Set(ctx, kv.Item{Key: k, Value: []byte("v")}); err != nil {
			t.Fatal(err)
		}
		keys = append(keys, k)
	}
	nodes[1].setHang(true)
	defer nodes[1].setHang(false)
	for _, k := range keys {
		if _, err := s.Get(ctx, k); err != nil {
			t.Fatalf("Get(%s) with one owner hung: %v", k, err)
		}
	}
	if n := nodes[1].hung.Load(); n > 2 {
		t.Fatalf("%d of 20 Gets waited on the hung owner", n)
	}
}

// A peer URL where no ring handler is mounted answers 404: that must read
// as a broken peer, never as a miss.
func TestMisconfiguredPeerIsNotAMiss(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	defer srv.Close()
	r, err := ringkv.New("http://client-only", []string{srv.URL + "/wrong"})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	s := r.Store()
	defer s.Close()
	if _, err := s.Get(context.Background(), "k"); !errors.Is(err, kv.ErrUnavailable) {
		t.Fatalf("Get through a peer without the handler: %v, want ErrUnavailable", err)
	}
}

func TestBadConfig(t *testing.T) {
	for _, peers := range [][]string{nil, {"10.0.0.1:8080"}, {"ftp://x/y"}, {"http://"}} {
		if r, err := ringkv.New("http://self", peers); err == nil {
			r.Close()
			t.Errorf("New with peers %q succeeded", peers)
		} else if !errors.Is(err, ringkv.ErrBadPeer) {
			t.Errorf("New with peers %q: %v, want ErrBadPeer", peers, err)
		}
	}
	for _, o := range []ringkv.Option{ringkv.WithReplicas(0), ringkv.WithWriteQuorum(3), ringkv.WithVirtualNodes(0)} {
		if r, err := ringkv.New("http://self", []string{"http://self"}, o); !errors.Is(err, ringkv.ErrBadOption) {
			if err == nil {
				r.Close()
			}
			t.Errorf("a bad option: %v, want ErrBadOption", err)
		}
	}
}

// selfServed is a ring of one instance, its handler on a loopback server;
// both are closed at the end of the test.
func selfServed(t *testing.T, opts ...ringkv.Option) (*ringkv.Ring, *httptest.Server) {
	t.Helper()
	r, err := ringkv.New("http://self", []string{"http://self"}, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	srv := httptest.NewServer(r.Handler())
	t.Cleanup(srv.Close)
	return r, srv
}

// Garbage sent to the handler gets a 4xx and changes nothing.
func TestHandlerRejectsGarbage(t *testing.T) {
	r, srv := selfServed(t, ringkv.WithMaxValueSize(1024))
	for _, tc := range []struct {
		method, path string
		body         string
		want         int
	}{
		{"GET", "/get?k=a", "", http.StatusMethodNotAllowed},
		{"POST", "/get?k=bad%20key", "", http.StatusBadRequest},
		{"POST", "/set?k=a&ttl=-1", "v", http.StatusBadRequest},
		{"POST", "/set?k=a&ttl=soon", "v", http.StatusBadRequest},
		{"POST", "/set?k=a&p=-1", "v", http.StatusBadRequest},
		{"POST", "/cas?k=a&v=zero", "v", http.StatusBadRequest},
		{"POST", "/getmulti", "a\nbad key", http.StatusBadRequest},
		{"POST", "/set?k=a", string(make([]byte, 2048)), http.StatusRequestEntityTooLarge},
		{"POST", "/replicate", "\xff\xff\xff", http.StatusBadRequest},
		{"POST", "/explode?k=a", "", http.StatusNotFound},
	} {
		req, _ := http.NewRequest(tc.method, srv.URL+tc.path, strings.NewReader(tc.body))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != tc.want {
			t.Errorf("%s %s: status %d, want %d", tc.method, tc.path, resp.StatusCode, tc.want)
		}
	}
	s := r.Store()
	defer s.Close()
	if _, err := s.Get(context.Background(), "a"); !errors.Is(err, kv.ErrNotFound) {
		t.Fatalf("garbage requests stored something: %v", err)
	}
}

// With WithH2C the instances call each other over HTTP/2 without TLS.
func TestH2C(t *testing.T) {
	for _, h2c := range []bool{false, true} {
		var opts []ringkv.Option
		if h2c {
			opts = append(opts, ringkv.WithH2C())
		}
		nodes := cluster(t, 2, opts...)
		s := nodes[0].ring.Store()
		ctx := context.Background()
		for i := 0; i < 20; i++ {
			if err := s.Set(ctx, kv.Item{Key: "h2c-" + strconv.Itoa(i), Value: []byte("v")}); err != nil {
				t.Fatal(err)
			}
		}
		s.Close()
		if got := nodes[1].h2.Load(); (got > 0) != h2c {
			t.Fatalf("WithH2C %v: %d calls came over HTTP/2", h2c, got)
		}
		if got := nodes[1].upgradedConns(); (got > 0) == h2c {
			t.Fatalf("WithH2C %v: %d connections switched to RESP", h2c, got)
		}
	}
}

// With WithSecret the instances talk; a caller without the secret is refused.
func TestSecret(t *testing.T) {
	nodes := cluster(t, 2, ringkv.WithSecret("s3cret"))
	s := nodes[0].ring.Store()
	defer s.Close()
	ctx := context.Background()
	for i := 0; i < 20; i++ {
		if err := s.Set(ctx, kv.Item{Key: "sec-" + strconv.Itoa(i), Value: []byte("v")}); err != nil {
			t.Fatal(err)
		}
	}
	if nodes[1].upgradedConns() == 0 {
		t.Fatal("with the secret, no connection was switched to RESP")
	}
	resp, err := http.Post(nodes[1].url+"/get?k=sec-1", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("a call without the secret: %d, want 401", resp.StatusCode)
	}
	other, err := ringkv.New("http://client-only", []string{nodes[0].url, nodes[1].url}, ringkv.WithSecret("wrong"))
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	os := other.Store()
	defer os.Close()
	if _, err := os.Get(ctx, "sec-1"); !errors.Is(err, kv.ErrForbidden) {
		t.Fatalf("Get with the wrong secret: %v, want ErrForbidden", err)
	}
}

// WithMaxBytes bounds what an instance holds; the least recently used
// items go first, and each eviction is counted.
func TestMaxBytesEvictsLeastRecentlyUsed(t *testing.T) {
	const bound = 64 << 10
	r, err := ringkv.New("http://self", []string{"http://self"}, ringkv.WithMaxBytes(bound))
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	s := r.Store()
	defer s.Close()
	ctx := context.Background()
	value := make([]byte, 200)
	if err := s.Set(ctx, kv.Item{Key: "hot", Value: value}); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 2000; i++ {
		if err := s.Set(ctx, kv.Item{Key: "cold-" + strconv.Itoa(i), Value: value}); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Get(ctx, "hot"); err != nil {
			t.Fatalf("the key read after every write was evicted after %d writes: %v", i, err)
		}
	}
	st := r.Stats()
	t.Logf("bound %d bytes: holds %d keys in %d bytes, %d evictions", bound, st.Keys, st.Bytes, st.Evictions)
	if st.Bytes > bound {
		t.Fatalf("holds %d bytes, over the bound %d", st.Bytes, bound)
	}
	if st.Evictions == 0 || int64(st.Keys)+st.Evictions != 2001 {
		t.Fatalf("%d keys held + %d evicted, want 2001 written", st.Keys, st.Evictions)
	}
	if _, err := s.Get(ctx, "cold-0"); !errors.Is(err, kv.ErrNotFound) {
		t.Fatalf("the oldest key survived: %v", err)
	}
	if err := s.Set(ctx, kv.Item{Key: "huge", Value: make([]byte, bound)}); !errors.Is(err, kv.ErrTooLarge) {
		t.Fatalf("an item over the bound: %v, want ErrTooLarge", err)
	}
}

// A replica that missed a write (it was not answering) is repaired: by
// the hint the primary keeps, or by read repair.
func TestStaleReplicaIsRepaired(t *testing.T) {
	nodes := cluster(t, 3, ringkv.WithReplicas(3), ringkv.WithReadRepair(1))
	ctx := context.Background()
	s := nodes[0].ring.Store()
	defer s.Close()
	if err := s.Set(ctx, kv.Item{Key: "repair", Value: []byte("old")}); err != nil {
		t.Fatal(err)
	}
	nodes[2].setOff(true)
	if err := s.Set(ctx, kv.Item{Key: "repair", Value: []byte("new")}); err != nil {
		t.Fatal(err)
	}
	if rec, _ := peek(t, nodes[1], "repair"); !strings.HasSuffix(rec, "new") {
		t.Fatalf("a live replica has %q", rec)
	}
	nodes[2].setOff(false)
	// If the instance that missed the write is the key's primary, it may
	// answer from its stale copy until the repair reaches it.
	waitFor(t, "the stale replica to be repaired", func() bool {
		if _, err := s.Get(ctx, "repair"); err != nil {
			t.Fatal(err)
		}
		rec, _ := peek(t, nodes[2], "repair")
		return strings.HasSuffix(rec, "new")
	})
	for _, n := range nodes {
		if it, err := n.ring.Store().Get(ctx, "repair"); err != nil || string(it.Value) != "new" {
			t.Fatalf("Get through %s = %q, %v", n.url, it.Value, err)
		}
	}
	waitFor(t, "Check to be healthy", func() bool { return nodes[0].ring.Check(ctx) == nil })
}

// A key an instance stopped owning is handed off and dropped: when the
// instance owns it again, the value written and deleted meanwhile does not
// come back.
func TestNoStaleValueAfterPeersChange(t *testing.T) {
	ctx := context.Background()
	nodes := cluster(t, 2, ringkv.WithReplicas(1))
	a, b := nodes[0], nodes[1]
	sb := b.ring.Store()
	defer sb.Close()
	sa := a.ring.Store()
	defer sa.Close()
	var k string
	for i := 0; ; i++ {
		k = "stale-" + strconv.Itoa(i)
		if err := sa.Set(ctx, kv.Item{Key: k, Value: []byte("old")}); err != nil {
			t.Fatal(err)
		}
		if _, ok := peek(t, a, k); ok {
			break
		}
	}
	// A leaves the ring; B writes and deletes the key; A comes back.
	a.ring.SetPeers(b.url)
	b.ring.SetPeers(b.url)
	settle(t, a, b)
	if it, err := sb.Get(ctx, k); err != nil || string(it.Value) != "old" {
		t.Fatalf("after A left, B reads %q, %v: the handoff lost it", it.Value, err)
	}
	if err := sb.Set(ctx, kv.Item{Key: k, Value: []byte("new")}); err != nil {
		t.Fatal(err)
	}
	if err := sb.Delete(ctx, k); err != nil {
		t.Fatal(err)
	}
	a.ring.SetPeers(a.url, b.url)
	b.ring.SetPeers(a.url, b.url)
	settle(t, a, b)
	for _, s := range []kv.Store{sa, sb} {
		if it, err := s.Get(ctx, k); !errors.Is(err, kv.ErrNotFound) {
			t.Fatalf("after the peers changed back, Get = %q, %v: the deleted value came back", it.Value, err)
		}
	}
}
