// Command demo runs a small system built from go-os's packages, by default
// in one process, on the embedded in-memory defaults: no servers needed.
//
//	go run ./examples/demo          # walkthrough on one screen, exits 0
//	go run ./examples/demo -serve   # keeps running: status page and API
//
// The same binary runs on real backends, each chosen by a URL (a flag, or
// DEMO_KV_URL, DEMO_DISCOVERY_URL, ...), with the servers of scripts/backends:
//
//	eval "$(scripts/backends env)"
//	go run ./examples/demo -kv redis://$TEST_REDIS_ADDR/0 \
//		-discovery consul://$TEST_CONSUL_ADDR -sync consul://$TEST_CONSUL_ADDR \
//		-event redis://$TEST_REDIS_ADDR/0 \
//		-trace zipkin+$TEST_ZIPKIN_URL -trace-query $TEST_ZIPKIN_QUERY_URL \
//		-metrics "statsd://$TEST_STATSD_ADDR?tags=datadog" -metrics-query $TEST_STATSD_METRICS_URL
//
// Or one service per process: -role starts only that service (-instance
// names it) and serves until SIGTERM, when it resigns, deregisters, drains
// and flushes. Processes share no memory, so every backend must be a
// server (mem:// is refused) and the tokens come from one OpenID provider
// (-auth; the in-process issuer is refused); with -kv ringkv the counter
// instances also share a -ring-secret. With the env of the command above
// as DEMO_*_URL, and the provider's clients (names prefixed demo-, or -namespace):
//
//	export DEMO_DISCOVERY_URL=consul://$TEST_CONSUL_ADDR DEMO_KV_URL=redis://$TEST_REDIS_ADDR/0 \
//		DEMO_EVENT_URL=redis://$TEST_REDIS_ADDR/0 DEMO_SYNC_URL=consul://$TEST_CONSUL_ADDR \
//		DEMO_TRACE_URL=zipkin+$TEST_ZIPKIN_URL DEMO_METRICS_URL="statsd://$TEST_STATSD_ADDR?tags=datadog" \
//		DEMO_AUTH_URL=$TEST_OAUTH2_ISSUER DEMO_AUTH_AUDIENCE=$TEST_OAUTH2_RESOURCE \
//		DEMO_AUTH_CLIENT=$TEST_OAUTH2_CLIENT_ID:$TEST_OAUTH2_CLIENT_SECRET \
//		DEMO_AUTH_LIMITED=$TEST_OAUTH2_LIMITED_CLIENT_ID:$TEST_OAUTH2_LIMITED_CLIENT_SECRET
//	go build -o /tmp/demo ./examples/demo
//	/tmp/demo -role greeter & /tmp/demo -role counter -instance counter-1 &
//	/tmp/demo -role counter -instance counter-2 & /tmp/demo -role gateway -addr 127.0.0.1:8080 &
//	curl -H 'traceparent: 00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01' 127.0.0.1:8080/hello/ada
//	# Hello, ada (visit 1, counted by counter-2); status page: http://127.0.0.1:8080/monitor/
//
// The system: a gateway, a greeter and a counter with two instances, each a
// real HTTP server on 127.0.0.1 with its own tracer, metrics and logger.
// discovery registers them, the gateway reaches the others through the
// router, the counter keeps its state in kv (by default ringkv: its two
// instances' memory) and elects a leader with sync for its periodic job, config comes from a file and env, the greeter
// publishes an event per greeting that the counter consumes, every call
// behind the gateway carries a client-credentials token checked against one
// policy, and monitor checks the health of all of it.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"
)

func main() {
	serve := flag.Bool("serve", false, "keep running and serve the status page")
	addr := flag.String("addr", "127.0.0.1:8080", "with -serve: where the status page /monitor/ listens; with -role gateway: where the gateway listens")
	u := urlsFromEnv()
	flag.StringVar(&u.kv, "kv", u.kv, "the counter's store: ringkv (its instances' memory), mem://, redis://host:port/0, memcache://h1:p1,h2:p2 (env DEMO_KV_URL)")
	flag.StringVar(&u.discovery, "discovery", u.discovery, "registry: mem://, consul://host:port (env DEMO_DISCOVERY_URL)")
	flag.StringVar(&u.event, "event", u.event, "event bus: mem://, redis://host:port/0 (env DEMO_EVENT_URL)")
	flag.StringVar(&u.sync, "sync", u.sync, "leader election: mem://, redis://host:port/0, consul://host:port (env DEMO_SYNC_URL)")
	flag.StringVar(&u.trace, "trace", u.trace, "span exporter: mem://, zipkin+http://host:9411/api/v2/spans (env DEMO_TRACE_URL)")
	flag.StringVar(&u.traceQuery, "trace-query", u.traceQuery, "with -trace: the collector's query API, Jaeger's http://host:16686 (env DEMO_TRACE_QUERY_URL)")
	flag.StringVar(&u.metrics, "metrics", u.metrics, "metrics: mem://, statsd://host:8125?tags=datadog (env DEMO_METRICS_URL)")
	flag.StringVar(&u.metricsQuery, "metrics-query", u.metricsQuery, "with -metrics: a Prometheus text page of what it received, statsd_exporter's http://host:9102/metrics (env DEMO_METRICS_QUERY_URL)")
	a := authURLs{issuer: os.Getenv("DEMO_AUTH_URL"), audience: os.Getenv("DEMO_AUTH_AUDIENCE"),
		gateway: os.Getenv("DEMO_AUTH_CLIENT"), limited: os.Getenv("DEMO_AUTH_LIMITED")}
	flag.StringVar(&a.issuer, "auth", a.issuer, "authorization server: mem:// (in-process) or an OpenID issuer URL (env DEMO_AUTH_URL)")
	flag.StringVar(&a.audience, "auth-audience", a.audience, "with -auth: the resource the tokens are for (env DEMO_AUTH_AUDIENCE)")
	flag.StringVar(&a.gateway, "auth-client", a.gateway, "with -auth: the gateway's client, id:secret, with scopes read and write (env DEMO_AUTH_CLIENT)")
	flag.StringVar(&a.limited, "auth-limited", a.limited, "with -auth: a client with scope read only, id:secret (env DEMO_AUTH_LIMITED)")
	ns := flag.String("namespace", os.Getenv("DEMO_NAMESPACE"), "prefix of every name written to a real backend (default: a fresh one per run; with -role, demo-)")
	role := flag.String("role", "", "run only this service, gateway, greeter or counter, in this process until SIGTERM, on shared backends (no mem://) and -auth")
	instance := flag.String("instance", "", "with -role: the instance's name, e.g. counter-2 (default: <role>-1)")
	ringSecret := flag.String("ring-secret", os.Getenv("DEMO_RING_SECRET"), "with -role counter and -kv ringkv: the secret the instances' ring calls carry, the same for all (env DEMO_RING_SECRET)")
	cfgFile := flag.String("config", os.Getenv("DEMO_CONFIG"), "with -role: a JSON settings file, e.g. {\"greeting\": {\"text\": \"Hello\"}}, edits take effect while it runs; env DEMO_GREETING_TEXT etc. on top")
	flag.Parse()
	o := options{serve: *serve, addr: *addr, urls: u, auth: a, namespace: *ns,
		role: *role, instance: *instance, ringSecret: *ringSecret, config: *cfgFile}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if o.role != "" {
		if err := serveRole(ctx, os.Stdout, o); err != nil {
			fmt.Fprintln(os.Stderr, "demo:", err)
			os.Exit(1)
		}
		return
	}
	if !*serve {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
	}
	if err := run(ctx, os.Stdout, o); err != nil {
		fmt.Fprintln(os.Stderr, "demo:", err)
		os.Exit(1)
	}
}

type options struct {
	serve     bool
	addr      string
	urls      urls      // mem:// each, unless flags or env say otherwise
	auth      authURLs  // the in-process issuer unless flags or env say otherwise
	namespace string    // default on real backends: a fresh demoXXXXXX- per run
	logs      io.Writer // every service's JSON log lines (default: discarded, a few are printed; with -role, stderr)

	// -role: one service per process
	role, instance string // "gateway", "greeter" or "counter"; e.g. "counter-2"
	ringSecret     string // with -kv ringkv: shared by the counter instances
	config         string // a settings file (the walkthrough writes its own)
}
