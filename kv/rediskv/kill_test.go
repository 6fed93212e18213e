package rediskv_test

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/microos/go-os/internal/testenv"
	"github.com/microos/go-os/kv"
	"github.com/microos/go-os/kv/rediskv"
)

// TestRedisKilledDuringLoad kills a Redis of the test's own (SIGKILL,
// persistence on with appendfsync always) under a load of writes of
// unique keys, then starts it again on the same data:
//   - every write acknowledged before the kill is read back from Redis
//     (through a client of its own, not our counters);
//   - while Redis is down every call fails with ErrUnavailable and none
//     blocks (a loose bound of 5× its deadline; DeadlineExceeded or a
//     refused dial is what ends it);
//   - every call started after recovery succeeds.
//
// goleak (TestMain) checks that nothing is left running.
func TestRedisKilledDuringLoad(t *testing.T) {
	addr := testenv.FreePort(t)
	dir := t.TempDir()
	persist := []string{"--appendonly", "yes", "--appendfsync", "always"}
	srv := testenv.StartRedisWith(t, addr, dir, persist...)

	s, err := kv.Open(context.Background(), "redis://"+addr+"/0?dial_timeout=100ms")
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()

	// Long enough that a call to a healthy Redis (fsync on every write)
	// does not time out on a loaded 2-core machine under -race; a down
	// Redis fails fast anyway (refused dial, 100 ms dial timeout).
	const callTimeout = time.Second
	const (
		up = iota
		down
		recovered
	)
	var (
		phase    atomic.Int32
		stop     atomic.Bool
		wg       sync.WaitGroup
		mu       sync.Mutex
		problems []string
		acked    = map[string]string{} // key → value, writes Redis acknowledged
		downErrs atomic.Int64
		afterOK  atomic.Int64
		slowest  atomic.Int64
		workers  = 4
	)
	report := func(format string, args ...any) {
		mu.Lock()
		problems = append(problems, fmt.Sprintf(format, args...))
		mu.Unlock()
	}
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; !stop.Load(); i++ {
				key := "kill-" + strconv.Itoa(w) + "-" + strconv.Itoa(i)
				val := strconv.Itoa(i)
				startPhase := phase.Load()
				ctx, cancel := context.WithTimeout(context.Background(), callTimeout)
				start := time.Now()
				err := s.Set(ctx, kv.Item{Key: key, Value: []byte(val)})
				took := time.Since(start)
				cancel()
				if int64(took) > slowest.Load() {
					slowest.Store(int64(took))
				}
				if took > 5*callTimeout {
					report("Set blocked %v, its deadline was %v", took, callTimeout)
				}
				switch {
				case err == nil:
					mu.Lock()
					acked[key] = val
					mu.Unlock()
					if startPhase == recovered {
						afterOK.Add(1)
					}
				case startPhase == recovered:
					report("Set %s started after recovery failed: %v", key, err)
				case errors.Is(err, kv.ErrUnavailable) && phase.Load() != up:
					downErrs.Add(1)
				default:
					report("Set %s: %v (phase %d): want ErrUnavailable", key, err, phase.Load())
				}
			}
		}()
	}

	ctx := context.Background()
	waitFor := func(what string, limit time.Duration, cond func() bool) time.Duration {
		start := time.Now()
		for !cond() {
			if time.Since(start) > limit {
				t.Fatalf("%s: not within %v", what, limit)
			}
			time.Sleep(5 * time.Millisecond)
		}
		return time.Since(start)
	}
	ackedCount := func() int { mu.Lock(); defer mu.Unlock(); return len(acked) }
	waitFor("load running", 5*time.Second, func() bool { return ackedCount() >= 200 })
	phase.Store(down)
	srv.Process.Kill()
	srv.Wait()
	waitFor("calls failing with ErrUnavailable", 5*time.Second, func() bool { return downErrs.Load() >= 20 })
	ackedBeforeKill := ackedCount()

	testenv.StartRedisWith(t, addr, dir, persist...)
	took := waitFor("recovery after restart", 5*time.Second, func() bool {
		c, cancel := context.WithTimeout(ctx, callTimeout)
		defer cancel()
		return s.Set(c, kv.Item{Key: "kill-probe", Value: []byte("x")}) == nil
	})
	phase.Store(recovered)
	waitFor("calls after recovery", 5*time.Second, func() bool { return afterOK.Load() >= 100 })
	stop.Store(true)
	wg.Wait()
	for _, p := range problems {
		t.Error(p)
	}

	// Read every acknowledged write back from Redis itself.
	check := redis.NewClient(&redis.Options{Addr: addr})
	defer check.Close()
	reader := rediskv.New(check)
	mu.Lock()
	defer mu.Unlock()
	lost := 0
	for k, v := range acked {
		it, err := reader.Get(ctx, k)
		if err != nil || string(it.Value) != v {
			lost++
			if lost <= 5 {
				t.Errorf("acknowledged write %s=%s read back as %q, %v", k, v, it.Value, err)
			}
		}
	}
	if lost > 0 {
		t.Errorf("%d of %d acknowledged writes lost", lost, len(acked))
	}
	t.Logf("acked before kill: %d, in all: %d, lost: %d; unavailable errors while down: %d; slowest call: %v; recovered %v after restart",
		ackedBeforeKill, len(acked), lost, downErrs.Load(), time.Duration(slowest.Load()), took)
}
