// Package eventbench compares event/redisevent with Watermill's Redis
// Streams pub/sub and with the raw go-redis XADD it is built on, on the
// same Redis with the same 256-byte payload.
package eventbench

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"slices"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill"
	"github.com/ThreeDotsLabs/watermill-redisstream/pkg/redisstream"
	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/redis/go-redis/v9"

	"github.com/microos/go-os/bench/internal/compare"
	"github.com/microos/go-os/event"
	"github.com/microos/go-os/event/redisevent"
	"github.com/microos/go-os/internal/testenv"
)

var payload = make([]byte, 256)

func unique() string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return "eventbench:" + hex.EncodeToString(b[:]) + ":"
}

// cleanup deletes every key under prefix when the test ends.
func cleanup(t *testing.T, c *redis.Client, prefix string) {
	t.Cleanup(func() {
		ctx := context.Background()
		keys, _ := c.Keys(ctx, prefix+"*").Result()
		if len(keys) > 0 {
			c.Del(ctx, keys...)
		}
	})
}

func TestComparePublish(t *testing.T) {
	ctx := context.Background()
	c := redis.NewClient(&redis.Options{Addr: testenv.Redis(t)})
	defer c.Close()
	p := unique()
	cleanup(t, c, p)
	bus := redisevent.New(c, redisevent.Options{Prefix: p, MaxLen: 10000})
	defer bus.Close()
	wmc := redis.NewClient(&redis.Options{Addr: testenv.Redis(t)}) // Watermill's Close closes the client
	wm, err := redisstream.NewPublisher(redisstream.PublisherConfig{Client: wmc, DefaultMaxlen: 10000}, watermill.NopLogger{})
	if err != nil {
		t.Fatal(err)
	}
	defer wm.Close()
	raw := func(stream string) *redis.XAddArgs {
		return &redis.XAddArgs{Stream: stream, MaxLen: 10000, Approx: true, Values: []any{"r", payload}}
	}
	batch := make([]event.Record, 100)
	for i := range batch {
		batch[i] = event.Record{Type: "batch", Data: payload}
	}

	compare.Run(t,
		compare.Case{
			Name: "event/redis Publish vs watermill Publish",
			Ours: func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					if _, err := bus.Publish(ctx, event.Record{Type: "bench", Data: payload}); err != nil {
						b.Fatal(err)
					}
				}
			},
			Peer: func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					if err := wm.Publish(p+"wm", message.NewMessage(watermill.NewUUID(), payload)); err != nil {
						b.Fatal(err)
					}
				}
			},
			Goal: 1,
		},
		compare.Case{
			// The goal: one Publish (an XADD once the type is indexed)
			// within 5% of the bare command carrying the same payload.
			Name: "event/redis Publish vs go-redis XADD",
			Ours: func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					if _, err := bus.Publish(ctx, event.Record{Type: "bench", Data: payload}); err != nil {
						b.Fatal(err)
					}
				}
			},
			Peer: func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					if err := c.XAdd(ctx, raw(p+"{raw}")).Err(); err != nil {
						b.Fatal(err)
					}
				}
			},
			Goal: 1.05,
		},
		compare.Case{
			// Extra row, not a peer: what the SADD to the type index that
			// Publish used to pipeline with every XADD costs.
			Name: "extra: XADD+SADD pipelined vs XADD alone",
			Ours: func(b *testing.B) {
				for b.Loop() {
					if _, err := c.Pipelined(ctx, func(pl redis.Pipeliner) error {
						pl.XAdd(ctx, raw(p+"{raw}"))
						pl.SAdd(ctx, p+"rawtypes", "raw")
						return nil
					}); err != nil {
						b.Fatal(err)
					}
				}
			},
			Peer: func(b *testing.B) {
				for b.Loop() {
					if err := c.XAdd(ctx, raw(p+"{raw}")).Err(); err != nil {
						b.Fatal(err)
					}
				}
			},
		},
		compare.Case{
			// Goal: at least 0.9x the raw pipeline's throughput, i.e. ns/op within 1/0.9.
			Name: "event/redis PublishBatch(100) vs pipelined XADD x100",
			Ours: func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					if _, err := bus.PublishBatch(ctx, batch); err != nil {
						b.Fatal(err)
					}
				}
			},
			Peer: func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					if _, err := c.Pipelined(ctx, func(pl redis.Pipeliner) error {
						for range 100 {
							pl.XAdd(ctx, raw(p+"{rawbatch}"))
						}
						return nil
					}); err != nil {
						b.Fatal(err)
					}
				}
			},
			Goal: 1 / 0.9,
		},
	)
	interleaved(t, "  Publish vs watermill, interleaved", func() {
		if _, err := bus.Publish(ctx, event.Record{Type: "bench", Data: payload}); err != nil {
			t.Fatal(err)
		}
	}, func() {
		if err := wm.Publish(p+"wm", message.NewMessage(watermill.NewUUID(), payload)); err != nil {
			t.Fatal(err)
		}
	})
	interleaved(t, "  Publish vs XADD, interleaved", func() {
		if _, err := bus.Publish(ctx, event.Record{Type: "bench", Data: payload}); err != nil {
			t.Fatal(err)
		}
	}, func() {
		if err := c.XAdd(ctx, raw(p+"{raw}")).Err(); err != nil {
			t.Fatal(err)
		}
	})
	// Extra row: the raw pipeline carrying the very fields our records are
	// stored as (read back from the stream), to tell the cost of the record
	// format (header bytes, one field holding header and data) from the
	// cost of our code.
	stored, err := c.XRevRangeN(ctx, p+"{batch}", "+", "-", 1).Result()
	if err != nil || len(stored) != 1 {
		t.Fatalf("reading a stored record: %v %v", stored, err)
	}
	same := []any{"r", stored[0].Values["r"]}
	interleaved(t, "  extra: PublishBatch vs XADD x100 same fields", func() {
		if _, err := bus.PublishBatch(ctx, batch); err != nil {
			t.Fatal(err)
		}
	}, func() {
		if _, err := c.Pipelined(ctx, func(pl redis.Pipeliner) error {
			for range 100 {
				pl.XAdd(ctx, &redis.XAddArgs{Stream: p + "{rawsame}", MaxLen: 10000, Approx: true, Values: same})
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
	})
	interleaved(t, "  PublishBatch(100) vs XADD x100, interleaved", func() {
		if _, err := bus.PublishBatch(ctx, batch); err != nil {
			t.Fatal(err)
		}
	}, func() {
		if _, err := c.Pipelined(ctx, func(pl redis.Pipeliner) error {
			for range 100 {
				pl.XAdd(ctx, raw(p+"{rawbatch}"))
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
	})
}

// Consuming: b.N records already in a stream, published by each side's own
// publisher (untimed); timed from Subscribe until a group of 1 or 4
// consumers has handled and acknowledged all b.N.
func TestCompareConsume(t *testing.T) {
	ctx := context.Background()
	addr := testenv.Redis(t)
	c := redis.NewClient(&redis.Options{Addr: addr})
	defer c.Close()
	p := unique()
	cleanup(t, c, p)
	run := 0
	var cases []compare.Case
	for _, consumers := range []int{1, 4} {
		cases = append(cases, compare.Case{
			Name: fmt.Sprintf("event/redis group of %d consume vs watermill", consumers),
			Ours: func(b *testing.B) {
				b.ReportAllocs()
				run++
				c := redis.NewClient(&redis.Options{Addr: addr}) // each side a fresh client: Watermill's Close closes its own
				defer c.Close()
				bus := redisevent.New(c, redisevent.Options{Prefix: p + strconv.Itoa(run) + ":"})
				defer bus.Close()
				recs := make([]event.Record, b.N)
				for i := range recs {
					recs[i] = event.Record{Type: "bench", Data: payload}
				}
				for i := 0; i < len(recs); i += 1000 {
					if _, err := bus.PublishBatch(ctx, recs[i:min(i+1000, len(recs))]); err != nil {
						b.Fatal(err)
					}
				}
				var n atomic.Int64
				done := make(chan struct{})
				want := int64(b.N)
				b.ResetTimer()
				for range consumers {
					s, err := bus.Subscribe(ctx, func(context.Context, event.Record) error {
						if n.Add(1) == want {
							close(done)
						}
						return nil
					}, event.SubscribeOptions{Group: "g", Start: event.FromBeginning})
					if err != nil {
						b.Fatal(err)
					}
					defer s.Stop()
				}
				<-done
				b.StopTimer()
			},
			Peer: func(b *testing.B) {
				b.ReportAllocs()
				run++
				c := redis.NewClient(&redis.Options{Addr: addr})
				defer c.Close()
				topic := p + "wm" + strconv.Itoa(run)
				pub, err := redisstream.NewPublisher(redisstream.PublisherConfig{Client: c}, watermill.NopLogger{})
				if err != nil {
					b.Fatal(err)
				}
				defer pub.Close()
				msgs := make([]*message.Message, b.N)
				for i := range msgs {
					msgs[i] = message.NewMessage(watermill.NewUUID(), payload)
				}
				for i := 0; i < len(msgs); i += 1000 {
					if err := pub.Publish(topic, msgs[i:min(i+1000, len(msgs))]...); err != nil {
						b.Fatal(err)
					}
				}
				sctx, cancel := context.WithCancel(ctx)
				defer cancel()
				var n atomic.Int64
				done := make(chan struct{})
				want := int64(b.N) // the goroutines outlive this round: never b.N itself
				b.ResetTimer()
				for range consumers {
					sub, err := redisstream.NewSubscriber(redisstream.SubscriberConfig{Client: c, ConsumerGroup: "g", OldestId: "0"}, watermill.NopLogger{})
					if err != nil {
						b.Fatal(err)
					}
					defer sub.Close()
					ch, err := sub.Subscribe(sctx, topic)
					if err != nil {
						b.Fatal(err)
					}
					go func() {
						for m := range ch {
							m.Ack()
							if n.Add(1) == want {
								close(done)
							}
						}
					}()
				}
				<-done
				b.StopTimer()
			},
			Goal: 1,
		})
	}
	compare.Run(t, cases...)
}

// Latency: one record at a time, from before Publish until the group's
// consumer has it in its handler, on an idle subscription (no backlog).
// ns/op is the mean; p50 and p99 of each side are printed too.
func TestCompareLatency(t *testing.T) {
	ctx := context.Background()
	addr := testenv.Redis(t)
	c := redis.NewClient(&redis.Options{Addr: addr})
	defer c.Close()
	p := unique()
	cleanup(t, c, p)
	var ours, peer []time.Duration

	oc := redis.NewClient(&redis.Options{Addr: addr})
	defer oc.Close()
	bus := redisevent.New(oc, redisevent.Options{Prefix: p})
	defer bus.Close()
	got := make(chan struct{}, 1)
	if _, err := bus.Publish(ctx, event.Record{Type: "lat", Data: payload}); err != nil { // the stream exists before the group
		t.Fatal(err)
	}
	s, err := bus.Subscribe(ctx, func(context.Context, event.Record) error { got <- struct{}{}; return nil },
		event.SubscribeOptions{Group: "g", Types: []string{"lat"}})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Stop()

	wc := redis.NewClient(&redis.Options{Addr: addr})
	pub, err := redisstream.NewPublisher(redisstream.PublisherConfig{Client: wc}, watermill.NopLogger{})
	if err != nil {
		t.Fatal(err)
	}
	defer pub.Close()
	sc := redis.NewClient(&redis.Options{Addr: addr})
	sub, err := redisstream.NewSubscriber(redisstream.SubscriberConfig{Client: sc, ConsumerGroup: "g"}, watermill.NopLogger{})
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	sctx, cancel := context.WithCancel(ctx)
	defer cancel()
	ch, err := sub.Subscribe(sctx, p+"wmlat")
	if err != nil {
		t.Fatal(err)
	}

	compare.Run(t, compare.Case{
		Name: "event/redis publish->handler vs watermill",
		Ours: func(b *testing.B) {
			for b.Loop() {
				start := time.Now()
				if _, err := bus.Publish(ctx, event.Record{Type: "lat", Data: payload}); err != nil {
					b.Fatal(err)
				}
				<-got
				ours = append(ours, time.Since(start))
			}
		},
		Peer: func(b *testing.B) {
			for b.Loop() {
				start := time.Now()
				if err := pub.Publish(p+"wmlat", message.NewMessage(watermill.NewUUID(), payload)); err != nil {
					b.Fatal(err)
				}
				m := <-ch
				peer = append(peer, time.Since(start))
				m.Ack()
			}
		},
		Goal: 1,
	})
	fmt.Fprintf(compare.Output, "%-44s ours p50 %s p99 %s, watermill p50 %s p99 %s\n", "  latency percentiles",
		pct(ours, 50), pct(ours, 99), pct(peer, 50), pct(peer, 99))
	interleaved(t, "  publish->handler, interleaved", func() {
		if _, err := bus.Publish(ctx, event.Record{Type: "lat", Data: payload}); err != nil {
			t.Fatal(err)
		}
		<-got
	}, func() {
		if err := pub.Publish(p+"wmlat", message.NewMessage(watermill.NewUUID(), payload)); err != nil {
			t.Fatal(err)
		}
		(<-ch).Ack()
	})
}

// interleaved times ours and peer alternately, one op each per step, so
// that a burst of load on a shared machine hits both sides alike, and
// prints each side's p50 and p99 and the p50 ratio.
func interleaved(t *testing.T, name string, ours, peer func()) {
	n := 2000
	if testing.Short() {
		n = 200
	}
	o, p := make([]time.Duration, 0, n), make([]time.Duration, 0, n)
	for range n {
		start := time.Now()
		ours()
		o = append(o, time.Since(start))
		start = time.Now()
		peer()
		p = append(p, time.Since(start))
	}
	fmt.Fprintf(compare.Output, "%-44s p50 ours %s peer %s ratio %.3f; p99 ours %s peer %s\n", name,
		pct(o, 50), pct(p, 50), float64(pct(o, 50))/float64(pct(p, 50)), pct(o, 99), pct(p, 99))
}

func pct(d []time.Duration, p int) time.Duration {
	if len(d) == 0 {
		return 0
	}
	s := slices.Clone(d)
	slices.Sort(s)
	return s[(len(s)-1)*p/100].Round(100 * time.Nanosecond)
}
