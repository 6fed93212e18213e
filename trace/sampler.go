package trace

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
)

// Sampler decides whether a new trace is recorded. The tracer asks it for
// root spans and for spans that join a remote caller; a span whose parent
// is in the same process always follows its parent. A span started with
// WithDebug, or whose caller set the debug flag, is recorded whatever the
// sampler says. Samplers must be safe for concurrent use and fast: they run
// on every request.
type Sampler interface {
	Sample(p SamplingParams) bool
}

// SamplingParams is what a sampler may look at.
type SamplingParams struct {
	// Parent is the remote caller's context (zero for a root span). Its
	// TraceID may be invalid while it still carries a decision (b3: 0).
	Parent  SpanContext
	TraceID TraceID
	Name    string
	Kind    Kind
}

// SamplerFunc adapts a function to Sampler.
type SamplerFunc func(SamplingParams) bool

// Sample calls f.
func (f SamplerFunc) Sample(p SamplingParams) bool { return f(p) }

type constSampler bool

func (c constSampler) Sample(SamplingParams) bool { return bool(c) }

// Always records every trace.
func Always() Sampler { return constSampler(true) }

// Never records no trace (debug traces are still recorded).
func Never() Sampler { return constSampler(false) }

type probability struct{ bound uint64 }

// Probability records a fraction p (0 to 1) of traces. The decision is a
// function of the trace id, so every service using the same p keeps the same
// traces whole.
func Probability(p float64) Sampler {
	switch {
	case !(p > 0): // also NaN
		return Never()
	case p >= 1:
		return Always()
	}
	return probability{bound: uint64(p * math.MaxUint64)}
}

func (s probability) Sample(p SamplingParams) bool { return getUint64(p.TraceID[8:]) < s.bound }

// rateLimited is a GCRA: tat is the theoretical arrival time of the next
// trace in nanoseconds; a trace is recorded while tat stays within one
// second (the burst) of now. One atomic word, no lock, no goroutine.
type rateLimited struct {
	interval int64 // ns between traces at the steady rate
	burst    int64 // ns of credit: one second
	tat      atomic.Int64
	now      func() time.Time
}

// RateLimited records at most perSecond traces each second, with a burst of
// up to perSecond at once. perSecond ≤ 0 records none.
func RateLimited(perSecond float64) Sampler {
	if !(perSecond > 0) {
		return Never()
	}
	interval := int64(float64(time.Second) / perSecond)
	// The credit is a second's worth, and at least one trace: under one a
	// second (0.5/s), a one-second credit never covers one interval.
	return &rateLimited{interval: interval, burst: max(int64(time.Second), interval), now: time.Now}
}

func (s *rateLimited) Sample(SamplingParams) bool {
	now := s.now().UnixNano()
	for {
		tat := s.tat.Load()
		next := max(tat, now) + s.interval
		if next-now > s.burst {
			return false
		}
		if s.tat.CompareAndSwap(tat, next) {
			return true
		}
	}
}

type parentBased struct{ root Sampler }

// ParentBased honours the remote caller's decision when it made one, and
// asks root otherwise (a root span, or a B3 caller that deferred).
// Tracers use ParentBased(Always()) unless told otherwise.
func ParentBased(root Sampler) Sampler { return parentBased{root} }

func (s parentBased) Sample(p SamplingParams) bool {
	switch p.Parent.Sampling {
	case Accept:
		return true
	case Deny:
		return false
	}
	return s.root.Sample(p)
}

// ParseSampler reads a sampler from configuration:
//
//	always | never | 0.25 (probability) | 100/s (rate limit)
//
// each honouring the caller's decision (ParentBased); prefix root: to
// ignore it ("root:0.25").
func ParseSampler(s string) (Sampler, error) {
	raw := s
	root := strings.HasPrefix(s, "root:")
	s = strings.TrimPrefix(s, "root:")
	var sm Sampler
	switch {
	case s == "always":
		sm = Always()
	case s == "never":
		sm = Never()
	case strings.HasSuffix(s, "/s"):
		n, err := strconv.ParseFloat(strings.TrimSuffix(s, "/s"), 64)
		if err != nil || n < 0 || math.IsInf(n, 0) || math.IsNaN(n) {
			return nil, fmt.Errorf("trace: sampler %q: want a rate like 100/s", raw)
		}
		sm = RateLimited(n)
	default:
		p, err := strconv.ParseFloat(s, 64)
		if err != nil || !(p >= 0 && p <= 1) {
			return nil, fmt.Errorf("trace: sampler %q: want always, never, a probability from 0 to 1, or a rate like 100/s", raw)
		}
		sm = Probability(p)
	}
	if root {
		return sm, nil
	}
	return ParentBased(sm), nil
}

// fixedSampling is what a sampler of this package decides without
// looking at the ids, the name or the kind, so that Start need not draw a
// trace id or build SamplingParams to ask it.
type fixedSampling uint8

const (
	notFixed          fixedSampling = iota // ask the sampler
	fixedNever                             // Never(): no trace
	fixedAlways                            // Always(): every trace
	fixedParentNever                       // ParentBased(Never()): the caller's decision, else none
	fixedParentAlways                      // ParentBased(Always()): the caller's decision, else every trace
)

func fixedOf(s Sampler) fixedSampling {
	switch s := s.(type) {
	case constSampler:
		if s {
			return fixedAlways
		}
		return fixedNever
	case parentBased:
		if c, ok := s.root.(constSampler); ok {
			if c {
				return fixedParentAlways
			}
			return fixedParentNever
		}
	}
	return notFixed
}

// decide is the sampler's answer for a span whose remote caller (if any)
// decided parent.
func (f fixedSampling) decide(parent Sampling) bool {
	switch f {
	case fixedAlways:
		return true
	case fixedNever:
		return false
	}
	switch parent {
	case Accept:
		return true
	case Deny:
		return false
	}
	return f == fixedParentAlways
}
