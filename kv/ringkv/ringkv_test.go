package ringkv_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/microos/go-os/internal/fakeclock"
	"github.com/microos/go-os/internal/testenv"
	"github.com/microos/go-os/kv"
	"github.com/microos/go-os/kv/kvtest"
	"github.com/microos/go-os/kv/ringkv"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// cluster starts n instances, each with its handler on a loopback HTTP
// server, all in one ring.
func cluster(t *testing.T, n int, opts ...ringkv.Option) []*ringkv.Ring {
	t.Helper()
	servers := make([]*httptest.Server, n)
	handlers := make([]http.Handler, n)
	urls := make([]string, n)
	for i := range servers {
		servers[i] = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			handlers[i].ServeHTTP(w, r)
		}))
		urls[i] = servers[i].URL + "/_kv"
	}
	rings := make([]*ringkv.Ring, n)
	for i := range rings {
		r, err := ringkv.New(urls[i], urls, opts...)
		if err != nil {
			t.Fatal(err)
		}
		rings[i] = r
		handlers[i] = http.StripPrefix("/_kv", r.Handler())
	}
	t.Cleanup(func() {
		for _, s := range servers {
			s.Close()
		}
	})
	return rings
}

func TestConformance(t *testing.T) {
	c := fakeclock.New(time.Unix(1_800_000_000, 0))
	rings := cluster(t, 3, ringkv.WithClock(c.Now))
	var next int
	kvtest.Run(t, kvtest.Harness{
		// Each store is on another instance: whichever instance a call
		// starts on, the ring answers the same.
		New: func(t *testing.T, opts ...kv.Option) kv.Store {
			next++
			return rings[next%len(rings)].Store(opts...)
		},
		Advance: c.Advance,
		Unreachable: func(t *testing.T) kv.Store {
			r, err := ringkv.New("http://client-only", []string{"http://" + testenv.FreePort(t) + "/_kv"})
			if err != nil {
				t.Fatal(err)
			}
			return r.Store()
		},
		Hung: func(t *testing.T) kv.Store {
			r, err := ringkv.New("http://client-only", []string{"http://" + testenv.Hung(t) + "/_kv"})
			if err != nil {
				t.Fatal(err)
			}
			return r.Store()
		},
	})
}

// instance serves one instance's handler on a loopback server; join makes
// its ring membership.
func instance(t *testing.T) (url string, join func(peers ...string) *ringkv.Ring) {
	var r *ringkv.Ring
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) { r.Handler().ServeHTTP(w, req) }))
	t.Cleanup(srv.Close)
	return srv.URL, func(peers ...string) *ringkv.Ring {
		var err error
		if r, err = ringkv.New(srv.URL, peers); err != nil {
			t.Fatal(err)
		}
		return r
	}
}

// A key an instance stopped owning is dropped: when the instance owns it
// again, the value written and deleted meanwhile does not come back.
func TestNoStaleValueAfterPeersChange(t *testing.T) {
	ctx := context.Background()
	aURL, joinA := instance(t)
	bURL, joinB := instance(t)
	a, b := joinA(aURL, bURL), joinB(aURL, bURL)
	sa, sb := a.Store(), b.Store()
	defer sa.Close()
	defer sb.Close()
	// A key that A owns.
	var k string
	for i := 0; ; i++ {
		k = "stale-" + strconv.Itoa(i)
		if err := sa.Set(ctx, kv.Item{Key: k, Value: []byte("old")}); err != nil {
			t.Fatal(err)
		}
		srv := httptest.NewServer(a.Handler())
		resp, err := http.Post(srv.URL+"/get?k="+k, "", nil)
		srv.Close()
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode == http.StatusOK {
			break
		}
	}
	// A leaves the ring; B writes and deletes the key; A comes back.
	a.SetPeers(bURL)
	b.SetPeers(bURL)
	if err := sb.Set(ctx, kv.Item{Key: k, Value: []byte("new")}); err != nil {
		t.Fatal(err)
	}
	if err := sb.Delete(ctx, k); err != nil {
		t.Fatal(err)
	}
	a.SetPeers(aURL, bURL)
	b.SetPeers(aURL, bURL)
	if it, err := sb.Get(ctx, k); !errors.Is(err, kv.ErrNotFound) {
		t.Fatalf("after the peers changed back, Get = %q, %v: the stale value came back", it.Value, err)
	}
}

// An instance refuses a key it does not own in its view of the ring: the
// caller's view is stale, which must not read as a miss.
func TestHandlerRefusesKeysItDoesNotOwn(t *testing.T) {
	aURL, joinA := instance(t)
	a := joinA(aURL, "http://other.invalid/_kv")
	srv := httptest.NewServer(a.Handler())
	defer srv.Close()
	refused := 0
	for i := 0; i < 50; i++ {
		resp, err := http.Post(srv.URL+"/get?k=key-"+strconv.Itoa(i), "", nil)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode == http.StatusMisdirectedRequest {
			refused++
		} else if resp.StatusCode != http.StatusNotFound {
			t.Fatalf("status %d", resp.StatusCode)
		}
	}
	if refused < 10 || refused > 40 {
		t.Fatalf("%d of 50 keys refused: want about half (the other peer's)", refused)
	}
}

func TestKeysSpreadOverInstances(t *testing.T) {
	ctx := context.Background()
	rings := cluster(t, 3)
	s := rings[0].Store()
	defer s.Close()
	keys := make([]string, 300)
	for i := range keys {
		keys[i] = "spread-" + strconv.Itoa(i)
		if err := s.Set(ctx, kv.Item{Key: keys[i], Value: []byte("v")}); err != nil {
			t.Fatal(err)
		}
	}
	// Every instance sees every key through the ring...
	for i, r := range rings {
		got, err := r.Store().GetMulti(ctx, keys)
		if err != nil || len(got) != 300 {
			t.Fatalf("GetMulti through instance %d: %d items, %v", i, len(got), err)
		}
	}
	// ...but holds only its own share: its handler serves local keys only.
	total := 0
	for i, r := range rings {
		srv := httptest.NewServer(r.Handler())
		held := 0
		for _, k := range keys {
			resp, err := http.Post(srv.URL+"/get?k="+k, "", nil)
			if err != nil {
				t.Fatal(err)
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				held++
			}
		}
		srv.Close()
		if held < 50 || held > 150 {
			t.Errorf("instance %d holds %d of 300 keys: the ring is unbalanced", i, held)
		}
		total += held
	}
	if total != 300 {
		t.Fatalf("instances hold %d keys in all, want each of the 300 once", total)
	}
}

// With one of three instances down, the keys the others own are served and
// the dead one's keys are unavailable, not missing.
func TestOneInstanceDown(t *testing.T) {
	ctx := context.Background()
	live := httptest.NewServer(nil)
	defer live.Close()
	var self *ringkv.Ring
	live.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { self.Handler().ServeHTTP(w, r) })
	dead := "http://" + testenv.FreePort(t)
	var err error
	self, err = ringkv.New(live.URL, []string{live.URL, dead})
	if err != nil {
		t.Fatal(err)
	}
	s := self.Store()
	defer s.Close()
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
	if served < 20 || down < 20 {
		t.Fatalf("%d served, %d unavailable: want both", served, down)
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
	s := r.Store()
	defer s.Close()
	if _, err := s.Get(context.Background(), "k"); !errors.Is(err, kv.ErrUnavailable) {
		t.Fatalf("Get through a peer without the handler: %v, want ErrUnavailable", err)
	}
}

func TestBadPeers(t *testing.T) {
	for _, peers := range [][]string{nil, {"10.0.0.1:8080"}, {"ftp://x/y"}, {"http://"}} {
		if _, err := ringkv.New("http://self", peers); err == nil {
			t.Errorf("New with peers %q succeeded", peers)
		}
	}
}

// Garbage sent to the handler gets a 4xx and changes nothing.
func TestHandlerRejectsGarbage(t *testing.T) {
	r, err := ringkv.New("http://self", []string{"http://self"}, ringkv.WithMaxValueSize(1024))
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(r.Handler())
	defer srv.Close()
	for _, tc := range []struct {
		method, path string
		body         string
		want         int
	}{
		{"GET", "/get?k=a", "", http.StatusMethodNotAllowed},
		{"POST", "/get?k=bad%20key", "", http.StatusBadRequest},
		{"POST", "/set?k=a&ttl=-1", "v", http.StatusBadRequest},
		{"POST", "/set?k=a&ttl=soon", "v", http.StatusBadRequest},
		{"POST", "/cas?k=a&v=zero", "v", http.StatusBadRequest},
		{"POST", "/getmulti", "a\nbad key", http.StatusBadRequest},
		{"POST", "/set?k=a", string(make([]byte, 2048)), http.StatusRequestEntityTooLarge},
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
	if _, err := r.Store().Get(context.Background(), "a"); !errors.Is(err, kv.ErrNotFound) {
		t.Fatalf("garbage requests stored something: %v", err)
	}
}
