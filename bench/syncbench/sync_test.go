// Package syncbench compares the sync adapters with the raw clients they
// wrap and with the peer lock libraries, doing the same work (one
// uncontended Lock + Unlock) on the same servers, and counts round trips.
package syncbench

import (
	"context"
	"fmt"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/bsm/redislock"
	"github.com/go-redsync/redsync/v4"
	"github.com/go-redsync/redsync/v4/redis/goredis/v9"
	"github.com/hashicorp/consul/api"
	"github.com/redis/go-redis/v9"

	"github.com/microos/go-os/bench/internal/compare"
	"github.com/microos/go-os/internal/testenv"
	ossync "github.com/microos/go-os/sync"
	"github.com/microos/go-os/sync/consulsync"
	"github.com/microos/go-os/sync/redissync"
)

// roundTrips counts the commands (pipelines count once) a client sends.
type roundTrips struct{ n atomic.Int64 }

func (r *roundTrips) DialHook(next redis.DialHook) redis.DialHook { return next }
func (r *roundTrips) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error { r.n.Add(1); return next(ctx, cmd) }
}
func (r *roundTrips) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error { r.n.Add(1); return next(ctx, cmds) }
}

// perOp runs f n times and returns the round trips per call.
func perOp(rt *roundTrips, n int, f func()) float64 {
	before := rt.n.Load()
	for i := 0; i < n; i++ {
		f()
	}
	return float64(rt.n.Load()-before) / float64(n)
}

func TestCompareRedis(t *testing.T) {
	ctx := context.Background()
	addr := testenv.Redis(t)
	newClient := func() (*redis.Client, *roundTrips) {
		c := redis.NewClient(&redis.Options{Addr: addr, ContextTimeoutEnabled: true})
		rt := &roundTrips{}
		c.AddHook(rt)
		t.Cleanup(func() { c.Close() })
		return c, rt
	}
	ttl := 10 * time.Second
	oursC, oursRT := newClient()
	ours := redissync.New(oursC, ossync.WithTTL(ttl))
	defer ours.Close()
	rawC, rawRT := newClient()
	rsC, rsRT := newClient()
	rs := redsync.New(goredis.NewPool(rsC))
	rlC, rlRT := newClient()
	rl := redislock.New(rlC)

	name := "syncbench/" + strconv.FormatInt(time.Now().UnixNano(), 36)
	oursOp := func() {
		l, err := ours.Lock(ctx, name)
		if err != nil {
			t.Fatal(err)
		}
		if err := l.Unlock(ctx); err != nil {
			t.Fatal(err)
		}
	}
	// The raw commands a lock needs: SET NX PX with an owner token, and a
	// compare-and-delete script to release only our own.
	release := redis.NewScript(`if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0`)
	rawOp := func() {
		ok, err := rawC.SetNX(ctx, "raw-"+name, "owner-token-0123456789abcdef", ttl).Result()
		if err != nil || !ok {
			t.Fatalf("SET NX: %v %v", ok, err)
		}
		if err := release.Run(ctx, rawC, []string{"raw-" + name}, "owner-token-0123456789abcdef").Err(); err != nil {
			t.Fatal(err)
		}
	}
	// The same commands ours sends (its acquire and release scripts, as
	// EVALSHA), without the Client: what the portable type costs.
	acquireScript := redis.NewScript(`
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
local t = redis.call('INCR', KEYS[2])
redis.call('SET', KEYS[1], ARGV[1] .. ':' .. t .. ':' .. ARGV[3], 'PX', ARGV[2])
return t`)
	releaseScript := redis.NewScript(`
local v = redis.call('GET', KEYS[1])
if v and string.sub(v, 1, #ARGV[1] + 1) == ARGV[1] .. ':' then
  return redis.call('DEL', KEYS[1])
end
return 0`)
	keys := []string{"sync:{scripts-" + name + "}:lock", "sync:{scripts-" + name + "}:fence"}
	scriptsOp := func() {
		owner := "0123456789abcdef0123456789abcdef"
		if err := acquireScript.Run(ctx, rawC, keys, owner, ttl.Milliseconds(), "").Err(); err != nil {
			t.Fatal(err)
		}
		if err := releaseScript.Run(ctx, rawC, keys[:1], owner).Err(); err != nil {
			t.Fatal(err)
		}
	}
	rsOp := func() {
		m := rs.NewMutex("redsync-"+name, redsync.WithExpiry(ttl), redsync.WithTries(1))
		if err := m.LockContext(ctx); err != nil {
			t.Fatal(err)
		}
		if _, err := m.UnlockContext(ctx); err != nil {
			t.Fatal(err)
		}
	}
	rlOp := func() {
		l, err := rl.Obtain(ctx, "redislock-"+name, ttl, nil)
		if err != nil {
			t.Fatal(err)
		}
		if err := l.Release(ctx); err != nil {
			t.Fatal(err)
		}
	}
	const n = 50
	rtOurs, rtRaw, rtRS, rtRL := perOp(oursRT, n, oursOp), perOp(rawRT, n, rawOp), perOp(rsRT, n, rsOp), perOp(rlRT, n, rlOp)
	fmt.Printf("round trips per Lock+Unlock: ours %.2f  raw %.2f  redsync %.2f  redislock %.2f\n", rtOurs, rtRaw, rtRS, rtRL)
	if rtOurs > 1.2*rtRaw {
		t.Errorf("ours takes %.2f round trips, more than 1.2x raw's %.2f", rtOurs, rtRaw)
	}
	// redsync on one server needs the same two (SET NX, EVAL release);
	// it needs 2 per server of its quorum, and a third (EVAL) per renewal
	// that ours also does in one.
	if rtOurs > rtRS {
		t.Errorf("ours takes %.2f round trips, more than redsync's %.2f", rtOurs, rtRS)
	}
	loop := func(f func()) func(*testing.B) {
		return func(b *testing.B) {
			for b.Loop() {
				f()
			}
		}
	}
	compare.Run(t,
		compare.Case{Name: "sync/redis Lock+Unlock vs raw SETNX+CAD", Ours: loop(oursOp), Peer: loop(rawOp), Goal: 1.2},
		compare.Case{Name: "sync/redis Lock+Unlock vs raw same scripts", Ours: loop(oursOp), Peer: loop(scriptsOp), Goal: 1.2},
		compare.Case{Name: "sync/redis Lock+Unlock vs redsync", Ours: loop(oursOp), Peer: loop(rsOp)},
		compare.Case{Name: "sync/redis Lock+Unlock vs bsm/redislock", Ours: loop(oursOp), Peer: loop(rlOp)},
	)
}

func TestCompareConsul(t *testing.T) {
	ctx := context.Background()
	cfg := api.DefaultConfig()
	cfg.Address = testenv.Consul(t)
	client, err := api.NewClient(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ours := consulsync.New(client, ossync.WithTTL(consulsync.MinTTL))
	defer ours.Close()
	name := "syncbench/" + strconv.FormatInt(time.Now().UnixNano(), 36)
	oursOp := func() {
		l, err := ours.Lock(ctx, name)
		if err != nil {
			t.Fatal(err)
		}
		if err := l.Unlock(ctx); err != nil {
			t.Fatal(err)
		}
	}
	peerOp := func() {
		l, err := client.LockOpts(&api.LockOptions{Key: "syncbench-peer/" + name, SessionTTL: "10s", LockTryOnce: true})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := l.Lock(nil); err != nil {
			t.Fatal(err)
		}
		if err := l.Unlock(); err != nil {
			t.Fatal(err)
		}
	}
	compare.Run(t, compare.Case{Name: "sync/consul Lock+Unlock vs api.Lock", Ours: func(b *testing.B) {
		for b.Loop() {
			oursOp()
		}
	}, Peer: func(b *testing.B) {
		for b.Loop() {
			peerOp()
		}
	}, Goal: 1.1})
}
