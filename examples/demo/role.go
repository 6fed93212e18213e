package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/microos/go-os/config"
	"github.com/microos/go-os/discovery"
	"github.com/microos/go-os/kv/ringkv"
	"github.com/microos/go-os/monitor"
	ossync "github.com/microos/go-os/sync"
)

// With -role the process runs one service of the system, not all of them,
// and serves until SIGTERM. The services are the walkthrough's (the same
// muxes, wrappers, registration, ring and auth); what one process can no
// longer do is share memory with another, so every backend must be a
// server they all reach, and tokens must come from one OpenID provider.

// sharedBackends names each backend a -role process must share with the
// others, by its flag.
func (u urls) sharedBackends() [][2]string {
	return [][2]string{{"-discovery", u.discovery}, {"-kv", u.kv}, {"-event", u.event},
		{"-sync", u.sync}, {"-trace", u.trace}, {"-metrics", u.metrics}}
}

// checkRole refuses what cannot work across processes, saying why.
func checkRole(o options) error {
	switch o.role {
	case "gateway", "greeter", "counter":
	default:
		return fmt.Errorf("-role %q: want gateway, greeter or counter", o.role)
	}
	for _, b := range o.urls.sharedBackends() {
		if strings.HasPrefix(b[1], "mem:") {
			return fmt.Errorf("-role %s: %s %s: processes cannot share memory; give every process the same server (e.g. %s)",
				o.role, b[0], b[1], example[b[0]])
		}
	}
	if o.auth.issuer == "" || strings.HasPrefix(o.auth.issuer, "mem:") {
		return fmt.Errorf("-role %s: -auth: the in-process issuer (mem://) cannot be shared either: a token it signs is unknown to the other processes; give them all one OpenID provider with -auth, -auth-audience, -auth-client and -auth-limited (env DEMO_AUTH_*)", o.role)
	}
	if o.role == "counter" && o.urls.kv == "ringkv" && o.ringSecret == "" {
		return errors.New("-role counter with -kv ringkv: the instances authenticate each other's ring calls with a shared secret: give them all the same -ring-secret (env DEMO_RING_SECRET)")
	}
	return nil
}

var example = map[string]string{
	"-discovery": "consul://$TEST_CONSUL_ADDR", "-kv": "redis://$TEST_REDIS_ADDR/0 or ringkv",
	"-event": "redis://$TEST_REDIS_ADDR/0", "-sync": "redis://$TEST_REDIS_ADDR/0 or consul://$TEST_CONSUL_ADDR",
	"-trace": "zipkin+$TEST_ZIPKIN_URL", "-metrics": "statsd://$TEST_STATSD_ADDR?tags=datadog",
}

// serveRole runs the service o.role as instance o.instance until ctx ends
// (SIGTERM), then leaves: it resigns any leadership, deregisters, drains
// and flushes its spans, metrics and logs.
func serveRole(ctx context.Context, w io.Writer, o options) (err error) {
	o.urls = o.urls.orMem()
	if err := checkRole(o); err != nil {
		return err
	}
	if o.instance == "" {
		o.instance = o.role + "-1"
	}
	ns := o.namespace
	if ns == "" { // not a fresh one: every process of the system must agree
		ns = "demo-"
	}
	logOut := o.logs
	if logOut == nil {
		logOut = os.Stderr
	}
	// Settings: the file of -config if any, then env on top
	// (DEMO_GREETING_TEXT → greeting.text).
	var sources []config.Source
	if o.config != "" {
		sources = append(sources, config.NewFile(o.config))
	}
	cfg, err := config.New(ctx, append(sources, config.NewEnv("DEMO_")))
	if err != nil {
		return err
	}
	defer cfg.Close()
	sys, err := openSystem(ctx, o, ns, cfg, logOut, o.ringSecret)
	if err != nil {
		return err
	}
	defer sys.close()
	sys.listen = o.addr

	var (
		mux  = http.NewServeMux()
		meta map[string]string
		rg   *ring
	)
	// The shared values are critical: without them the service cannot
	// answer. Its own (trace, metrics, log, registrar, ring) are not.
	checks := []monitor.Checker{cfg, sys.cache, sys.rt, sys.locks, sys.bus}
	if sys.store != nil {
		checks = append(checks, sys.store)
	}
	switch o.role {
	case "greeter":
		mux = greeterMux(sys.bus, ns+"greeting.sent")
	case "counter":
		sub, err := consumeGreetings(ctx, sys.bus, ns+"greeting.sent", ns+"greeting.counted", nil)
		if err != nil {
			return err
		}
		defer sub.Stop()
		store := sys.store
		if store == nil {
			if rg, err = sys.newRing(); err != nil {
				return err
			}
			store, meta = rg.store, map[string]string{ringkv.MetadataURL: rg.url}
		}
		mux = counterMux(store, o.instance)
	}
	svc, err := sys.start(ctx, o.role, o.instance, mux, meta)
	if svc != nil {
		svc.ring = rg
		defer func() {
			sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
			defer cancel()
			err = errors.Join(err, svc.shutdown(sctx))
		}()
	} else if rg != nil {
		rg.crash()
	}
	if err != nil {
		return err
	}

	m := monitor.New(monitor.WithService(o.role, "v1.0.0", ns+o.instance), monitor.WithMetrics(svc.met))
	defer m.Close()
	for _, c := range checks {
		if err := m.Register("", c, monitor.Critical()); err != nil {
			return err
		}
	}
	own := map[string]monitor.Checker{"trace": svc.tr, "metrics": svc.met, "log": svc.log, "registrar": svc.regr}
	if rg != nil {
		own["ringkv"] = rg
	}
	for kind, c := range own {
		if err := m.Register(o.instance+"/"+kind, c); err != nil {
			return err
		}
	}
	what := "registered as " + ns + o.role
	switch o.role {
	case "gateway":
		base := &http.Transport{}
		defer base.CloseIdleConnections()
		mux.Handle("GET /hello/{name}", helloHandler(sys.client(svc, base, sys.authn.gateway), ns))
		// The edge is the one public server: the status page and the health
		// endpoints are on it. Ready means the services behind it are found.
		for _, name := range []string{"greeter", "counter"} {
			if err := m.Register("discovery/"+name, found(sys.cache, ns+name), monitor.Critical(),
				monitor.Interval(250*time.Millisecond)); err != nil {
				return err
			}
		}
		mux.Handle("/monitor/", m.Handler())
		what = fmt.Sprintf("GET /hello/{name}, status page /monitor/, ready at /monitor/health/ready; %s", what)
	case "counter":
		if rg != nil {
			go members(ctx, w, o.instance, rg)
		}
		done := make(chan struct{})
		cctx, cancel := context.WithCancel(ctx)
		go func() { defer close(done); lead(cctx, w, sys.locks, ns+"counter/compact", o.instance) }()
		defer func() { cancel(); <-done }()
	}
	fmt.Fprintf(w, "demo: %s serving http://%s: %s\n", o.instance, svc.addr, what)
	<-ctx.Done()
	fmt.Fprintf(w, "demo: %s stopping\n", o.instance)
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	return m.Shutdown(sctx) // readiness false first; the deferred shutdowns follow
}

// found is a check that name has a live node in discovery.
func found(c *discovery.Cache, name string) monitor.CheckFunc {
	return func(ctx context.Context) error {
		_, err := c.GetService(ctx, name)
		return err
	}
}

// lead campaigns for the counter's periodic job until ctx ends, again
// whenever a leadership is lost: only the leader runs the job.
func lead(ctx context.Context, w io.Writer, locks *ossync.Client, election, instance string) {
	for ctx.Err() == nil {
		elected := make(chan *ossync.Leadership, 1)
		ran := make(chan string)
		errc := make(chan error, 1)
		go func() { errc <- campaign(ctx, locks, election, instance, elected, ran) }()
		runs := 0
		for {
			select {
			case l := <-elected:
				fmt.Fprintf(w, "demo: %s leads %s (token %d): it runs the periodic job\n", instance, election, l.Token())
				continue
			case <-ran:
				runs++
				continue
			case err := <-errc:
				if runs > 0 {
					fmt.Fprintf(w, "demo: %s no longer leads: it ran the job %d times\n", instance, runs)
				}
				if err != nil && ctx.Err() == nil {
					fmt.Fprintf(w, "demo: %s: campaign: %v\n", instance, err)
					select { // a failing backend: do not spin
					case <-ctx.Done():
					case <-time.After(time.Second):
					}
				}
			}
			break
		}
	}
}

// members prints the ring's size whenever it changes, as the discovery
// watch brings the other instances in or takes them out: before the first
// count, both instances should be in.
func members(ctx context.Context, w io.Writer, instance string, rg *ring) {
	last := -1
	for {
		if n := len(rg.Peers()); n != last {
			fmt.Fprintf(w, "demo: %s ring: %d members\n", instance, n)
			last = n
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(20 * time.Millisecond):
		}
	}
}
