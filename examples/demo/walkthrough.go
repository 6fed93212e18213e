package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	gosync "sync"
	"time"

	"github.com/microos/go-os/auth"
	"github.com/microos/go-os/config"
	"github.com/microos/go-os/discovery"
	"github.com/microos/go-os/event"
	"github.com/microos/go-os/kv/ringkv"
	"github.com/microos/go-os/metrics"
	"github.com/microos/go-os/monitor"
	"github.com/microos/go-os/oserr"
	"github.com/microos/go-os/router"
	ossync "github.com/microos/go-os/sync"
	"github.com/microos/go-os/trace"
)

// lockedBuffer collects the log lines of every service.
type lockedBuffer struct {
	mu gosync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) lines(substr string) []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []string
	sc := bufio.NewScanner(bytes.NewReader(l.b.Bytes()))
	for sc.Scan() {
		if strings.Contains(sc.Text(), substr) {
			out = append(out, sc.Text())
		}
	}
	return out
}

// rootTrace is the trace id of the traced request on mem://, so that the
// output is the same every run; on a shared collector each run has its own.
const rootTrace = "4bf92f3577b34da6a3ce929d0e0e4736"

func run(ctx context.Context, w io.Writer, o options) (err error) {
	o.urls = o.urls.orMem()
	if err := o.urls.check(); err != nil {
		return err
	}
	ns, root := o.namespace, rootTrace
	if !o.urls.embedded() {
		if ns == "" {
			ns = newNamespace()
		}
		root = newTraceID()
	}
	bare := func(id string) string { return strings.TrimPrefix(id, ns) }
	dir, err := os.MkdirTemp("", "go-os-demo")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	file := filepath.Join(dir, "demo.json")
	if err := os.WriteFile(file, []byte(`{"greeting": {"text": "Hello"}}`), 0o644); err != nil {
		return err
	}
	logs := &lockedBuffer{}

	// --- the shared backends, all in memory -----------------------------
	// Settings: the file, then env on top (DEMO_GREETING_SUFFIX → greeting.suffix).
	cfg, err := config.New(ctx, []config.Source{
		config.NewFile(file, config.PollEvery(10*time.Millisecond)),
		config.NewEnv("DEMO_", config.EnvFrom([]string{"DEMO_GREETING_SUFFIX=!"})),
	})
	if err != nil {
		return err
	}
	defer cfg.Close()
	var logOut io.Writer = logs
	if o.logs != nil {
		logOut = io.MultiWriter(logs, o.logs)
	}
	sys, err := openSystem(ctx, o, ns, cfg, logOut, newTraceID())
	if err != nil {
		return err
	}
	defer sys.close()
	store, cache, rt, locks, bus, authn := sys.store, sys.cache, sys.rt, sys.locks, sys.bus, sys.authn
	// event: the greeter publishes a record per greeting; the counter group
	// consumes it and records that it counted, in the same flow (root id).
	sent, counted := ns+"greeting.sent", ns+"greeting.counted"
	consumed := make(chan event.Record, 100)
	sub, err := consumeGreetings(ctx, bus, sent, counted, consumed)
	if err != nil {
		return err
	}
	defer sub.Stop()
	if strings.HasPrefix(o.urls.trace, "mem:") {
		sys.spans = trace.NewRecorder()
	}

	// --- the services ----------------------------------------------------
	var all []*service
	start := func(name, instance string, mux *http.ServeMux, meta map[string]string) *service {
		if err != nil {
			return nil
		}
		var s *service
		s, err = sys.start(ctx, name, instance, mux, meta)
		if s != nil {
			all = append(all, s)
		}
		return s
	}
	// A counter instance keeps its state in the shared store, or in its
	// share of the ring, whose URL its discovery metadata tells the others.
	counter := func(instance string) *service {
		if err != nil {
			return nil
		}
		if store != nil {
			return start("counter", instance, counterMux(store, instance), nil)
		}
		var rg *ring
		if rg, err = sys.newRing(); err != nil {
			return nil
		}
		s := start("counter", instance, counterMux(rg.store, instance), map[string]string{ringkv.MetadataURL: rg.url})
		if s == nil {
			rg.crash()
			return nil
		}
		s.ring = rg
		return s
	}
	defer func() {
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		for _, s := range all {
			err = errors.Join(err, s.shutdown(sctx))
		}
	}()
	start("greeter", "greeter-1", greeterMux(bus, sent), nil)
	counter1, counter2 := counter("counter-1"), counter("counter-2")
	gwMux := http.NewServeMux()
	gateway := start("gateway", "gateway-1", gwMux, nil)
	if err != nil {
		return err
	}
	readStore := store
	if store == nil { // both instances in the ring before the first count
		readStore = counter1.ring.store
		if err := settle(ctx, counter1.ring, counter2.ring); err != nil {
			return err
		}
	}
	gwBase := &http.Transport{}
	defer gwBase.CloseIdleConnections()
	gwClient := sys.client(gateway, gwBase, authn.gateway)
	gwMux.Handle("GET /hello/{name}", helloHandler(gwClient, ns))
	outside := &http.Client{Transport: &http.Transport{}, Timeout: 10 * time.Second}
	defer outside.CloseIdleConnections()
	gwURL := "http://" + gateway.addr.String()
	hellos := 0 // requests the gateway answered
	hello := func(traceparent string) (string, error) {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, gwURL+"/hello/ada", nil)
		if traceparent != "" {
			req.Header.Set("traceparent", traceparent)
		}
		resp, err := outside.Do(req)
		if err != nil {
			return "", err
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != http.StatusOK {
			return "", fmt.Errorf("gateway: %s: %s", resp.Status, b)
		}
		hellos++
		return string(b), nil
	}

	if !o.urls.embedded() {
		authBy := "mem"
		if authn.greet == "read" {
			authBy = "openid"
		}
		fmt.Fprintf(w, "== backends:%s auth=%s; names prefixed %s\n", o.urls.summary(), authBy, ns)
	}
	fmt.Fprintln(w, "== discovery: 4 instances registered, looked up through a cache")
	for _, name := range []string{"gateway", "greeter", "counter"} {
		svcs, err := cache.GetService(ctx, ns+name)
		if err != nil {
			return err
		}
		var ids []string
		for _, n := range discovery.Nodes(svcs) {
			ids = append(ids, bare(n.ID))
		}
		slices.Sort(ids)
		fmt.Fprintf(w, "  %-8s %s\n", name, strings.Join(ids, ", "))
	}

	// --- one traced request ----------------------------------------------
	fmt.Fprintln(w, "== trace: GET /hello/ada from outside with a W3C traceparent")
	answer, err := hello("00-" + root + "-00f067aa0ba902b7-01")
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "  answer: %s\n", answer)
	for _, s := range all {
		if err := s.tr.Flush(ctx); err != nil {
			return err
		}
	}
	id, _ := trace.ParseTraceID(root)
	var spans []trace.SpanData
	if sys.spans != nil {
		spans = sys.spans.Trace(id)
	} else { // read back what reached the collector
		rctx, cancel := context.WithTimeout(ctx, 20*time.Second)
		spans, err = readTrace(rctx, o.urls.traceQuery, id, "gateway", "greeter", "counter")
		cancel()
		if err != nil {
			return err
		}
	}
	if err := trace.WriteTimeline(w, spans); err != nil {
		return err
	}
	fmt.Fprintln(w, "== log: the greeter's access line of that request carries its trace id")
	for _, l := range logs.lines(root) {
		if strings.Contains(l, `"service":"greeter"`) {
			fmt.Fprintf(w, "  %s\n", l)
			break
		}
	}

	// --- event: the greeting the greeter published, consumed by the counter
	var first event.Record
	select {
	case first = <-consumed:
	case <-ctx.Done():
		return ctx.Err()
	}
	var flow []event.Record
	for len(flow) < 2 { // the consumer's record may still be on its way
		if flow, _, err = bus.Read(ctx, event.Query{RootID: first.RootID}); err != nil {
			return err
		}
		if len(flow) < 2 {
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(time.Millisecond): // poll the history, bounded by ctx
			}
		}
	}
	var types []string
	for _, r := range flow {
		types = append(types, bare(r.Type))
	}
	fmt.Fprintf(w, "== event: read back by root id: %s\n", strings.Join(types, " → "))

	// --- auth: a call without the scopes the policy asks for ---------------
	intruder := &http.Client{Transport: auth.Transport(outside.Transport, authn.intruder), Timeout: 10 * time.Second}
	_, err = get(ctx, intruder, "http://"+counter1.addr.String()+"/count/ada")
	if err == nil {
		return errors.New("the intruder was let in")
	}
	fmt.Fprintf(w, "== auth: a client without the %s scope calls counter-1 directly: %s\n", authn.count, strings.SplitN(err.Error(), ": ", 3)[1])

	// --- kv: the count is shared by the counter instances ------------------
	for range 4 {
		if _, err := hello(""); err != nil {
			return err
		}
	}
	it, err := readStore.Get(ctx, "visits:ada")
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "== kv: after 5 requests answered by both counter instances: visits:ada = %s\n", it.Value)
	if store == nil {
		fmt.Fprintf(w, "  ringkv: the instances' memory, each key on both: counter-1 holds %d key, counter-2 %d\n",
			counter1.ring.Stats().Keys, counter2.ring.Stats().Keys)
	}

	// --- sync: leader election among the counter instances ----------------
	fmt.Fprintln(w, "== sync: counter-1 and counter-2 campaign; only the leader runs the periodic job")
	if err := election(ctx, w, locks, ns+"counter/compact"); err != nil {
		return err
	}

	// --- config: edit the file while it runs -------------------------------
	changes := cfg.Watch(ctx, "greeting")
	if err := os.WriteFile(file+".tmp", []byte(`{"greeting": {"text": "Bonjour"}}`), 0o644); err != nil {
		return err
	}
	if err := os.Rename(file+".tmp", file); err != nil {
		return err
	}
	for v := range changes {
		if v.Map(nil)["text"] == "Bonjour" {
			break
		}
	}
	if answer, err = hello(""); err != nil {
		return err
	}
	fmt.Fprintf(w, "== config: file edited (greeting.text Hello → Bonjour; env adds the suffix)\n  answer: %s\n", answer)

	// --- router: a counter instance crashes ---------------------------------
	counter1.crash()
	failed := 0
	for range 10 {
		if _, err := hello(""); err != nil {
			failed++
		}
	}
	fmt.Fprintf(w, "== router: counter-1 crashed (still registered); 10 requests: %d failed\n", failed)
	st, _ := rt.ServiceStats(ns + "counter")
	slices.SortFunc(st.Nodes, func(a, b router.NodeStats) int { return strings.Compare(a.Node.ID, b.Node.ID) })
	for _, n := range st.Nodes {
		state := "routable"
		if n.Ejected {
			state = "ejected"
		}
		fmt.Fprintf(w, "  %s %s\n", bare(n.Node.ID), state)
	}
	if store == nil { // counter-2 holds a copy of every key: the count goes on
		readStore = counter2.ring.store
	}
	if it, err = readStore.Get(ctx, "visits:ada"); err != nil {
		return err
	}
	fmt.Fprintf(w, "  the count went on: visits:ada = %s\n", it.Value)

	// --- metrics: per-route request counts, from each service's snapshot --
	fmt.Fprintln(w, "== metrics: http.server.requests_total by service and route")
	// The gateway answered hellos requests, each calling the greeter and
	// a counter once: on statsd, the page has caught up when it shows that.
	caughtUp := func(got map[*service]metrics.Snapshot) bool {
		n := map[string]float64{}
		for svc, snap := range got {
			for _, p := range snap {
				if isRequests(p.Name) && p.Label("class") == "2xx" {
					n[svc.name] += p.Value
				}
			}
		}
		return n["gateway"] >= float64(hellos) && n["greeter"] >= float64(hellos) && n["counter"] >= float64(hellos)
	}
	mctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	got, err := readMetrics(mctx, all, o.urls.metricsQuery, ns, caughtUp)
	if err != nil {
		return err
	}
	for _, s := range all {
		snap := got[s]
		slices.SortFunc(snap, func(a, b metrics.Point) int {
			return strings.Compare(a.Label("route")+a.Label("class"), b.Label("route")+b.Label("class"))
		})
		for _, p := range snap {
			if isRequests(p.Name) {
				fmt.Fprintf(w, "  %-9s %-18s %-3s %g\n", s.instance, p.Label("route"), p.Label("class"), p.Value)
			}
		}
	}

	// --- monitor: the health of every go-os value ---------------------------
	m := monitor.New(monitor.WithService("gateway", "v1.0.0", "gateway-1"), monitor.WithMetrics(gateway.met),
		monitor.WithSection("router", func() any { return rt.Stats() }),
		monitor.WithSection("config", func() any { return cfg.Status() }))
	defer m.Close()
	shared := []monitor.Checker{cfg, cache, rt, locks, bus}
	if store != nil {
		shared = append(shared, store)
	}
	for _, c := range shared {
		if err := m.Register("", c, monitor.Critical()); err != nil {
			return err
		}
	}
	for _, s := range all {
		if s == counter1 {
			continue // crashed: its own checks are no longer the gateway's business
		}
		checks := map[string]monitor.Checker{"trace": s.tr, "metrics": s.met, "log": s.log, "registrar": s.regr}
		if s.ring != nil {
			checks["ringkv"] = s.ring
		}
		for kind, c := range checks {
			if err := m.Register(s.instance+"/"+kind, c); err != nil {
				return err
			}
		}
	}
	var failing []string
	for _, c := range m.Checks() {
		if err := m.RunNow(ctx, c.Name); err != nil {
			failing = append(failing, fmt.Sprintf("%s (%s)", c.Name, strings.TrimPrefix(oserr.Code(err).String(), "go-os: ")))
		}
	}
	slices.Sort(failing)
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequestWithContext(ctx, http.MethodGet, "/monitor/health/ready", nil))
	fmt.Fprintf(w, "== monitor: %d checks; GET /monitor/health/ready → %d; status %s\n", len(m.Checks()), rec.Code, m.Status())
	if len(failing) > 0 { // non-critical ones: degraded, still ready
		fmt.Fprintf(w, "  failing, not critical: %s\n", strings.Join(failing, ", "))
	}

	if o.serve {
		mux := http.NewServeMux()
		mux.Handle("/monitor/", m.Handler())
		ln, err := net.Listen("tcp", o.addr)
		if err != nil {
			return err
		}
		srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
		go srv.Serve(ln)
		fmt.Fprintf(w, "serving: status page http://%s/monitor/  API http://%s/monitor/status  gateway %s/hello/ada (Ctrl-C to stop)\n", ln.Addr(), ln.Addr(), gwURL)
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		return srv.Shutdown(sctx)
	}
	return nil
}

// election shows leadership: counter-1 campaigns first and wins, counter-2
// waits; counter-1 resigns and counter-2 takes over.
func election(ctx context.Context, w io.Writer, locks *ossync.Client, name string) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	elected := make(chan *ossync.Leadership)
	ran := make(chan string)
	var wg gosync.WaitGroup
	defer wg.Wait()
	errs := make(chan error, 2)
	candidate := func(instance string) {
		wg.Add(1)
		go func() { defer wg.Done(); errs <- campaign(ctx, locks, name, instance, elected, ran) }()
	}
	candidate("counter-1")
	first := <-elected
	candidate("counter-2")
	runs := map[string]int{}
	for runs[first.Candidate()] < 3 {
		select {
		case who := <-ran:
			runs[who]++
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	fmt.Fprintf(w, "  leader %s (token %d) ran the job %d times; counter-2 ran it %d times\n",
		first.Candidate(), first.Token(), runs["counter-1"], runs["counter-2"])
	// Resign hands over; drain any last run counter-1 had started.
	resigned := make(chan error, 1)
	go func() { resigned <- first.Resign(ctx) }()
	var second *ossync.Leadership
	for second == nil || runs["counter-2"] < 3 {
		select {
		case l := <-elected:
			second = l
		case who := <-ran:
			if second != nil && who != second.Candidate() {
				return fmt.Errorf("%s ran the job while %s led", who, second.Candidate())
			}
			runs[who]++
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	if err := <-resigned; err != nil {
		return err
	}
	fmt.Fprintf(w, "  counter-1 resigned: leader %s (token %d) ran the job %d times after the handover\n",
		second.Candidate(), second.Token(), runs["counter-2"])
	cancel()
	go func() {
		for range ran {
		}
	}()
	wg.Wait()
	close(ran)
	return errors.Join(<-errs, <-errs)
}

// isRequests: memory keeps the name as recorded; statsd_exporter (as
// Prometheus) has underscores for dots.
func isRequests(name string) bool {
	return name == "http.server.requests_total" || name == "http_server_requests_total"
}

func newTraceID() string {
	var b [16]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// settle waits until every ring has both instances as members and has
// handed off what the join moved.
func settle(ctx context.Context, rings ...*ring) error {
	for _, r := range rings {
		for len(r.Peers()) < len(rings) {
			select {
			case <-ctx.Done():
				return fmt.Errorf("ringkv: members %v: %w", r.Peers(), ctx.Err())
			case <-time.After(time.Millisecond): // the discovery watch delivers the other instance
			}
		}
		if err := r.Settle(ctx); err != nil {
			return err
		}
	}
	return nil
}
