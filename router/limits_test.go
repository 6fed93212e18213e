package router

import (
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestLimiterBurstThenRate(t *testing.T) {
	l := NewLimiter(1, 3) // one token a second: none comes back during the test
	for i := 0; i < 3; i++ {
		if !l.Allow() {
			t.Fatalf("Allow %d of a burst of 3 refused", i)
		}
	}
	if l.Allow() {
		t.Fatal("Allow beyond the burst accepted")
	}
	if NewLimiter(0, 5).Allow() {
		t.Error("a zero rate allowed an event")
	}
}

func TestLimiterConcurrentExact(t *testing.T) {
	l := NewLimiter(0.001, 50)
	var ok atomic.Int64
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 100; i++ {
				if l.Allow() {
					ok.Add(1)
				}
			}
		}()
	}
	wg.Wait()
	if ok.Load() != 50 {
		t.Errorf("%d of 800 concurrent Allows passed a burst of 50", ok.Load())
	}
}

func TestLimiterRefills(t *testing.T) {
	l := NewLimiter(1e6, 1) // a token per microsecond
	l.Allow()
	deadline := time.Now().Add(time.Second)
	for !l.Allow() {
		if time.Now().After(deadline) {
			t.Fatal("no token came back within a second at 1e6/s")
		}
	}
}

func TestThrottle(t *testing.T) {
	th := NewThrottle(2, time.Minute)
	for i := 0; i < 1000; i++ {
		if !th.Allow() {
			t.Fatal("a healthy throttle rejected")
		}
		th.Record(true)
	}
	for i := 0; i < 3000; i++ {
		th.Record(false)
	}
	// requests 4000, accepts 1000: p = (4000-2000)/4001 ≈ 0.5, rising as rejections count.
	rejected := 0
	for i := 0; i < 1000; i++ {
		if !th.Allow() {
			rejected++
		}
	}
	if rejected < 300 || rejected > 800 {
		t.Errorf("rejected %d of 1000 at a 25%% success rate, want about half", rejected)
	}
	for i := 0; i < 10000; i++ {
		th.Record(true)
	}
	for i := 0; i < 100; i++ {
		if !th.Allow() {
			t.Fatal("the throttle still rejects after the service recovered")
		}
	}
}

func TestThrottleNeedsMinimumRequests(t *testing.T) {
	th := NewThrottle(2, time.Minute)
	for i := 0; i < 10; i++ {
		th.Record(false)
	}
	for i := 0; i < 100; i++ {
		if !th.Allow() {
			t.Fatal("throttled after only 10 requests")
		}
	}
}

func TestRetryBudget(t *testing.T) {
	b := newRetryBudget(Retry{Budget: 0.2, MinRetries: 3}.withDefaults())
	for i := 0; i < 3; i++ {
		if !b.withdraw() {
			t.Fatalf("retry %d of the floor of 3 refused", i)
		}
	}
	if b.withdraw() {
		t.Fatal("retry beyond the budget allowed")
	}
	for i := 0; i < 10; i++ {
		b.request()
	}
	n := 0
	for b.withdraw() {
		n++
	}
	if n != 2 {
		t.Errorf("10 requests at 20%% bought %d retries, want 2", n)
	}
	for i := 0; i < 1000; i++ {
		b.request()
	}
	n = 0
	for b.withdraw() {
		n++
	}
	if n != 3 {
		t.Errorf("after a long healthy spell the budget holds %d retries, want its cap 3", n)
	}
}

func TestHistogramQuantile(t *testing.T) {
	var h histogram
	for i := 0; i < 98; i++ {
		h.record(time.Millisecond)
	}
	h.record(time.Second)
	h.record(time.Hour)
	s := h.snapshot()
	if s.Count() != 100 {
		t.Fatalf("Count = %d", s.Count())
	}
	if q := s.Quantile(0.5); q < 800*time.Microsecond || q > 1600*time.Microsecond {
		t.Errorf("p50 = %v, want within the 1ms bucket [0.8ms, 1.6ms]", q)
	}
	if q := s.Quantile(0.99); q < 819*time.Millisecond || q > 1640*time.Millisecond {
		t.Errorf("p99 = %v, want within the 1s bucket", q)
	}
	if q := s.Quantile(1); q != BucketBound(histBuckets-1) {
		t.Errorf("p100 = %v, want the overflow bucket", q)
	}
	if (Histogram{}).Quantile(0.5) != 0 || (Histogram{}).Mean() != 0 {
		t.Error("empty histogram quantile/mean not 0")
	}
}
