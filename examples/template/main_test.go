package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptrace"
	"os"
	"os/signal"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/hashicorp/consul/api"
	"go.uber.org/goleak"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/microos/go-os/auth"
	"github.com/microos/go-os/auth/authgrpc"
	"github.com/microos/go-os/event"
	"github.com/microos/go-os/internal/testenv"
	"github.com/microos/go-os/metrics/metricstest"
	ossync "github.com/microos/go-os/sync"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// On the memory defaults (an issuer of the test's own): the template
// serves HTTP and gRPC behind auth, and a real SIGTERM in the middle of a
// load makes it leave without cutting a request.
func TestServeAndSIGTERM(t *testing.T) {
	iss := auth.NewMemoryIssuer()
	defer iss.Close()
	iss.AddClient(name, "template-secret", "read")
	iss.AddClient("caller", "caller-secret", "read")
	t.Setenv("TEMPLATE_AUTH_ISSUER", iss.URL())
	t.Setenv("TEMPLATE_AUTH_CLIENT", name)
	t.Setenv("TEMPLATE_AUTH_SECRET", "template-secret")
	t.Setenv("TEMPLATE_AUTH_AUDIENCE", name)
	tokens := auth.NewTokenSource(iss.URL()+"/token", "caller", "caller-secret", []string{"read"}, auth.WithAudience(name))
	defer tokens.Close()
	drive(t, tokens, func() {})
}

// The same on the real backends: Consul, Redis, Jaeger, statsd_exporter
// and the OpenID provider. What the template claims is read from them:
// it was in Consul while serving and is not after; the span of the last
// request is in Jaeger; statsd_exporter counts exactly the requests the
// callers were answered.
func TestServeAndSIGTERMOnRealBackends(t *testing.T) {
	redis, consulAddr := testenv.Redis(t), testenv.Consul(t)
	spans, query := testenv.Zipkin(t)
	statsd, page := testenv.Statsd(t)
	op := testenv.OAuth2(t)
	for k, v := range map[string]string{
		"KV_URL": "redis://" + redis + "/0", "SYNC_URL": "redis://" + redis + "/0", "EVENT_URL": "redis://" + redis + "/0",
		"DISCOVERY_URL": "consul://" + consulAddr, "TRACE_URL": "zipkin+" + spans,
		"METRICS_URL": "statsd://" + statsd + "?tags=datadog",
		"AUTH_ISSUER": op.Issuer, "AUTH_CLIENT": op.ClientID, "AUTH_SECRET": op.ClientSecret, "AUTH_AUDIENCE": op.Resource,
	} {
		t.Setenv("TEMPLATE_"+k, v)
	}
	tokens := auth.NewTokenSource(op.Issuer+"/token", op.LimitedClientID, op.LimitedClientSecret, []string{"read"}, auth.WithAudience(op.Resource))
	defer tokens.Close()
	consulHTTP := &http.Transport{}
	defer consulHTTP.CloseIdleConnections()
	consul, err := api.NewClient(&api.Config{Address: consulAddr, Transport: consulHTTP})
	if err != nil {
		t.Fatal(err)
	}
	// Its own instance name: statsd_exporter keeps counting across runs.
	instance := fmt.Sprintf("%s-%d-%d", name, os.Getpid(), time.Now().UnixNano())
	t.Setenv("TEMPLATE_INSTANCE", instance)
	registered := func() bool {
		svc, _, err := consul.Agent().Service(instance+"-"+name, nil)
		if err != nil && !strings.Contains(err.Error(), "404") {
			t.Fatalf("consul: %v", err)
		}
		return svc != nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	locks, err := ossync.Open(ctx, "redis://"+redis+"/0")
	if err != nil {
		t.Fatal(err)
	}
	defer locks.Close()
	leader := func() string {
		l, err := locks.Leader(ctx, janitor)
		if err != nil && !errors.Is(err, ossync.ErrNoLeader) {
			t.Fatalf("leader: %v", err)
		}
		return l.Candidate
	}
	start := time.Now()

	got := drive(t, tokens, func() {
		if !registered() {
			t.Error("not in Consul while serving")
		}
		if !eventually(func() bool { return leader() == instance }) {
			t.Errorf("leader of %s: %q, want %s", janitor, leader(), instance)
		}
	})

	if registered() {
		t.Errorf("%s is still in Consul after SIGTERM", instance)
	}
	if l := leader(); l != "" {
		t.Errorf("leadership not released at shutdown: %s leads %s", l, janitor)
	}
	// One event per /hello answered 200, in Redis.
	bus, err := event.Open(ctx, "redis://"+redis+"/0")
	if err != nil {
		t.Fatal(err)
	}
	defer bus.Close()
	events := 0
	for q := (event.Query{Types: []string{name + ".hello"}, From: start, Limit: 1000}); ; {
		recs, next, err := bus.Read(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range recs {
			if r.Origin.Instance == instance {
				events++
			}
		}
		if next == "" {
			break
		}
		q.AfterID = next
	}
	if events != int(got.http) {
		t.Errorf("%d events in Redis, %d /hello answered 200", events, got.http)
	} else {
		t.Logf("Redis holds one event per /hello answered: %d", events)
	}
	// The span of the request that was in flight when SIGTERM came.
	if !eventually(func() bool { return jaegerHas(t, query, got.slowTrace, "get /slow") }) {
		t.Errorf("trace %s: no span of GET /slow in Jaeger at %s", got.slowTrace, query)
	}
	// Every request answered 200 is counted, nothing more, nothing less.
	want := map[string]float64{"http_server_requests_total": float64(got.http), "grpc_server_requests_total": float64(got.grpc)}
	var have map[string]float64
	if !eventually(func() bool {
		have = serverRequests(t, page, instance)
		return have["http_server_requests_total"] == want["http_server_requests_total"] &&
			have["grpc_server_requests_total"] == want["grpc_server_requests_total"]
	}) {
		t.Errorf("statsd_exporter counts %v answered requests, the callers had %v", have, want)
	} else {
		t.Logf("statsd_exporter counts what the callers were answered: %v", have)
	}
}

type driven struct {
	http, grpc int64  // /hello requests answered 200, Hello calls answered OK (the relay's inner one too)
	slowTrace  string // trace id of the request in flight at SIGTERM
}

// drive starts the template, checks the wiring, puts it under load over
// HTTP and gRPC, sends SIGTERM with a request in flight, and checks that
// every request was answered or refused before it started, never cut.
func drive(t *testing.T, tokens *auth.TokenSource, whileServing func()) driven {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM)
	defer stop()
	ready := make(chan addrs, 1)
	done := make(chan error, 1)
	entered, release := make(chan struct{}), make(chan struct{})
	slow := func(mux *http.ServeMux) {
		mux.HandleFunc("GET /slow", func(w http.ResponseWriter, r *http.Request) {
			close(entered)
			<-release
			io.WriteString(w, "done")
		})
	}
	t.Setenv("TEMPLATE_LOG_URL", "mem://") // the access lines are not the test's output
	go func() {
		done <- run(ctx, addrs{http: "127.0.0.1:0", grpc: "127.0.0.1:0", admin: "127.0.0.1:0"}, func(a addrs) { ready <- a }, slow)
	}()
	var a addrs
	select {
	case a = <-ready:
	case err := <-done:
		t.Fatalf("run: %v", err)
	case <-time.After(30 * time.Second):
		t.Fatal("not listening after 30s")
	}
	var got driven
	tr := &http.Transport{}
	defer tr.CloseIdleConnections()
	anon := &http.Client{Transport: tr}
	client := &http.Client{Transport: auth.Transport(tr, tokens)}
	// refused: the request never reached a handler. Either the dial was
	// refused (the listener is closed), or a new connection was closed
	// unanswered: reset, because it sat in the kernel's accept queue when
	// the listener closed, or EOF, because net/http drops a connection's
	// first request that arrives once Shutdown has begun, unread. A
	// request a handler took is never cut that way: Shutdown waits for it.
	var errRefused = errors.New("refused before it started")
	get := func(c *http.Client, path string) (string, error) {
		url := "http://" + a.http + path
		if p, ok := strings.CutPrefix(path, "admin"); ok {
			url = "http://" + a.admin + p
		}
		reused := false
		req, _ := http.NewRequestWithContext(httptrace.WithClientTrace(context.Background(),
			&httptrace.ClientTrace{GotConn: func(i httptrace.GotConnInfo) { reused = i.Reused }}), http.MethodGet, url, nil)
		resp, err := c.Do(req)
		if errors.Is(err, syscall.ECONNREFUSED) || (!reused && (errors.Is(err, syscall.ECONNRESET) || errors.Is(err, io.EOF))) {
			return "", fmt.Errorf("%w: %w", errRefused, err)
		}
		if err != nil {
			return "", fmt.Errorf("%w (connection reused: %v)", err, reused)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode == 200 && strings.HasPrefix(path, "/hello/") {
			atomic.AddInt64(&got.http, 1)
		}
		return fmt.Sprintf("%d %s", resp.StatusCode, b), nil
	}
	conn, err := grpc.NewClient(a.grpc, grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithUnaryInterceptor(authgrpc.UnaryClientInterceptor(tokens, authgrpc.WithInsecure())))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	anonConn, err := grpc.NewClient(a.grpc, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer anonConn.Close()
	hello := func(c *grpc.ClientConn, who string) (string, error) {
		out := new(wrapperspb.StringValue)
		err := c.Invoke(context.Background(), helloMethod, wrapperspb.String(who), out)
		if err == nil {
			atomic.AddInt64(&got.grpc, 1)
		}
		return out.GetValue(), err
	}

	// The wiring: auth on both transports, probes without it, and the
	// client chain (HTTP → gRPC client → router → discovery → gRPC server).
	for _, c := range []struct {
		client   *http.Client
		path     string
		want     string
		relayed  bool
		describe string
	}{
		{anon, "/hello/ada", "401 Unauthorized\n", false, "a call without a token"},
		{client, "/hello/ada", "200 hello, ada\n", false, "a call with a token"},
		{anon, "admin/monitor/health/ready", "200 ", false, "the readiness probe, without a token"},
		{client, "/relay/ada", "200 hello, ada\n", true, "a call relayed to the gRPC side through the router"},
	} {
		body, err := get(c.client, c.path)
		if err != nil || !strings.HasPrefix(body, c.want) {
			t.Fatalf("%s: GET %s = %q, %v; want %q", c.describe, c.path, body, err, c.want)
		}
		if c.relayed {
			atomic.AddInt64(&got.grpc, 1) // the relay's own call to Hello
		}
	}
	if out, err := hello(conn, "bob"); err != nil || out != "hello, bob\n" {
		t.Fatalf("gRPC Hello with a token = %q, %v", out, err)
	}
	if _, err := hello(anonConn, "eve"); status.Code(err) != codes.Unauthenticated {
		t.Fatalf("gRPC Hello without a token: %v, want Unauthenticated", err)
	}
	if h, err := healthpb.NewHealthClient(anonConn).Check(context.Background(), &healthpb.HealthCheckRequest{}); err != nil || h.Status != healthpb.HealthCheckResponse_SERVING {
		t.Fatalf("grpc.health.v1 Check without a token: %v, %v", h, err)
	}
	whileServing()

	// Load on both transports until the template refuses new work. A
	// request is either answered 200/OK or refused before it started (the
	// listener closed, the connection going away); any other error is a
	// request the shutdown cut.
	var wg sync.WaitGroup
	var cut atomic.Int64
	var warm sync.WaitGroup
	cutf := func(format string, args ...any) {
		if cut.Add(1) <= 5 {
			t.Errorf(format, args...)
		}
	}
	for i := range 4 {
		wg.Add(1)
		warm.Add(1)
		go func() {
			defer wg.Done()
			warmed := false
			defer func() {
				if !warmed { // stopped early: the test fails on what stopped it
					warm.Done()
				}
			}()
			for n := 0; ; n++ {
				if n == 20 {
					warm.Done()
					warmed = true
				}
				if i%2 == 0 {
					body, err := get(client, "/hello/load")
					if errors.Is(err, errRefused) {
						break
					}
					if err != nil || body != "200 hello, load\n" {
						cutf("HTTP request cut by the shutdown: %q, %v", body, err)
						break
					}
				} else {
					out, err := hello(conn, "load")
					if status.Code(err) == codes.Unavailable {
						break // refused: the server is going away, the call never ran
					}
					if err != nil || out != "hello, load\n" {
						cutf("gRPC call cut by the shutdown: %q, %v", out, err)
						break
					}
				}
			}
		}()
	}
	warmed := make(chan struct{})
	go func() { warm.Wait(); close(warmed) }()
	select {
	case <-warmed:
	case <-time.After(30 * time.Second):
		t.Fatal("load did not get going in 30s")
	}

	// A request in flight when SIGTERM comes must be answered, not cut.
	got.slowTrace = "4bf92f3577b34da6a3ce929d0e0e" + fmt.Sprintf("%04x", os.Getpid()&0xffff)
	inflight := make(chan string, 1)
	go func() {
		req, _ := http.NewRequest(http.MethodGet, "http://"+a.http+"/slow", nil)
		req.Header.Set("traceparent", "00-"+got.slowTrace+"-00f067aa0ba902b7-01")
		resp, err := client.Do(req)
		if err != nil {
			inflight <- err.Error()
			return
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		inflight <- resp.Status + " " + string(b)
	}()
	<-entered
	if err := syscall.Kill(syscall.Getpid(), syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	// The server drains: it takes no new connection while the in-flight
	// request is still being served; then let that request finish.
	deadline := time.Now().Add(30 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", a.http, time.Second)
		if err != nil {
			break
		}
		c.Close()
		if time.Now().After(deadline) {
			t.Fatal("still accepting connections 30s after SIGTERM")
		}
		time.Sleep(5 * time.Millisecond) // polling a condition, bounded by the deadline
	}
	close(release)
	if answer := <-inflight; answer != "200 OK done" {
		t.Errorf("in-flight request during shutdown: %s", answer)
	}
	wg.Wait()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("shutdown: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("run did not return 30s after SIGTERM")
	}
	t.Logf("answered before shutdown completed: %d HTTP /hello, %d gRPC Hello; %d cut", got.http, got.grpc, cut.Load())
	return got
}

// eventually polls cond for up to 15 s: the collector and the exporter
// index what they receive in the background.
func eventually(cond func() bool) bool {
	for deadline := time.Now().Add(15 * time.Second); ; {
		if cond() {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(100 * time.Millisecond) // polling a condition, bounded by the deadline
	}
}

func jaegerHas(t *testing.T, queryURL, traceID, operation string) bool {
	c := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}, Timeout: 10 * time.Second}
	resp, err := c.Get(queryURL + "/api/traces/" + traceID)
	if err != nil {
		t.Fatalf("jaeger: %v", err)
	}
	defer resp.Body.Close()
	var tr struct {
		Data []struct {
			Spans []struct {
				OperationName string `json:"operationName"`
			} `json:"spans"`
		} `json:"data"`
	}
	if resp.StatusCode != http.StatusOK || json.NewDecoder(resp.Body).Decode(&tr) != nil {
		return false
	}
	for _, d := range tr.Data {
		for _, s := range d.Spans {
			if s.OperationName == operation {
				return true
			}
		}
	}
	return false
}

// serverRequests sums instance's 2xx server requests by metric name, from
// statsd_exporter's page, for the routes the callers counted.
func serverRequests(t *testing.T, page, instance string) map[string]float64 {
	snap, err := metricstest.Scrape(page)
	if err != nil {
		t.Fatalf("statsd_exporter: %v", err)
	}
	sum := map[string]float64{}
	for _, p := range snap {
		route := p.Label("route")
		if p.Label("instance") != instance || p.Label("class") != "2xx" ||
			!(strings.Contains(route, "/hello/") || strings.Contains(route, "Greeter/Hello")) {
			continue
		}
		sum[p.Name] += p.Value
	}
	return sum
}
