package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/microos/go-os/discovery"
	"github.com/microos/go-os/router"
)

// demoRouter shows a client calling its service through the router: three
// greeter nodes found through the in-memory registry, one of them
// answering 503. The router's Transport balances round robin, retries the
// 503s on another node within the retry budget, ejects the failing node,
// and the caller sees no failure. The nodes are in-process handlers (no
// sockets), behind the same http.RoundTripper a real client uses.
func demoRouter(ctx context.Context, w io.Writer) error {
	reg := discovery.NewMemory()
	defer reg.Close()
	svc := &discovery.Service{Name: "greeter", Version: "1.0"}
	handlers := map[string]http.Handler{}
	for i, zone := range []string{"eu-1a", "eu-1b", "eu-1c"} {
		node := &discovery.Node{ID: fmt.Sprintf("greeter-%d", i+1), Address: fmt.Sprintf("10.0.0.%d", i+1), Port: 8080, Zone: zone}
		svc.Nodes = append(svc.Nodes, node)
		id := node.ID
		handlers[fmt.Sprintf("10.0.0.%d:8080", i+1)] = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if id == "greeter-2" {
				http.Error(w, "overloaded", http.StatusServiceUnavailable)
				return
			}
			fmt.Fprintf(w, "hello from %s", id)
		})
	}
	if err := reg.Register(ctx, svc); err != nil {
		return err
	}

	r := router.New(reg,
		router.WithStrategy(router.RoundRobin()),
		router.WithRetryPolicy(router.Retry{Attempts: 3, Backoff: time.Millisecond}),
		router.WithEjection(router.Ejection{ConsecutiveFailures: 3}),
	)
	defer r.Close()
	client := &http.Client{Transport: router.Transport(greeterNodes(handlers), r)}

	answers := map[string]int{}
	failed := 0
	for i := 0; i < 50; i++ {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://greeter/hello", nil)
		if err != nil {
			return err
		}
		resp, err := client.Do(req)
		if err != nil {
			failed++
			continue
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			failed++
			continue
		}
		answers[string(body)]++
	}
	fmt.Fprintf(w, "50 GETs of http://greeter/hello through the router: %d failed\n", failed)
	for _, id := range []string{"greeter-1", "greeter-3"} {
		fmt.Fprintf(w, "  %-26s %d answers\n", "hello from "+id, answers["hello from "+id])
	}
	st, _ := r.ServiceStats("greeter")
	fmt.Fprintf(w, "stats: %d requests to nodes, %d node errors, %d retries, %d ejections, p50 < %v\n",
		st.Requests, st.Errors, st.Retries, st.Ejections, st.Latency.Quantile(0.5))
	for _, n := range st.Nodes {
		state := "routable"
		if n.Ejected {
			state = "ejected"
		}
		fmt.Fprintf(w, "  %-10s %-14s %-6s requests=%-3d errors=%-2d %s\n", n.Node.ID, n.Node.Address, n.Node.Zone, n.Requests, n.Errors, state)
	}
	if failed != 0 {
		return fmt.Errorf("router demo: %d requests failed", failed)
	}
	return nil
}

// greeterNodes is an http.RoundTripper that serves a request with the handler
// registered for its host:port, without a socket.
type greeterNodes map[string]http.Handler

func (p greeterNodes) RoundTrip(req *http.Request) (*http.Response, error) {
	h, ok := p[req.URL.Host]
	if !ok {
		return nil, fmt.Errorf("dial tcp %s: connection refused", req.URL.Host)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	resp := rec.Result()
	resp.Request = req
	if req.Body != nil {
		req.Body.Close()
	}
	return resp, nil
}
