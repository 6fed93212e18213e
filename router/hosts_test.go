package router_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/microos/go-os/discovery"
	"github.com/microos/go-os/router"
)

// hostRecorder answers every request, recording the host it was sent to.
type hostRecorder struct{ got string }

func (h *hostRecorder) RoundTrip(req *http.Request) (*http.Response, error) {
	h.got = req.URL.Host
	return &http.Response{StatusCode: 200, Body: http.NoBody, Request: req}, nil
}

// Both transports apply one rule (internal/hostrule): the same table, the
// same outcome, for router.Transport and discovery.Transport.
func TestTransportsLeaveOutsideHostsAlone(t *testing.T) {
	reg := discovery.NewMemory()
	defer reg.Close()
	ctx := context.Background()
	for _, name := range []string{"orders", "orders.internal"} {
		if err := reg.Register(ctx, &discovery.Service{Name: name, Nodes: []*discovery.Node{{ID: name + "-1", Address: "10.9.9.9", Port: 7000}}}); err != nil {
			t.Fatal(err)
		}
	}
	r := router.New(reg)
	defer r.Close()
	cache := discovery.NewCache(reg)
	defer cache.Close()
	const node = "10.9.9.9:7000"
	for _, tc := range []struct {
		host  string
		allow []string
		want  string // where the request goes
	}{
		{"orders", nil, node},
		{"api.example.com", nil, "api.example.com"},
		{"orders.internal", nil, "orders.internal"},
		{"10.0.0.1", nil, "10.0.0.1"},
		{"[::1]:8080", nil, "[::1]:8080"},
		{"localhost", nil, "localhost"},
		{"orders:8080", nil, "orders:8080"},
		{"orders", []string{"billing"}, "orders"},
		{"orders.internal", []string{"orders.internal"}, node},
	} {
		for _, tr := range []struct {
			name string
			make func(http.RoundTripper) http.RoundTripper
		}{
			{"router", func(base http.RoundTripper) http.RoundTripper { return router.Transport(base, r, tc.allow...) }},
			{"discovery", func(base http.RoundTripper) http.RoundTripper { return discovery.Transport(base, cache, tc.allow...) }},
		} {
			base := &hostRecorder{}
			req, _ := http.NewRequestWithContext(ctx, "GET", "http://"+tc.host+"/x", nil)
			resp, err := tr.make(base).RoundTrip(req)
			if err != nil {
				t.Errorf("%s.Transport: GET http://%s (allow %v): %v", tr.name, tc.host, tc.allow, err)
				continue
			}
			resp.Body.Close()
			if base.got != tc.want {
				t.Errorf("%s.Transport: GET http://%s (allow %v) went to %q, want %q", tr.name, tc.host, tc.allow, base.got, tc.want)
			}
		}
	}
	if st := r.Stats(); len(st) > 2 {
		t.Errorf("the router follows %d services; outside hosts must make none", len(st))
	}
}
