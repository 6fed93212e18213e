package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/microos/go-os/metrics"
	"github.com/microos/go-os/metrics/metricstest"
	"github.com/microos/go-os/trace"
)

// readTrace polls the collector's query API until the trace is whole
// (every span's parent is there, bar the caller's outside the system) and
// has a server span of each service in want. Jaeger's form of a span is
// mapped back to trace.SpanData as far as the timeline needs.
func readTrace(ctx context.Context, c *http.Client, queryURL string, id trace.TraceID, want ...string) ([]trace.SpanData, error) {
	for {
		spans, err := fetchJaeger(ctx, c, queryURL, id)
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

type jaegerTrace struct {
	Data []struct {
		Spans []struct {
			TraceID       string `json:"traceID"`
			SpanID        string `json:"spanID"`
			OperationName string `json:"operationName"`
			References    []struct {
				RefType string `json:"refType"`
				SpanID  string `json:"spanID"`
			} `json:"references"`
			StartTime int64 `json:"startTime"` // µs
			Duration  int64 `json:"duration"`  // µs
			Tags      []struct {
				Key   string `json:"key"`
				Value any    `json:"value"`
			} `json:"tags"`
			ProcessID string `json:"processID"`
		} `json:"spans"`
		Processes map[string]struct {
			ServiceName string `json:"serviceName"`
		} `json:"processes"`
	} `json:"data"`
}

func fetchJaeger(ctx context.Context, c *http.Client, queryURL string, id trace.TraceID) ([]trace.SpanData, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, queryURL+"/api/traces/"+id.String(), nil)
	if err != nil {
		return nil, err
	}
	resp, err := c.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode == http.StatusNotFound {
		return nil, nil // not indexed yet
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: %s", req.URL, resp.Status)
	}
	var jt jaegerTrace
	if err := json.NewDecoder(resp.Body).Decode(&jt); err != nil {
		return nil, err
	}
	kinds := map[string]trace.Kind{"server": trace.Server, "client": trace.Client, "producer": trace.Producer, "consumer": trace.Consumer}
	var out []trace.SpanData
	for _, t := range jt.Data {
		for _, s := range t.Spans {
			d := trace.SpanData{Name: s.OperationName, Service: t.Processes[s.ProcessID].ServiceName,
				Start: time.UnixMicro(s.StartTime)}
			d.End = d.Start.Add(time.Duration(s.Duration) * time.Microsecond)
			d.TraceID, _ = trace.ParseTraceID(s.TraceID)
			d.SpanID, _ = trace.ParseSpanID(s.SpanID)
			for _, r := range s.References {
				if r.RefType == "CHILD_OF" {
					d.ParentID, _ = trace.ParseSpanID(r.SpanID)
				}
			}
			for _, tag := range s.Tags {
				switch v := fmt.Sprint(tag.Value); tag.Key {
				case "span.kind":
					d.Kind = kinds[v]
				case "http.path": // Zipkin's name of the path
					d.Tags = append(d.Tags, trace.Tag{Key: trace.TagURLPath, Value: v})
				}
			}
			out = append(out, d)
		}
	}
	return out, nil
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
