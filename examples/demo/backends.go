package main

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"strings"

	// Importing an adapter registers its URL schemes with the feature
	// package's Open: that is all it takes to run on a real backend.
	_ "github.com/microos/go-os/discovery/consuldiscovery" // consul://
	_ "github.com/microos/go-os/event/redisevent"          // redis://, redis+cluster://
	_ "github.com/microos/go-os/kv/memcachekv"             // memcache://
	_ "github.com/microos/go-os/kv/rediskv"                // redis://, redis+cluster://
	_ "github.com/microos/go-os/metrics/statsdmetrics"     // statsd://
	_ "github.com/microos/go-os/sync/consulsync"           // consul://
	_ "github.com/microos/go-os/sync/redissync"            // redis://, redis+cluster://
	_ "github.com/microos/go-os/trace/otlptrace"           // otlp+http://, otlp+grpc://
	_ "github.com/microos/go-os/trace/zipkintrace"         // zipkin+http://
)

// urls names the backend of each package; mem:// is the embedded default.
// The demo's code is the same whatever they are: only Open sees the URL.
type urls struct {
	kv, discovery, event, sync, trace, metrics string
	// A tracer or a statsd client only sends; to print what reached the
	// backend the demo reads it back from the backend's query side.
	traceQuery   string // the collector's query API (Jaeger's /api/traces/{id})
	metricsQuery string // a Prometheus text page (statsd_exporter's /metrics)
}

// urlsFromEnv is the default of every flag: DEMO_KV_URL, ..., or mem://.
func urlsFromEnv() urls {
	env := func(name, def string) string {
		if v := os.Getenv(name); v != "" {
			return v
		}
		return def
	}
	return urls{
		kv: env("DEMO_KV_URL", "ringkv"), discovery: env("DEMO_DISCOVERY_URL", "mem://"),
		event: env("DEMO_EVENT_URL", "mem://"), sync: env("DEMO_SYNC_URL", "mem://"),
		trace: env("DEMO_TRACE_URL", "mem://"), metrics: env("DEMO_METRICS_URL", "mem://"),
		traceQuery: env("DEMO_TRACE_QUERY_URL", ""), metricsQuery: env("DEMO_METRICS_QUERY_URL", ""),
	}
}

// orMem is u with mem:// for every backend left empty.
func (u urls) orMem() urls {
	for _, p := range []*string{&u.discovery, &u.event, &u.sync, &u.trace, &u.metrics} {
		if *p == "" {
			*p = "mem://"
		}
	}
	if u.kv == "" {
		u.kv = "ringkv"
	}
	return u
}

func (u urls) embedded() bool {
	for _, v := range []string{u.kv, u.discovery, u.event, u.sync, u.trace, u.metrics} {
		if !strings.HasPrefix(v, "mem:") && v != "ringkv" {
			return false
		}
	}
	return true
}

func (u urls) check() error {
	if !strings.HasPrefix(u.trace, "mem:") && u.traceQuery == "" {
		return fmt.Errorf("-trace %s needs -trace-query (the collector's query API) to print the timeline", u.trace)
	}
	if !strings.HasPrefix(u.metrics, "mem:") && u.metricsQuery == "" {
		return fmt.Errorf("-metrics %s needs -metrics-query (a Prometheus text page of what it received)", u.metrics)
	}
	return nil
}

// summary is the walkthrough's first line: where each package's data went.
func (u urls) summary() string {
	var b strings.Builder
	for _, p := range [][2]string{{"kv", u.kv}, {"discovery", u.discovery}, {"event", u.event},
		{"sync", u.sync}, {"trace", u.trace}, {"metrics", u.metrics}} {
		fmt.Fprintf(&b, " %s=%s", p[0], scheme(p[1]))
	}
	return b.String()
}

func scheme(url string) string {
	s, _, _ := strings.Cut(url, ":")
	return s
}

// newNamespace keeps two runs on shared servers apart: it prefixes every
// name the demo writes to a backend (discovery names and ids, kv keys,
// event types, the election).
func newNamespace() string {
	var b [3]byte
	rand.Read(b[:])
	return "demo" + hex.EncodeToString(b[:]) + "-"
}
