package streams_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/microos/go-os/internal/streams"
	"github.com/microos/go-os/internal/testenv"
)

func key(t *testing.T, c *redis.Client) string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	k := "streamstest:" + hex.EncodeToString(b[:])
	t.Cleanup(func() { c.Del(context.Background(), k) })
	return k
}

func entries(stream string, from, n int) []streams.Entry {
	out := make([]streams.Entry, n)
	for i := range out {
		out[i] = streams.Entry{Stream: stream, Values: []any{"n", fmt.Sprint(from + i)}}
	}
	return out
}

func TestAddInOrderWithExtra(t *testing.T) {
	c := redis.NewClient(&redis.Options{Addr: testenv.Redis(t)})
	defer c.Close()
	ctx := context.Background()
	k := key(t, c)
	w := streams.Writer{Client: c}
	var set *redis.IntCmd
	ids, n, err := w.Add(ctx, entries(k, 0, 50), func(p redis.Pipeliner) { set = p.SAdd(ctx, k+":idx", "x") })
	defer c.Del(ctx, k+":idx")
	if err != nil || n != 50 || len(ids) != 50 {
		t.Fatalf("Add: %d written, %v", n, err)
	}
	if set.Err() != nil || set.Val() != 1 {
		t.Fatalf("the extra command did not run in the pipeline: %v", set.Err())
	}
	ms, err := c.XRange(ctx, k, "-", "+").Result()
	if err != nil || len(ms) != 50 {
		t.Fatalf("XRANGE: %d entries, %v", len(ms), err)
	}
	for i, m := range ms {
		if m.ID != ids[i] || m.Values["n"] != fmt.Sprint(i) {
			t.Fatalf("entry %d = %s %v, want id %s n %d", i, m.ID, m.Values, ids[i], i)
		}
	}
}

// MaxAge trims by id time (MINID ~), MaxLen by count (MAXLEN ~), both at
// once when both are set; approximate trimming drops whole nodes of 100.
func TestRetention(t *testing.T) {
	c := redis.NewClient(&redis.Options{Addr: testenv.Redis(t)})
	defer c.Close()
	ctx := context.Background()
	for _, tc := range []struct {
		name string
		r    streams.Retention
		now  time.Duration // clock offset of the trimming write
		max  int64
	}{
		{"MaxLen", streams.Retention{MaxLen: 10}, 0, 200},
		{"MaxAge", streams.Retention{MaxAge: time.Minute}, time.Hour, 101},
		{"Both", streams.Retention{MaxLen: 1000, MaxAge: time.Minute}, time.Hour, 101},
		{"NotYetOld", streams.Retention{MaxAge: time.Hour}, 0, 1000},
	} {
		t.Run(tc.name, func(t *testing.T) {
			k := key(t, c)
			fill := streams.Writer{Client: c}
			for i := 0; i < 1000; i += 100 {
				if _, _, err := fill.Add(ctx, entries(k, i, 100), nil); err != nil {
					t.Fatal(err)
				}
			}
			w := streams.Writer{Client: c, Retention: tc.r, Now: func() time.Time { return time.Now().Add(tc.now) }}
			if _, _, err := w.Add(ctx, entries(k, 1000, 1), nil); err != nil {
				t.Fatal(err)
			}
			n, err := c.XLen(ctx, k).Result()
			if err != nil {
				t.Fatal(err)
			}
			if tc.max == 1000 && n != 1001 || tc.max < 1000 && n > tc.max {
				t.Fatalf("%d entries after the trimming write, want at most %d", n, tc.max)
			}
		})
	}
}

// A server that is gone fails every entry, and says so per entry.
func TestAddUnavailable(t *testing.T) {
	c := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1", MaxRetries: -1})
	defer c.Close()
	w := streams.Writer{Client: c}
	ids, n, err := w.Add(context.Background(), entries("s", 0, 3), nil)
	if err == nil || n != 0 || len(ids) != 3 || ids[0] != "" {
		t.Fatalf("Add to a closed port: %v written, ids %q, %v", n, ids, err)
	}
}
