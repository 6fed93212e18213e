package backoff

import (
	"context"
	"testing"
	"time"
)

func TestExp(t *testing.T) {
	for _, tc := range []struct {
		attempt int
		want    time.Duration
	}{{0, 100}, {1, 200}, {3, 800}, {4, 1000}, {1000, 1000}} {
		if got := Exp(tc.attempt, 100, 1000); got != tc.want {
			t.Errorf("Exp(%d) = %v, want %v", tc.attempt, got, tc.want)
		}
	}
	if Exp(5, 0, time.Second) != 0 {
		t.Error("Exp with lo=0 grew")
	}
}

func TestDelayIsInUpperHalf(t *testing.T) {
	seen := map[time.Duration]bool{}
	for i := 0; i < 1000; i++ {
		d := Delay(2, 100*time.Millisecond, time.Second) // d = 400ms
		if d < 200*time.Millisecond || d > 400*time.Millisecond {
			t.Fatalf("Delay = %v, want in [200ms, 400ms]", d)
		}
		seen[d] = true
	}
	if len(seen) < 100 {
		t.Fatalf("only %d distinct delays in 1000: no jitter", len(seen))
	}
}

func TestBackoffResets(t *testing.T) {
	b := Backoff{Min: 10 * time.Millisecond, Max: time.Second}
	for i := 0; i < 20; i++ {
		b.Next()
	}
	if d := b.Next(); d < 500*time.Millisecond {
		t.Fatalf("after 20 failures: %v, want near the cap", d)
	}
	b.Reset()
	if d := b.Next(); d > 10*time.Millisecond {
		t.Fatalf("after Reset: %v, want at most Min", d)
	}
}

func TestSleepStopsOnCancel(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if Sleep(ctx, time.Hour) {
		t.Fatal("Sleep on a cancelled ctx reported the hour elapsed")
	}
	if !Sleep(context.Background(), time.Microsecond) {
		t.Fatal("Sleep of 1µs did not elapse")
	}
}
