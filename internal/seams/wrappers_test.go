package seams_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"

	"github.com/microos/go-os/auth"
	"github.com/microos/go-os/auth/authgrpc"
	"github.com/microos/go-os/config"
	"github.com/microos/go-os/config/configgrpc"
	"github.com/microos/go-os/log"
	"github.com/microos/go-os/log/loggrpc"
	"github.com/microos/go-os/metrics"
	"github.com/microos/go-os/metrics/metricsgrpc"
	"github.com/microos/go-os/trace"
	"github.com/microos/go-os/trace/tracegrpc"
)

// observed is what the wrappers recorded of one call, in a form that can
// be compared across wrapper orders: the counter series (not durations,
// which differ run to run), the span names and the access line's fields.
type observed struct {
	counters []string
	spans    []string
	access   map[string]any
	// traced: the access line carries trace ids. Only when log sits inside
	// trace (the canonical order) can it: outside, no span exists yet.
	traced bool
}

func (o observed) String() string {
	return fmt.Sprintf("counters %v\nspans %v\naccess %v", o.counters, o.spans, o.access)
}

func (o observed) equal(p observed) bool { return o.String() == p.String() }

func observe(t *testing.T, m *metrics.Metrics, rec *trace.Recorder, lines string) observed {
	t.Helper()
	snap, err := m.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	var o observed
	for _, p := range snap {
		if p.Kind == metrics.KindCounter {
			o.counters = append(o.counters, fmt.Sprintf("%s%v=%v", p.Name, p.Labels, p.Value))
		}
	}
	for _, s := range rec.Spans() {
		o.spans = append(o.spans, s.Name)
	}
	sort.Strings(o.spans)
	o.access = map[string]any{}
	for _, line := range strings.Split(strings.TrimSpace(lines), "\n") {
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("log line %q: %v", line, err)
		}
		for _, k := range []string{"msg", "method", "route", "path", "status", "code", "grpc.method", "grpc.code"} {
			if v, ok := rec[k]; ok {
				o.access[k] = v
			}
		}
		_, o.traced = rec["trace_id"]
	}
	return o
}

// The first order tried is the canonical one (README, "Wrapper order"):
// it is checked for what it must record; every other order must record
// the same route, span name and labels.
//
// Every order of the five go-os server wrappers (trace, metrics, log,
// auth, config snapshot) around a real mux gives the same route to
// metrics, the span and the access line: the wrappers that copy the
// request all join the route slot.
func TestHTTPEveryWrapperOrderRecordsTheSame(t *testing.T) {
	issuer := auth.NewMemoryIssuer()
	defer issuer.Close()
	verifier := auth.NewJWTVerifier(issuer.URL())
	defer verifier.Close()
	policy, err := auth.NewPolicy(auth.PolicyConfig{Rules: []auth.Rule{{Route: "/orders/*", Scopes: []string{"orders.read"}}}})
	if err != nil {
		t.Fatal(err)
	}
	token := issuer.Mint(auth.Token{Subject: "svc-gateway", Scopes: []string{"orders.read"}})
	cfg, err := config.New(context.Background(), []config.Source{config.NewMemory(map[string]any{"greeting": "hi"})})
	if err != nil {
		t.Fatal(err)
	}
	defer cfg.Close()

	const route = "GET /orders/{id}"
	var first observed
	for i, order := range permutations([]string{"trace", "metrics", "log", "auth", "config"}) {
		name := strings.Join(order, "→")
		m := metrics.NewMemory()
		tr, rec := trace.NewMemory(trace.WithSampler(trace.Always()))
		var lines strings.Builder
		logger, err := log.New(log.WithOutput(log.WriterOutput(&lines)), log.WithTraceIDs(trace.LogIDs))
		if err != nil {
			t.Fatal(err)
		}
		wrappers := map[string]func(http.Handler) http.Handler{
			"trace":   trace.Middleware(tr),
			"metrics": metrics.Middleware(m),
			"log":     log.Middleware(logger.Slog()),
			"auth":    auth.Middleware(verifier, policy),
			"config":  config.Middleware(cfg),
		}
		var handled, sawClaims, sawSnapshot bool
		mux := http.NewServeMux()
		mux.HandleFunc(route, func(w http.ResponseWriter, r *http.Request) {
			handled = true
			sawClaims = auth.ClaimsFrom(r.Context()) != nil
			sawSnapshot = config.FromContext(r.Context()) != nil
		})
		var h http.Handler = mux
		for j := len(order) - 1; j >= 0; j-- {
			h = wrappers[order[j]](h)
		}
		req := httptest.NewRequest("GET", "/orders/42", nil)
		req.Header.Set("Authorization", "Bearer "+token)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		logger.Close()
		tr.Close()
		got := observe(t, m, rec, lines.String())
		m.Close()

		if w.Code != http.StatusOK || !handled || !sawClaims || !sawSnapshot {
			t.Fatalf("%s: status %d, handled %v, claims %v, snapshot %v", name, w.Code, handled, sawClaims, sawSnapshot)
		}
		if i == 0 {
			first = got
			want := `http.server.requests_total[{class 2xx} {method GET} {route ` + route + `}]=1`
			if !strings.Contains(strings.Join(got.counters, " "), want) || len(got.spans) != 1 || got.spans[0] != route ||
				got.access["route"] != route || !got.traced {
				t.Fatalf("%s: recorded\n%v\nwant the route %q in the counter, the span name and the access line, with trace ids", name, got, route)
			}
			continue
		}
		if !got.equal(first) {
			t.Errorf("%s recorded\n%v\nbut %s recorded\n%v", name, got, strings.Join(permutations([]string{"trace", "metrics", "log", "auth", "config"})[0], "→"), first)
		}
	}
}

// Every order of the go-os gRPC server interceptors gives the same
// method to metrics, the span and the access line.
func TestGRPCEveryInterceptorOrderRecordsTheSame(t *testing.T) {
	issuer := auth.NewMemoryIssuer()
	defer issuer.Close()
	verifier := auth.NewJWTVerifier(issuer.URL())
	defer verifier.Close()
	const method = "grpc.health.v1.Health/Check"
	policy, err := auth.NewPolicy(auth.PolicyConfig{Rules: []auth.Rule{{Method: "/" + method, Scopes: []string{"health.read"}}}})
	if err != nil {
		t.Fatal(err)
	}
	token := issuer.Mint(auth.Token{Subject: "svc-gateway", Scopes: []string{"health.read"}})
	callCtx := metadata.AppendToOutgoingContext(context.Background(), "authorization", "Bearer "+token)
	cfg, err := config.New(context.Background(), []config.Source{config.NewMemory(map[string]any{"greeting": "hi"})})
	if err != nil {
		t.Fatal(err)
	}
	defer cfg.Close()
	var first observed
	for i, order := range permutations([]string{"trace", "metrics", "log", "auth", "config"}) {
		name := strings.Join(order, "→")
		m := metrics.NewMemory()
		tr, rec := trace.NewMemory(trace.WithSampler(trace.Always()))
		var lines strings.Builder
		logger, err := log.New(log.WithOutput(log.WriterOutput(&lines)), log.WithTraceIDs(trace.LogIDs))
		if err != nil {
			t.Fatal(err)
		}
		interceptors := map[string]grpc.UnaryServerInterceptor{
			"trace":   tracegrpc.UnaryServerInterceptor(tr),
			"metrics": metricsgrpc.UnaryServerInterceptor(m),
			"log":     loggrpc.UnaryServerInterceptor(logger.Slog()),
			"auth":    authgrpc.UnaryServerInterceptor(verifier, policy),
			"config":  configgrpc.UnaryServerInterceptor(cfg),
		}
		var chain []grpc.UnaryServerInterceptor
		for _, o := range order {
			chain = append(chain, interceptors[o])
		}
		srv := grpc.NewServer(grpc.ChainUnaryInterceptor(chain...))
		healthpb.RegisterHealthServer(srv, health.NewServer())
		lis, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		served := make(chan error, 1)
		go func() { served <- srv.Serve(lis) }()
		conn, err := grpc.NewClient(lis.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
		if err != nil {
			t.Fatal(err)
		}
		_, err = healthpb.NewHealthClient(conn).Check(callCtx, &healthpb.HealthCheckRequest{})
		conn.Close()
		srv.GracefulStop()
		<-served
		if err != nil {
			t.Fatalf("%s: Check: %v", name, err)
		}
		logger.Close()
		tr.Close()
		got := observe(t, m, rec, lines.String())
		m.Close()
		if i == 0 {
			first = got
			if !strings.Contains(strings.Join(got.counters, " "), method) || len(got.spans) != 1 || !strings.Contains(got.spans[0], method) ||
				!got.traced {
				t.Fatalf("%s: recorded\n%v\nwant the method %q in a counter and the span, and trace ids in the log", name, got, method)
			}
			continue
		}
		if !got.equal(first) {
			t.Errorf("%s recorded\n%v\nbut the first order recorded\n%v", name, got, first)
		}
	}
}

func permutations(s []string) [][]string {
	if len(s) <= 1 {
		return [][]string{append([]string(nil), s...)}
	}
	var out [][]string
	for i := range s {
		rest := append(append([]string(nil), s[:i]...), s[i+1:]...)
		for _, p := range permutations(rest) {
			out = append(out, append([]string{s[i]}, p...))
		}
	}
	return out
}

// A request auth refuses never reaches the mux: with WithRoutes, the
// wrappers outside still record it under its route (not "unmatched"),
// for a missing token (401) and a policy denial (403) alike.
func TestAuthRefusalIsRecordedUnderItsRoute(t *testing.T) {
	issuer := auth.NewMemoryIssuer()
	defer issuer.Close()
	verifier := auth.NewJWTVerifier(issuer.URL())
	defer verifier.Close()
	policy, err := auth.NewPolicy(auth.PolicyConfig{Rules: []auth.Rule{{Route: "/orders/*", Scopes: []string{"orders.read"}}}})
	if err != nil {
		t.Fatal(err)
	}
	weak := issuer.Mint(auth.Token{Subject: "svc-other", Scopes: []string{"other"}})
	const route = "GET /orders/{id}"
	for _, tc := range []struct {
		name   string
		opts   []auth.Option
		header string
		status int
		want   string
	}{
		{"401 WithRoutes", nil, "", http.StatusUnauthorized, route},
		{"403 WithRoutes", nil, "Bearer " + weak, http.StatusForbidden, route},
		{"403 without", []auth.Option{}, "Bearer " + weak, http.StatusForbidden, "unmatched"},
	} {
		mux := http.NewServeMux()
		mux.HandleFunc(route, func(http.ResponseWriter, *http.Request) { t.Errorf("%s: the mux ran", tc.name) })
		opts := tc.opts
		if opts == nil {
			opts = []auth.Option{auth.WithRoutes(mux)}
		}
		m := metrics.NewMemory()
		h := metrics.Middleware(m)(auth.Middleware(verifier, policy, opts...)(mux))
		req := httptest.NewRequest("GET", "/orders/42", nil)
		if tc.header != "" {
			req.Header.Set("Authorization", tc.header)
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		snap, err := m.Snapshot()
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, p := range snap {
			if p.Name == "http.server.requests_total" {
				got = append(got, p.Label("route"))
			}
		}
		m.Close()
		if w.Code != tc.status || len(got) != 1 || got[0] != tc.want {
			t.Errorf("%s: status %d, routes recorded %v; want %d under %q", tc.name, w.Code, got, tc.status, tc.want)
		}
	}
}
