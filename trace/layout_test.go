package trace

import (
	"context"
	"testing"
	"unsafe"
)

// A sampled span is one allocation; its size class is what every sampled
// span costs the caller and the garbage collector. A field added to Span,
// recording or SpanData that takes it past 448 bytes should be a choice.
func TestSampledSpanSizeClass(t *testing.T) {
	if n := unsafe.Sizeof(recordingCtx{}); n > 448 {
		t.Errorf("recordingCtx is %d bytes, past the 448-byte size class", n)
	}
}

// Tags past the inline buffer move to the heap and stay in order, with a
// repeated key still replacing its value, before and after the move.
func TestTagsPastInlineBuffer(t *testing.T) {
	tr, rec := NewMemory(WithService("svc", "1.2", "i-1"))
	_, s := tr.Start(context.Background(), "op", WithTags(Tag{"a", "1"}))
	if cap(s.rec.data.Tags) != len(s.rec.tagBuf) {
		t.Fatalf("tags start in a %d-tag array, want the %d-tag inline buffer", cap(s.rec.data.Tags), len(s.rec.tagBuf))
	}
	s.SetTag("a", "2") // inline, replaced
	for _, k := range []string{"b", "c", "d", "e"} {
		s.SetTag(k, k)
	}
	s.SetTag("service.version", "1.3") // a service tag, replaced after the move
	s.SetTag("b", "B")
	s.End()
	s.SetTag("f", "late") // after End: ignored
	got := rec.Spans()[0].Tags
	want := []Tag{{"service.version", "1.3"}, {"service.instance.id", "i-1"}, {"a", "2"}, {"b", "B"}, {"c", "c"}, {"d", "d"}, {"e", "e"}}
	if len(got) != len(want) {
		t.Fatalf("tags %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("tags %v, want %v", got, want)
		}
	}
}

// A span ended twice is recorded once, with the first end.
func TestEndTwiceRecordsOnce(t *testing.T) {
	tr, rec := NewMemory()
	_, s := tr.Start(context.Background(), "op")
	s.End()
	end := rec.Spans()[0].End
	s.End()
	if spans := rec.Spans(); len(spans) != 1 || !spans[0].End.Equal(end) {
		t.Errorf("after a second End: %d spans, end %v (first %v)", len(spans), spans[len(spans)-1].End, end)
	}
	if s.IsRecording() {
		t.Error("span still recording after End")
	}
}
