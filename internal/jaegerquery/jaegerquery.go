// Package jaegerquery reads traces back from the query API of the Jaeger
// all-in-one collector that scripts/backends runs, for the exporters'
// tests: spans that went in over Zipkin v2 (zipkintrace) or OTLP
// (otlptrace) come back mapped to trace.SpanData.
package jaegerquery

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/netip"
	"strconv"
	"time"

	"github.com/microos/go-os/trace"
)

// Reader returns a tracetest.Backend Read function for the query API at
// queryURL: it polls until want spans of the trace are there or ctx ends,
// and maps Jaeger's form of each span back to trace.SpanData: span.kind
// (and Zipkin's ms/mr annotations) to Kind; Zipkin's error tag or OTLP's
// otel.status_description to Error; peer.service, peer.ipv4/ipv6/port
// (Zipkin) and network.peer.address/port (OTLP) to Remote; w3c.tracestate
// to TraceState; logs to Events; the process to Service, with the
// process's tags (OTLP resource attributes) appended to Tags.
func Reader(queryURL string) func(ctx context.Context, id trace.TraceID, want int) ([]trace.SpanData, error) {
	return func(ctx context.Context, id trace.TraceID, want int) ([]trace.SpanData, error) {
		for {
			spans, err := Fetch(ctx, queryURL, id)
			if err != nil && ctx.Err() == nil {
				return nil, err
			}
			if len(spans) >= want || ctx.Err() != nil {
				return spans, nil
			}
			select {
			case <-ctx.Done():
			case <-time.After(50 * time.Millisecond):
			}
		}
	}
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
			StartTime int64 `json:"startTime"`
			Duration  int64 `json:"duration"`
			Tags      []tag `json:"tags"`
			Logs      []struct {
				Timestamp int64 `json:"timestamp"`
				Fields    []tag `json:"fields"`
			} `json:"logs"`
			ProcessID string `json:"processID"`
		} `json:"spans"`
		Processes map[string]struct {
			ServiceName string `json:"serviceName"`
			Tags        []tag  `json:"tags"`
		} `json:"processes"`
	} `json:"data"`
}

type tag struct {
	Key   string `json:"key"`
	Value any    `json:"value"`
}

func (t tag) str() string {
	if f, ok := t.Value.(float64); ok {
		return strconv.FormatFloat(f, 'f', -1, 64)
	}
	return fmt.Sprint(t.Value)
}

// Fetch reads the spans the query API has now for trace id (none when it
// does not know the trace).
func Fetch(ctx context.Context, queryURL string, id trace.TraceID) ([]trace.SpanData, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, queryURL+"/api/traces/"+id.String(), nil)
	if err != nil {
		return nil, err
	}
	req.Close = true // no idle connection left for the leak check
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode == http.StatusNotFound {
		return nil, nil
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("query API: status %d", resp.StatusCode)
	}
	var jt jaegerTrace
	if err := json.NewDecoder(resp.Body).Decode(&jt); err != nil {
		return nil, err
	}
	var out []trace.SpanData
	for _, tr := range jt.Data {
		for _, s := range tr.Spans {
			proc := tr.Processes[s.ProcessID]
			d := trace.SpanData{Name: s.OperationName, Service: proc.ServiceName}
			d.TraceID, _ = trace.ParseTraceID(s.TraceID)
			d.SpanID, _ = trace.ParseSpanID(s.SpanID)
			for _, r := range s.References {
				if r.RefType == "CHILD_OF" {
					d.ParentID, _ = trace.ParseSpanID(r.SpanID)
				}
			}
			d.Start = time.UnixMicro(s.StartTime)
			d.End = d.Start.Add(time.Duration(s.Duration) * time.Microsecond)
			var ip netip.Addr
			var port uint16
			for _, tg := range s.Tags {
				switch tg.Key {
				case "span.kind":
					d.Kind = map[string]trace.Kind{"server": trace.Server, "client": trace.Client,
						"producer": trace.Producer, "consumer": trace.Consumer}[tg.str()]
				case "error":
					if d.Error == "" {
						d.Error = tg.str()
					}
				case "error.message", "otel.status_description":
					d.Error = tg.str()
				case "peer.service":
					d.Remote.Service = tg.str()
				case "peer.ipv4", "peer.ipv6", "network.peer.address":
					ip, _ = netip.ParseAddr(tg.str())
				case "peer.port", "network.peer.port":
					p, _ := strconv.Atoi(tg.str())
					port = uint16(p)
				case "w3c.tracestate":
					d.TraceState = tg.str()
				case "internal.span.format":
				default:
					d.Tags = append(d.Tags, trace.Tag{Key: tg.Key, Value: tg.str()})
				}
			}
			for _, tg := range proc.Tags {
				d.Tags = append(d.Tags, trace.Tag{Key: tg.Key, Value: tg.str()})
			}
			if ip.IsValid() {
				d.Remote.Addr = netip.AddrPortFrom(ip, port)
			}
			for _, l := range s.Logs {
				for _, f := range l.Fields {
					switch v := f.str(); {
					case f.Key == "event" && v == "ms" && d.Kind == trace.Internal:
						d.Kind = trace.Producer
					case f.Key == "event" && v == "mr" && d.Kind == trace.Internal:
						d.Kind = trace.Consumer
					case f.Key == "event":
						d.Events = append(d.Events, trace.Event{Time: time.UnixMicro(l.Timestamp), Name: v})
					}
				}
			}
			out = append(out, d)
		}
	}
	return out, nil
}
