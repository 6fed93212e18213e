package event_test

import (
	"context"
	"testing"

	"github.com/microos/go-os/event"
)

func BenchmarkMemoryPublish(b *testing.B) {
	bus := event.NewMemory(event.WithRetention(1024, 0))
	defer bus.Close()
	ctx := context.Background()
	rec := event.Record{Type: "bench.event", Data: make([]byte, 128)}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := bus.Publish(ctx, rec); err != nil {
			b.Fatal(err)
		}
	}
}
