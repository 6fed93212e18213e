package main

import (
	"context"
	"fmt"
	"time"

	"github.com/microos/go-os/internal/jaegerquery"
	"github.com/microos/go-os/metrics"
	"github.com/microos/go-os/metrics/metricstest"
	"github.com/microos/go-os/trace"
)

// readTrace polls the collector's query API until the trace is whole
// (every span's parent is there, bar the caller's outside the system) and
// has a server span of each service in want. Jaeger's form of a span is
// mapped back to trace.SpanData as far as the timeline needs.
func readTrace(ctx context.Context, queryURL string, id trace.TraceID, want ...string) ([]trace.SpanData, error) {
	for {
		spans, err := fetchJaeger(ctx, queryURL, id)
		if err != nil {
			return nil, err
		}
		if whole(spans, want) {
			return spans, nil
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("trace %s: %d spans at %s, not yet whole: %w", id, len(spans), queryURL, ctx.Err())
		case <-time.After(50 * time.Millisecond): // the collector indexes in the background
		}
	}
}

func whole(spans []trace.SpanData, services []string) bool {
	ids := map[trace.SpanID]bool{}
	servers := map[string]bool{}
	for _, s := range spans {
		ids[s.SpanID] = true
		if s.Kind == trace.Server {
			servers[s.Service] = true
		}
	}
	orphans := 0
	for _, s := range spans {
		if !ids[s.ParentID] {
			orphans++ // only the root may be: its parent is the outside caller's
		}
	}
	for _, name := range services {
		if !servers[name] {
			return false
		}
	}
	return orphans == 1
}

// fetchJaeger reads the trace's spans as the collector holds them;
// zipkintrace sent the path under Zipkin's name, http.path.
func fetchJaeger(ctx context.Context, queryURL string, id trace.TraceID) ([]trace.SpanData, error) {
	spans, err := jaegerquery.Fetch(ctx, queryURL, id)
	for i := range spans {
		for j, tag := range spans[i].Tags {
			if tag.Key == "http.path" {
				spans[i].Tags[j].Key = trace.TagURLPath
			}
		}
	}
	return spans, err
}

// readMetrics returns each service's series: from its own Metrics when the
// backend can read values back (memory), else from the page the backend
// shows what it received on (statsd_exporter), polling until done says the
// page has caught up: statsd is UDP, fire and forget.
func readMetrics(ctx context.Context, services []*service, pageURL, ns string, done func(map[*service]metrics.Snapshot) bool) (map[*service]metrics.Snapshot, error) {
	got := map[*service]metrics.Snapshot{}
	if pageURL == "" {
		for _, s := range services {
			snap, err := s.met.Snapshot()
			if err != nil {
				return nil, err
			}
			got[s] = snap
		}
		return got, nil
	}
	for _, s := range services {
		if f, ok := s.met.Driver().(interface{ Flush() }); ok {
			f.Flush() // send what is aggregated now, not at the next interval
		}
	}
	for {
		all, err := metricstest.Scrape(pageURL)
		if err != nil {
			return nil, err
		}
		clear(got)
		for _, s := range services {
			for _, p := range all {
				if p.Label("instance") == ns+s.instance {
					got[s] = append(got[s], p)
				}
			}
		}
		if done(got) {
			return got, nil
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("metrics at %s: %w", pageURL, ctx.Err())
		case <-time.After(50 * time.Millisecond):
		}
	}
}
