package discovery_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"

	"github.com/microos/go-os/discovery"
)

func TestTransportResolvesServiceNames(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "host="+r.Host+" path="+r.URL.Path)
	}))
	defer srv.Close()
	host, port, _ := net.SplitHostPort(srv.Listener.Addr().String())
	p, _ := strconv.Atoi(port)

	m := newMemory(t)
	if err := m.Register(ctxT(t), &discovery.Service{Name: "billing", Nodes: []*discovery.Node{{ID: "b1", Address: host, Port: p}}}); err != nil {
		t.Fatal(err)
	}
	c := newCache(t, m)
	client := &http.Client{Transport: discovery.Transport(srv.Client().Transport, c)}
	defer client.CloseIdleConnections()

	resp, err := client.Get("http://billing/invoices")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(body) != "host=billing path=/invoices" {
		t.Fatalf("the node answered %q", body)
	}

	// An address with a port goes through unchanged.
	resp, err = client.Get(srv.URL + "/direct")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()

	m.Fail(nil)
	c2 := newCache(t, m)
	_, err = (&http.Client{Transport: discovery.Transport(nil, c2)}).Get("http://billing/")
	if !errors.Is(err, discovery.ErrUnavailable) {
		t.Fatalf("request with the registry down and nothing cached = %v, want ErrUnavailable", err)
	}
	// The first cache still has its answer.
	resp, err = client.Get("http://billing/still")
	if err != nil {
		t.Fatalf("request from a stale cache: %v", err)
	}
	resp.Body.Close()
}

func TestHealthHandlerReportsRegistrarState(t *testing.T) {
	m := newMemory(t)
	g := newRegistrar(t, m, service("api", "a"))
	if err := g.WaitRegistered(ctxT(t)); err != nil {
		t.Fatal(err)
	}
	h := discovery.HealthHandler(g)

	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/health/registry", nil))
	var body struct {
		Status        string `json:"status"`
		Registrations int    `json:"registrations"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil || rec.Code != 200 || body.Status != "registered" || body.Registrations < 1 {
		t.Fatalf("health while registered: %d %s (%v)", rec.Code, rec.Body, err)
	}
	g.Close()
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/health/registry", nil))
	if rec.Code != http.StatusServiceUnavailable {
		t.Fatalf("health after Close: %d %s", rec.Code, rec.Body)
	}
}

type nodelessResolver struct{}

func (nodelessResolver) GetService(context.Context, string) ([]*discovery.Service, error) {
	return []*discovery.Service{{Name: "api"}}, nil
}

// A Resolver of one's own may answer a service without nodes: the
// transport says so instead of panicking on an empty pick.
func TestTransportServiceWithoutNodes(t *testing.T) {
	c := &http.Client{Transport: discovery.Transport(nil, nodelessResolver{})}
	_, err := c.Get("http://api/x")
	if !errors.Is(err, discovery.ErrNotFound) {
		t.Fatalf("GET of a service without nodes: %v, want ErrNotFound", err)
	}
}
