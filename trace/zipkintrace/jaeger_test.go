package zipkintrace_test

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

// readJaeger reads a trace back from the query API of the Zipkin-compatible
// collector scripts/backends runs (Jaeger all-in-one), polling until want
// spans are there or ctx ends, and maps Jaeger's form of each span back to
// trace.SpanData: span.kind and the ms/mr annotations to Kind, error and
// error.message to Error, peer.* tags to Remote, logs to Events, the
// process to Service.
func readJaeger(queryURL string) func(ctx context.Context, id trace.TraceID, want int) ([]trace.SpanData, error) {
	return func(ctx context.Context, id trace.TraceID, want int) ([]trace.SpanData, error) {
		for {
			spans, err := fetchJaeger(ctx, queryURL, id)
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
			StartTime int64       `json:"startTime"`
			Duration  int64       `json:"duration"`
			Tags      []jaegerTag `json:"tags"`
			Logs      []struct {
				Timestamp int64       `json:"timestamp"`
				Fields    []jaegerTag `json:"fields"`
			} `json:"logs"`
			ProcessID string `json:"processID"`
		} `json:"spans"`
		Processes map[string]struct {
			ServiceName string `json:"serviceName"`
		} `json:"processes"`
	} `json:"data"`
}

type jaegerTag struct {
	Key   string `json:"key"`
	Value any    `json:"value"`
}

func (t jaegerTag) str() string {
	if f, ok := t.Value.(float64); ok {
		return strconv.FormatFloat(f, 'f', -1, 64)
	}
	return fmt.Sprint(t.Value)
}

func fetchJaeger(ctx context.Context, queryURL string, id trace.TraceID) ([]trace.SpanData, error) {
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, queryURL+"/api/traces/"+id.String(), nil)
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
			d := trace.SpanData{Name: s.OperationName, Service: tr.Processes[s.ProcessID].ServiceName}
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
			for _, tag := range s.Tags {
				switch tag.Key {
				case "span.kind":
					d.Kind = map[string]trace.Kind{"server": trace.Server, "client": trace.Client,
						"producer": trace.Producer, "consumer": trace.Consumer}[tag.str()]
				case "error":
					if d.Error == "" {
						d.Error = tag.str()
					}
				case "error.message":
					d.Error = tag.str()
				case "peer.service":
					d.Remote.Service = tag.str()
				case "peer.ipv4", "peer.ipv6":
					ip, _ = netip.ParseAddr(tag.str())
				case "peer.port":
					p, _ := strconv.Atoi(tag.str())
					port = uint16(p)
				case "internal.span.format":
				default:
					d.Tags = append(d.Tags, trace.Tag{Key: tag.Key, Value: tag.str()})
				}
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
