package trace

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"time"
)

// WriteTimeline prints the spans of one trace as a timeline, one line per
// span, children indented under their parent, like the per-hop printout of
// a Hailo trace:
//
//	trace 0af7651916cd43dd8448eb211c80319c: 3 spans, 12.00ms
//	  +0.00ms  12.00ms  gateway   SERVER  GET /checkout
//	  +1.00ms   8.00ms  gateway   CLIENT    POST /charge
//	  +2.00ms   6.00ms  payments  SERVER      POST /charge  ERROR: card declined
//
// The first column is the start relative to the trace's first span. Spans
// of other traces in the slice are printed after, each trace on its own.
func WriteTimeline(w io.Writer, spans []SpanData) error {
	var order []TraceID
	byTrace := map[TraceID][]SpanData{}
	for _, d := range spans {
		if _, ok := byTrace[d.TraceID]; !ok {
			order = append(order, d.TraceID)
		}
		byTrace[d.TraceID] = append(byTrace[d.TraceID], d)
	}
	var b strings.Builder
	for _, id := range order {
		writeTrace(&b, id, byTrace[id])
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func writeTrace(b *strings.Builder, id TraceID, spans []SpanData) {
	spans = slices.Clone(spans)
	depth := depths(spans)
	// Children follow their parent (depth-first), siblings by start time.
	children := map[SpanID][]SpanData{}
	present := map[SpanID]bool{}
	for _, d := range spans {
		present[d.SpanID] = true
	}
	var roots []SpanData
	for _, d := range spans {
		if d.ParentID.IsValid() && present[d.ParentID] && d.ParentID != d.SpanID {
			children[d.ParentID] = append(children[d.ParentID], d)
		} else {
			roots = append(roots, d)
		}
	}
	var ordered []SpanData
	visited := map[SpanID]bool{}
	var walk func(list []SpanData)
	walk = func(list []SpanData) {
		SortSpans(list)
		for _, d := range list {
			if visited[d.SpanID] {
				continue
			}
			visited[d.SpanID] = true
			ordered = append(ordered, d)
			walk(children[d.SpanID])
		}
	}
	walk(roots)

	start, end := spans[0].Start, spans[0].End
	svcWidth := 0
	for _, d := range spans {
		if d.Start.Before(start) {
			start = d.Start
		}
		if d.End.After(end) {
			end = d.End
		}
		svcWidth = max(svcWidth, len(d.Service))
	}
	fmt.Fprintf(b, "trace %s: %d spans, %s\n", id, len(spans), ms(end.Sub(start)))
	offW, durW := 0, 0
	for _, d := range ordered {
		offW = max(offW, len(ms(d.Start.Sub(start)))+1)
		durW = max(durW, len(ms(d.Duration())))
	}
	for _, d := range ordered {
		name := d.Name
		if p, ok := d.Tag(TagURLPath); ok && !strings.Contains(name, p) && !strings.Contains(name, "{") {
			name += " " + p
		}
		fmt.Fprintf(b, "  %*s  %*s  %-*s  %-8s  %s%s", offW, "+"+ms(d.Start.Sub(start)), durW, ms(d.Duration()),
			svcWidth, d.Service, d.Kind, strings.Repeat("  ", depth[d.SpanID]), name)
		if d.Error != "" {
			fmt.Fprintf(b, "  ERROR: %s", d.Error)
		}
		b.WriteByte('\n')
	}
}

func ms(d time.Duration) string { return fmt.Sprintf("%.2fms", float64(d)/float64(time.Millisecond)) }
