package router

import (
	"strconv"
	"testing"
	"time"
)

func testEndpoints(n int) []*Endpoint {
	eps := make([]*Endpoint, n)
	for i := range eps {
		eps[i] = NewEndpoint(Node{Service: "svc", ID: "n" + strconv.Itoa(i), Address: "10.0.0." + strconv.Itoa(i) + ":80"})
	}
	return eps
}

func benchPick(b *testing.B, s Strategy, parallel bool) {
	p := s.Build(testEndpoints(100))
	b.ReportAllocs()
	if parallel {
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if p.Pick("user:42") == nil {
					b.Fatal("nil")
				}
			}
		})
		return
	}
	for b.Loop() {
		if p.Pick("user:42") == nil {
			b.Fatal("nil")
		}
	}
}

func BenchmarkPick(b *testing.B) {
	for name, s := range Strategies() {
		b.Run(name+"/serial", func(b *testing.B) { benchPick(b, s, false) })
		b.Run(name+"/parallel", func(b *testing.B) { benchPick(b, s, true) })
	}
}

// Closed breaker: the service healthy, Allow + Record as every request does.
func BenchmarkThrottleClosed(b *testing.B) {
	th := NewThrottle(2, time.Minute)
	b.ReportAllocs()
	for b.Loop() {
		if !th.Allow() {
			b.Fatal("rejected")
		}
		th.Record(true)
	}
}

func BenchmarkThrottleClosedParallel(b *testing.B) {
	th := NewThrottle(2, time.Minute)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if th.Allow() {
				th.Record(true)
			}
		}
	})
}

func BenchmarkLimiterAllow(b *testing.B) {
	l := NewLimiter(1e12, 1<<30)
	b.ReportAllocs()
	for b.Loop() {
		l.Allow()
	}
}

func BenchmarkLimiterAllowParallel(b *testing.B) {
	l := NewLimiter(1e12, 1<<30)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			l.Allow()
		}
	})
}
