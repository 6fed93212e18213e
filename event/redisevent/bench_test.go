package redisevent_test

import (
	"context"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/microos/go-os/event"
	"github.com/microos/go-os/event/redisevent"
	"github.com/microos/go-os/internal/testenv"
)

// BenchmarkPublish is one Publish against the real Redis; RawXAdd is the
// go-redis XADD of the same payload to compare with.
func BenchmarkPublish(b *testing.B) {
	c := redis.NewClient(&redis.Options{Addr: testenv.Redis(b), ContextTimeoutEnabled: true})
	defer c.Close()
	o := opts()
	o.MaxLen = 10000
	bus := redisevent.New(c, o)
	defer bus.Close()
	ctx := context.Background()
	data := make([]byte, 256)
	b.Run("Publish", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := bus.Publish(ctx, event.Record{Type: "bench", Data: data}); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("RawXAdd", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if err := c.XAdd(ctx, &redis.XAddArgs{Stream: o.Prefix + "{raw}", MaxLen: 10000, Approx: true, Values: []any{"r", data}}).Err(); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Cleanup(func() { c.Del(ctx, o.Prefix+"{raw}", o.Prefix+"{bench}", o.Prefix+"types") })
	batch := make([]event.Record, 100)
	for i := range batch {
		batch[i] = event.Record{Type: "batch", Data: data}
	}
	b.Run("PublishBatch100", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := bus.PublishBatch(ctx, batch); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("RawXAdd100", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := c.Pipelined(ctx, func(p redis.Pipeliner) error {
				for range 100 {
					p.XAdd(ctx, &redis.XAddArgs{Stream: o.Prefix + "{rawbatch}", MaxLen: 10000, Approx: true, Values: []any{"r", data}})
				}
				return nil
			}); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Cleanup(func() { c.Del(ctx, o.Prefix+"{rawbatch}", o.Prefix+"{batch}") })
}
