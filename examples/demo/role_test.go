package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/microos/go-os/discovery"
	"github.com/microos/go-os/internal/testenv"
	"github.com/microos/go-os/trace"
)

// The system one service per process: the demo binary four times with
// -role, on the servers of scripts/backends. Each process has only what
// the backends carry between them: Consul to find each other, the count in
// Redis or in the counter instances' ring, Redis for the events, Consul or
// Redis for the election, the collector for the trace, the OpenID provider
// for the tokens. What is asserted is read back from them (Jaeger, Consul)
// or seen from outside (the gateway's answers, stdout, the exit codes).
func TestDemoOneServicePerProcess(t *testing.T) {
	redis, consul := testenv.Redis(t), testenv.Consul(t)
	spans, query := testenv.Zipkin(t)
	statsd, _ := testenv.Statsd(t)
	op := testenv.OAuth2(t)
	goTool := testenv.Binary(t, "go")
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	began := time.Now()
	bin := filepath.Join(t.TempDir(), "demo")
	if out, err := exec.CommandContext(ctx, goTool, "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	t.Logf("go build: %v", time.Since(began).Round(time.Millisecond))
	env := append(os.Environ(),
		"DEMO_DISCOVERY_URL=consul://"+consul, "DEMO_EVENT_URL=redis://"+redis+"/0",
		"DEMO_TRACE_URL=zipkin+"+spans, "DEMO_METRICS_URL=statsd://"+statsd+"?tags=datadog",
		"DEMO_AUTH_URL="+op.Issuer, "DEMO_AUTH_AUDIENCE="+op.Resource,
		"DEMO_AUTH_CLIENT="+op.ClientID+":"+op.ClientSecret,
		"DEMO_AUTH_LIMITED="+op.LimitedClientID+":"+op.LimitedClientSecret)
	env = slices.Clip(env) // each run appends its own
	t.Run("kv=redis,sync=consul", func(t *testing.T) {
		processes(t, ctx, bin, query, consul, append(env, "DEMO_KV_URL=redis://"+redis+"/0", "DEMO_SYNC_URL=consul://"+consul), false)
	})
	t.Run("kv=ringkv,sync=redis", func(t *testing.T) {
		processes(t, ctx, bin, query, consul, append(env, "DEMO_KV_URL=ringkv", "DEMO_RING_SECRET="+newTraceID(), "DEMO_SYNC_URL=redis://"+redis+"/0"), true)
	})
}

func processes(t *testing.T, ctx context.Context, bin, query, consul string, env []string, ring bool) {
	began := time.Now()
	ns := newNamespace()
	env = append(env, "DEMO_NAMESPACE="+ns)
	procs := map[string]*proc{}
	for _, args := range [][]string{
		{"-role", "gateway", "-addr", "127.0.0.1:0"},
		{"-role", "greeter"},
		{"-role", "counter", "-instance", "counter-1"},
		{"-role", "counter", "-instance", "counter-2"},
	} {
		p := startProc(t, bin, env, args...)
		procs[p.instance] = p
	}
	all := maps.Clone(procs) // procs: those still running
	gw := procs["gateway-1"]

	// The gateway prints where it listens, then is ready when the services
	// behind it are found; and every instance is in Consul.
	addr := gw.waitOutput(t, ctx, regexp.MustCompile(`gateway-1 serving http://(\S+):`), procs)[1]
	client := &http.Client{Transport: &http.Transport{}, Timeout: 10 * time.Second}
	defer client.CloseIdleConnections()
	poll(t, ctx, "gateway ready", procs, func() error {
		_, err := fetch(ctx, client, "http://"+addr+"/monitor/health/ready", "")
		return err
	})
	reg, err := discovery.Open(ctx, "consul://"+consul)
	if err != nil {
		t.Fatal(err)
	}
	defer reg.Close()
	nodes := func(name string) []string {
		svcs, err := reg.GetService(ctx, ns+name)
		if err != nil && !errors.Is(err, discovery.ErrNotFound) {
			t.Fatalf("consul: %v", err)
		}
		var ids []string
		for _, n := range discovery.Nodes(svcs) {
			ids = append(ids, strings.TrimPrefix(n.ID, ns))
		}
		return ids
	}
	poll(t, ctx, "4 instances in consul", procs, func() error {
		if g, c := nodes("greeter"), nodes("counter"); len(g) != 1 || len(c) != 2 {
			return fmt.Errorf("greeter %v, counter %v", g, c)
		}
		return nil
	})
	if ring { // and each ring has both instances before the first count
		for _, c := range []string{"counter-1", "counter-2"} {
			all[c].waitOutput(t, ctx, regexp.MustCompile(c+` ring: 2 members\n`), procs)
		}
	}
	t.Logf("4 processes started, gateway ready, all in consul: %v", time.Since(began).Round(time.Millisecond))

	// One traced request, and a second one: the count is shared.
	hello := func(visit int, by, traceparent string) {
		t.Helper()
		got, err := fetch(ctx, client, "http://"+addr+"/hello/ada", traceparent)
		if err != nil {
			t.Fatal(err)
		}
		if !regexp.MustCompile(fmt.Sprintf(`^Hello, ada \(visit %d, counted by %s\)$`, visit, by)).MatchString(got) {
			t.Errorf("answer %d: %q", visit, got)
		}
	}
	root := newTraceID()
	hello(1, "counter-[12]", "00-"+root+"-00f067aa0ba902b7-01")
	hello(2, "counter-[12]", "")

	// One counter instance leads; when it leaves, the other takes over,
	// and the count goes on without it.
	leader := func() (string, error) {
		var who []string
		for _, c := range []string{"counter-1", "counter-2"} {
			out := all[c].out.String()
			if strings.Contains(out, c+" leads ") && !strings.Contains(out, c+" stopping") {
				who = append(who, c)
			}
		}
		if len(who) != 1 {
			return "", fmt.Errorf("leaders %v", who)
		}
		return who[0], nil
	}
	var first string
	poll(t, ctx, "a counter leads", procs, func() (err error) { first, err = leader(); return err })
	other := map[string]string{"counter-1": "counter-2", "counter-2": "counter-1"}[first]
	stop(t, procs[first])
	delete(procs, first)
	poll(t, ctx, other+" leads after "+first+" left", procs, func() error {
		if now, err := leader(); err != nil || now != other {
			return fmt.Errorf("leader %q: %v", now, err)
		}
		return nil
	})
	hello(3, other, "")

	// SIGTERM: each leaves (deregisters, flushes its spans) and exits 0.
	began = time.Now()
	stop(t, slices.Collect(maps.Values(procs))...)
	t.Logf("the other 3 exited after SIGTERM: %v", time.Since(began).Round(time.Millisecond))
	for _, name := range []string{"gateway", "greeter", "counter"} {
		if ids := nodes(name); len(ids) != 0 {
			t.Errorf("%s still in consul after its processes exited: %v", name, ids)
		}
	}

	// The trace, as the collector has it: a server span from each of the
	// three services, each process exporting its own.
	id, _ := trace.ParseTraceID(root)
	rctx, rcancel := context.WithTimeout(ctx, 15*time.Second)
	defer rcancel()
	got, err := readTrace(rctx, query, id, "gateway", "greeter", "counter")
	if err != nil {
		t.Fatal(err)
	}
	servers := map[string]string{}
	for _, s := range got {
		if s.Kind == trace.Server {
			servers[strings.ToLower(s.Service)] = s.Name
		}
	}
	for name, route := range map[string]string{"gateway": "/hello/{name}", "greeter": "/greet/{name}", "counter": "/count/{name}"} {
		if !strings.HasSuffix(strings.ToLower(servers[name]), route) {
			t.Errorf("no %s server span %s in the trace: %v", name, route, servers)
		}
	}
	// The processes' logs carry the trace id: gateway, greeter, a counter.
	for _, who := range [][]string{{"gateway-1"}, {"greeter-1"}, {"counter-1", "counter-2"}} {
		var logs string
		for _, instance := range who {
			logs += all[instance].logs.String()
		}
		if !strings.Contains(logs, `"trace_id":"`+root+`"`) {
			t.Errorf("%v logged no line with the trace id", who)
		}
	}
}

// stop sends SIGTERM to each process and waits for all to exit 0 within
// 15 s.
func stop(t *testing.T, ps ...*proc) {
	t.Helper()
	for _, p := range ps {
		if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
			t.Fatalf("%s: %v", p.instance, err)
		}
	}
	deadline := time.After(15 * time.Second)
	for _, p := range ps {
		select {
		case <-p.exited:
			if p.err != nil {
				t.Errorf("%s exited: %v\nstdout:\n%s\nstderr (tail):\n%s", p.instance, p.err, p.out.String(), tail(p.logs.String(), 5))
			}
		case <-deadline:
			t.Fatalf("%s did not exit within 15s of SIGTERM", p.instance)
		}
	}
}

// proc is a demo process of the test's own.
type proc struct {
	instance  string
	cmd       *exec.Cmd
	out, logs *lockedBuffer // stdout, stderr
	exited    chan struct{} // closed when it exited; then err is its Wait
	err       error
}

func startProc(t *testing.T, bin string, env []string, args ...string) *proc {
	t.Helper()
	p := &proc{cmd: exec.Command(bin, args...), out: &lockedBuffer{}, logs: &lockedBuffer{}, exited: make(chan struct{})}
	p.instance = args[1] + "-1"
	for i := range args {
		if args[i] == "-instance" {
			p.instance = args[i+1]
		}
	}
	p.cmd.Env, p.cmd.Stdout, p.cmd.Stderr = env, p.out, p.logs
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.err = p.cmd.Wait(); close(p.exited) }()
	t.Cleanup(func() { // whatever happened: no process outlives the test
		select {
		case <-p.exited:
		default:
			p.cmd.Process.Kill()
			<-p.exited
		}
	})
	return p
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// waitOutput polls p's stdout until re matches it.
func (p *proc) waitOutput(t *testing.T, ctx context.Context, re *regexp.Regexp, all map[string]*proc) []string {
	t.Helper()
	var m []string
	poll(t, ctx, p.instance+" prints "+re.String(), all, func() error {
		if m = re.FindStringSubmatch(p.out.String()); m == nil {
			return errors.New("not yet")
		}
		return nil
	})
	return m
}

// poll retries cond until it returns nil, failing at ctx's deadline or as
// soon as one of the processes exits: it would never come true then.
func poll(t *testing.T, ctx context.Context, what string, all map[string]*proc, cond func() error) {
	t.Helper()
	for {
		err := cond()
		if err == nil {
			return
		}
		for _, p := range all {
			select {
			case <-p.exited:
				t.Fatalf("waiting for %s: %s exited: %v\nstdout:\n%s\nstderr (tail):\n%s", what, p.instance, p.err, p.out.String(), tail(p.logs.String(), 5))
			default:
			}
		}
		select {
		case <-ctx.Done():
			t.Fatalf("waiting for %s: %v (last: %v)", what, ctx.Err(), err)
		case <-time.After(20 * time.Millisecond):
		}
	}
}

func fetch(ctx context.Context, c *http.Client, url, traceparent string) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return "", err
	}
	if traceparent != "" {
		req.Header.Set("traceparent", traceparent)
	}
	resp, err := c.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("GET %s: %s: %s", url, resp.Status, b)
	}
	return string(b), err
}

func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// A -role process cannot share memory with the others: each mem:// backend,
// and the in-process issuer, is refused with the reason, before anything
// is opened.
func TestRoleRefusesWhatCannotBeShared(t *testing.T) {
	servers := urls{kv: "redis://127.0.0.1:1/0", discovery: "consul://127.0.0.1:1", event: "redis://127.0.0.1:1/0",
		sync: "redis://127.0.0.1:1/0", trace: "zipkin+http://127.0.0.1:1/api/v2/spans", metrics: "statsd://127.0.0.1:1"}
	openid := authURLs{issuer: "http://127.0.0.1:1", audience: "a", gateway: "g:s", limited: "l:s"}
	with := func(f func(*urls)) urls { u := servers; f(&u); return u }
	for _, c := range []struct {
		o    options
		want string
	}{
		{options{role: "counter"}, "-discovery mem://: processes cannot share memory"},
		{options{role: "counter", urls: with(func(u *urls) { u.kv = "mem://" }), auth: openid}, "-kv mem://: processes cannot share memory"},
		{options{role: "greeter", urls: with(func(u *urls) { u.event = "mem://" }), auth: openid}, "-event mem://: processes cannot share memory"},
		{options{role: "gateway", urls: with(func(u *urls) { u.trace = "mem://" }), auth: openid}, "-trace mem://: processes cannot share memory"},
		{options{role: "gateway", urls: servers}, "-auth: the in-process issuer (mem://) cannot be shared"},
		{options{role: "gateway", urls: servers, auth: authURLs{issuer: "mem://"}}, "-auth: the in-process issuer (mem://) cannot be shared"},
		{options{role: "counter", urls: with(func(u *urls) { u.kv = "ringkv" }), auth: openid}, "the same -ring-secret"},
		{options{role: "router", urls: servers, auth: openid}, `-role "router": want gateway, greeter or counter`},
	} {
		err := serveRole(context.Background(), io.Discard, c.o)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("-role %s %+v: %v, want %q", c.o.role, c.o.urls, err, c.want)
		}
	}
}
