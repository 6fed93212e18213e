package router_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/microos/go-os/discovery"
	"github.com/microos/go-os/router"
)

// httpNodes starts n real HTTP servers on loopback, registered as service
// "echo" in reg; each answers with its index.
func httpNodes(t *testing.T, reg discovery.Registry, n int, handler func(i int) http.Handler) []*httptest.Server {
	t.Helper()
	servers := make([]*httptest.Server, n)
	svc := &discovery.Service{Name: "echo"}
	for i := range servers {
		h := handler(i)
		servers[i] = httptest.NewServer(h)
		t.Cleanup(servers[i].Close)
		host, port, _ := net.SplitHostPort(servers[i].Listener.Addr().String())
		p, _ := strconv.Atoi(port)
		svc.Nodes = append(svc.Nodes, &discovery.Node{ID: "echo-" + strconv.Itoa(i), Address: host, Port: p})
	}
	if err := reg.Register(context.Background(), svc); err != nil {
		t.Fatal(err)
	}
	return servers
}

func echo(i int) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Host != "echo" {
			http.Error(w, "Host "+r.Host, http.StatusBadRequest)
			return
		}
		io.Copy(io.Discard, r.Body)
		fmt.Fprint(w, i)
	})
}

func TestTransportBalances(t *testing.T) {
	reg := discovery.NewMemory()
	defer reg.Close()
	httpNodes(t, reg, 3, echo)
	r := router.New(reg, router.WithStrategy(router.RoundRobin()))
	defer r.Close()
	base := &http.Transport{}
	defer base.CloseIdleConnections()
	client := &http.Client{Transport: router.Transport(base, r)}
	seen := map[string]int{}
	for i := 0; i < 30; i++ {
		resp, err := client.Post("http://echo/hi", "text/plain", strings.NewReader("body"))
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Fatalf("status %d: %s", resp.StatusCode, b)
		}
		seen[string(b)]++
	}
	if len(seen) != 3 {
		t.Errorf("30 requests reached %v, want the three servers", seen)
	}
	_, err := client.Get("http://nobody/")
	if !errors.Is(err, router.ErrNoNodes) {
		t.Errorf("GET of an unknown service = %v, want ErrNoNodes", err)
	}
}

// A 503 from one node is retried on another; the caller sees the success.
func TestTransportRetries503(t *testing.T) {
	reg := discovery.NewMemory()
	defer reg.Close()
	httpNodes(t, reg, 2, func(i int) http.Handler {
		if i == 0 {
			return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { http.Error(w, "down", http.StatusServiceUnavailable) })
		}
		return echo(i)
	})
	r := router.New(reg, router.WithStrategy(router.RoundRobin()), router.WithRetryPolicy(router.Retry{Attempts: 2, Backoff: time.Millisecond}))
	defer r.Close()
	base := &http.Transport{}
	defer base.CloseIdleConnections()
	client := &http.Client{Transport: router.Transport(base, r)}
	for i := 0; i < 10; i++ {
		resp, err := client.Get("http://echo/")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Fatalf("request %d: status %d, want the retry's 200", i, resp.StatusCode)
		}
	}
	// A POST is not idempotent: its 503 comes back as is.
	noRetry := router.New(reg, router.WithStrategy(router.RoundRobin()), router.WithRetryPolicy(router.Retry{Attempts: 2}))
	defer noRetry.Close()
	client = &http.Client{Transport: router.Transport(base, noRetry)}
	got503 := false
	for i := 0; i < 4; i++ {
		resp, err := client.Post("http://echo/", "text/plain", strings.NewReader("x"))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		got503 = got503 || resp.StatusCode == 503
	}
	if !got503 {
		t.Error("a POST answered 503 was retried")
	}
}

// Real traffic: four HTTP servers, one killed mid-load. With retries no
// request fails; without, some do.
func TestTransportKillNodeMidLoad(t *testing.T) {
	for _, retries := range []bool{true, false} {
		t.Run(fmt.Sprintf("retries=%v", retries), func(t *testing.T) {
			reg := discovery.NewMemory()
			defer reg.Close()
			servers := httpNodes(t, reg, 4, func(i int) http.Handler {
				return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
					time.Sleep(200 * time.Microsecond) // the request's work
					fmt.Fprint(w, i)
				})
			})
			opts := []router.Option{router.WithStrategy(router.RoundRobin())}
			if retries {
				opts = append(opts, router.WithRetryPolicy(router.Retry{Attempts: 3, Backoff: time.Millisecond}))
			}
			r := router.New(reg, opts...)
			defer r.Close()
			base := &http.Transport{MaxIdleConnsPerHost: 16}
			defer base.CloseIdleConnections()
			client := &http.Client{Transport: router.Transport(base, r), Timeout: 10 * time.Second}

			const workers, perWorker = 8, 250
			var done, failed atomic.Int64
			var kill sync.Once
			var wg sync.WaitGroup
			for w := 0; w < workers; w++ {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for i := 0; i < perWorker; i++ {
						resp, err := client.Get("http://echo/")
						if err == nil {
							_, err = io.Copy(io.Discard, resp.Body)
							resp.Body.Close()
							if err == nil && resp.StatusCode != 200 {
								err = fmt.Errorf("status %d", resp.StatusCode)
							}
						}
						if err != nil {
							failed.Add(1)
						}
						if done.Add(1) == workers*perWorker/4 {
							kill.Do(func() {
								// A crash: no new connections, open ones reset.
								servers[2].Listener.Close()
								servers[2].CloseClientConnections()
							})
						}
					}
				}()
			}
			wg.Wait()
			st, _ := r.ServiceStats("echo")
			t.Logf("retries=%v: %d of %d requests failed; %d retries, %d node failures, %d ejections",
				retries, failed.Load(), workers*perWorker, st.Retries, st.Errors, st.Ejections)
			if retries && failed.Load() != 0 {
				t.Errorf("%d requests failed with retries on, want 0", failed.Load())
			}
			if !retries && failed.Load() == 0 {
				t.Log("no request failed without retries: the kill hit no request in flight")
			}
		})
	}
}

func TestShed(t *testing.T) {
	block := make(chan struct{})
	entered := make(chan struct{})
	h := router.Shed(router.NewLimiter(1000, 3), 1)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/slow" {
			entered <- struct{}{}
			<-block
		}
	}))
	srv := httptest.NewServer(h)
	defer srv.Close()
	go func() {
		resp, err := http.Get(srv.URL + "/slow")
		if err == nil {
			resp.Body.Close()
		}
	}()
	<-entered
	resp, err := http.Get(srv.URL + "/fast")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") == "" {
		t.Errorf("request over the concurrency limit: %d, want 503 with Retry-After", resp.StatusCode)
	}
	close(block)
	limited := router.Shed(router.NewLimiter(0.001, 1), 0)(http.NotFoundHandler())
	codes := []int{}
	for i := 0; i < 2; i++ {
		rec := httptest.NewRecorder()
		limited.ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
		codes = append(codes, rec.Code)
	}
	if codes[0] != 404 || codes[1] != 429 {
		t.Errorf("rate limited statuses = %v, want [404 429]", codes)
	}
}
