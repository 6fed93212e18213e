package trace

import (
	"context"
	"slices"
	"sync"
)

// Recorder is the in-memory exporter: it keeps finished spans so that tests
// can assert a trace's shape, and it is what mem:// and NewMemory use. A
// Tracer hands spans to it as they end, without a queue or goroutine, so a
// test reads them right after End. It keeps the last MaxRecorded spans.
// It is safe for concurrent use.
type Recorder struct {
	mu    sync.Mutex
	spans []SpanData
}

// MaxRecorded is how many spans a Recorder keeps; older ones are forgotten,
// so that a service left on mem:// does not grow without bound.
const MaxRecorded = 10000

// NewRecorder returns an empty Recorder. Pass it to New, or use NewMemory.
func NewRecorder() *Recorder { return &Recorder{} }

func (r *Recorder) record(d *SpanData) {
	c := *d
	c.Tags = slices.Clone(d.Tags)
	c.Events = slices.Clone(d.Events)
	r.mu.Lock()
	if len(r.spans) >= 2*MaxRecorded {
		r.spans = append(r.spans[:0], r.spans[len(r.spans)-MaxRecorded:]...)
	}
	r.spans = append(r.spans, c)
	r.mu.Unlock()
}

// Export records spans; a Tracer calls record directly, other callers (a
// fan-out exporter) may use Export.
func (r *Recorder) Export(ctx context.Context, spans []*SpanData) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	for _, d := range spans {
		r.record(d)
	}
	return nil
}

// Close keeps the recorded spans readable.
func (r *Recorder) Close() error { return nil }

// Spans returns the recorded spans in the order they ended.
func (r *Recorder) Spans() []SpanData {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.tail()
}

// tail is the last MaxRecorded spans; r.mu is held.
func (r *Recorder) tail() []SpanData {
	s := r.spans
	if len(s) > MaxRecorded {
		s = s[len(s)-MaxRecorded:]
	}
	return slices.Clone(s)
}

// Trace returns the recorded spans of one trace, by start time (parents
// before children when they start at the same instant).
func (r *Recorder) Trace(id TraceID) []SpanData {
	r.mu.Lock()
	var out []SpanData
	for _, d := range r.tail() {
		if d.TraceID == id {
			out = append(out, d)
		}
	}
	r.mu.Unlock()
	SortSpans(out)
	return out
}

// TraceIDs returns the ids of the recorded traces, in the order their first
// span ended.
func (r *Recorder) TraceIDs() []TraceID {
	var out []TraceID
	seen := map[TraceID]bool{}
	for _, d := range r.Spans() {
		if !seen[d.TraceID] {
			seen[d.TraceID] = true
			out = append(out, d.TraceID)
		}
	}
	return out
}

// Find returns the last recorded span named name.
func (r *Recorder) Find(name string) (SpanData, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for i := len(r.spans) - 1; i >= 0; i-- {
		if r.spans[i].Name == name {
			return r.spans[i], true
		}
	}
	return SpanData{}, false
}

// Reset forgets every recorded span.
func (r *Recorder) Reset() {
	r.mu.Lock()
	r.spans = nil
	r.mu.Unlock()
}

// SortSpans orders the spans of one trace for reading: by start time, a
// parent before its children when times tie.
func SortSpans(spans []SpanData) {
	depth := depths(spans)
	slices.SortStableFunc(spans, func(a, b SpanData) int {
		if c := a.Start.Compare(b.Start); c != 0 {
			return c
		}
		return depth[a.SpanID] - depth[b.SpanID]
	})
}

// depths maps each span id to its depth in the trace: 0 for a span whose
// parent is not among spans.
func depths(spans []SpanData) map[SpanID]int {
	parent := make(map[SpanID]SpanID, len(spans))
	for _, d := range spans {
		parent[d.SpanID] = d.ParentID
	}
	depth := make(map[SpanID]int, len(spans))
	for _, d := range spans {
		n, id := 0, d.ParentID
		for id.IsValid() && n <= len(spans) { // the bound stops a cycle in bad data
			p, ok := parent[id]
			if !ok {
				break
			}
			n++
			id = p
		}
		depth[d.SpanID] = n
	}
	return depth
}
