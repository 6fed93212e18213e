package kvtrace_test

import (
	"context"
	"errors"
	"testing"

	"go.uber.org/goleak"

	"github.com/microos/go-os/kv"
	"github.com/microos/go-os/kv/kvtrace"
	"github.com/microos/go-os/trace"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestSpanPerCall(t *testing.T) {
	tracer, rec := trace.NewMemory()
	defer tracer.Close()
	s := kv.NewMemory(kv.WithNamespace("ns:"), kv.WithHook(kvtrace.Hook(tracer)))
	defer s.Close()

	ctx, parent := tracer.Start(context.Background(), "handler")
	if err := s.Set(ctx, kv.Item{Key: "a", Value: []byte("1")}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Get(ctx, "a"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Get(ctx, "missing"); !errors.Is(err, kv.ErrNotFound) {
		t.Fatal(err)
	}
	if err := s.Add(ctx, kv.Item{Key: "a"}); !errors.Is(err, kv.ErrExists) {
		t.Fatal(err)
	}
	if _, err := s.GetMulti(ctx, []string{"a", "b"}); err != nil {
		t.Fatal(err)
	}
	parent.End()

	spans := rec.Trace(parent.SpanContext().TraceID)
	var kvSpans []trace.SpanData
	for _, sp := range spans {
		if sp.Name != "handler" {
			kvSpans = append(kvSpans, sp)
		}
	}
	want := []struct{ name, op, key, hit, err string }{
		{"kv set", "set", "a", "", ""},
		{"kv get", "get", "a", "true", ""},
		{"kv get", "get", "missing", "false", ""},
		{"kv add", "add", "a", "", "kv: add \"a\": kv: key exists"},
		{"kv getmulti", "getmulti", "", "", ""},
	}
	if len(kvSpans) != len(want) {
		t.Fatalf("%d kv spans, want %d: %+v", len(kvSpans), len(want), kvSpans)
	}
	trace.SortSpans(kvSpans)
	for i, w := range want {
		sp := kvSpans[i]
		if sp.Name != w.name || sp.Kind != trace.Client {
			t.Errorf("span %d: %q kind %v, want %q client", i, sp.Name, sp.Kind, w.name)
		}
		if sp.ParentID != parent.SpanContext().SpanID {
			t.Errorf("span %d (%s): not a child of the handler's span", i, sp.Name)
		}
		if v, _ := sp.Tag("db.system"); v != "memory" {
			t.Errorf("span %d: db.system=%q, want memory", i, v)
		}
		if v, _ := sp.Tag("db.operation"); v != w.op {
			t.Errorf("span %d: db.operation=%q, want %q", i, v, w.op)
		}
		if v, _ := sp.Tag("kv.key"); v != w.key {
			t.Errorf("span %d: kv.key=%q, want %q", i, v, w.key)
		}
		if v, _ := sp.Tag("kv.hit"); v != w.hit {
			t.Errorf("span %d: kv.hit=%q, want %q", i, v, w.hit)
		}
		if sp.Error != w.err {
			t.Errorf("span %d: error %q, want %q", i, sp.Error, w.err)
		}
	}
}

func TestNilTracerIsNoop(t *testing.T) {
	s := kv.NewMemory(kv.WithHook(kvtrace.Hook(nil)))
	defer s.Close()
	ctx := context.Background()
	if err := s.Set(ctx, kv.Item{Key: "a", Value: []byte("1")}); err != nil {
		t.Fatal(err)
	}
	if it, err := s.Get(ctx, "a"); err != nil || string(it.Value) != "1" {
		t.Fatalf("Get = %q, %v", it.Value, err)
	}
}
