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

	"github.com/microos/go-os/internal/testenv"
	"github.com/microos/go-os/kv"
	_ "github.com/microos/go-os/kv/rediskv"
)

// TestRedisKilledDuringLoad kills Redis (SIGKILL) under a load: every call
// must return within its deadline with ErrUnavailable, and calls must
// succeed again within 1 s of Redis being back. goleak (TestMain) checks
// that nothing is left running.
func TestRedisKilledDuringLoad(t *testing.T) {
	addr := testenv.FreePort(t)
	srv := testenv.StartRedis(t, addr)

	s, err := kv.Open(context.Background(), "redis://"+addr+"/0?dial_timeout=100ms")
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()

	const callTimeout = 200 * time.Millisecond
	var (
		killed, stop atomic.Bool
		wg           sync.WaitGroup
		mu           sync.Mutex
		problems     []string
		downErrs     atomic.Int64
		slowest      atomic.Int64
	)
	report := func(format string, args ...any) {
		mu.Lock()
		problems = append(problems, fmt.Sprintf(format, args...))
		mu.Unlock()
	}
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; !stop.Load(); i++ {
				key := "load-" + strconv.Itoa(w) + "-" + strconv.Itoa(i%50)
				ctx, cancel := context.WithTimeout(context.Background(), callTimeout)
				start := time.Now()
				err := s.Set(ctx, kv.Item{Key: key, Value: []byte("v")})
				if err == nil {
					_, err = s.Get(ctx, key)
				}
				took := time.Since(start)
				cancel()
				if int64(took) > slowest.Load() {
					slowest.Store(int64(took))
				}
				if took > callTimeout+50*time.Millisecond { // Set and Get share the deadline
					report("call took %v, past its %v deadline", took, callTimeout)
				}
				switch {
				case err == nil:
				case errors.Is(err, kv.ErrUnavailable) && killed.Load():
					downErrs.Add(1)
				default:
					report("error %v (killed=%v): want ErrUnavailable", err, killed.Load())
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
	// Let the load run, then kill Redis mid-load.
	ok := func() bool { return s.Set(ctx, kv.Item{Key: "probe", Value: []byte("x")}) == nil }
	waitFor("load running", 5*time.Second, ok)
	killed.Store(true)
	srv.Process.Kill()
	srv.Wait()
	waitFor("calls failing with ErrUnavailable", 5*time.Second, func() bool { return downErrs.Load() >= 20 })

	testenv.StartRedis(t, addr)
	recovered := waitFor("recovery after restart", time.Second, func() bool {
		c, cancel := context.WithTimeout(ctx, callTimeout)
		defer cancel()
		return s.Set(c, kv.Item{Key: "probe", Value: []byte("x")}) == nil
	})
	stop.Store(true)
	wg.Wait()
	for _, p := range problems {
		t.Error(p)
	}
	t.Logf("unavailable errors while down: %d; slowest call: %v; recovered %v after restart",
		downErrs.Load(), time.Duration(slowest.Load()), recovered)
}
