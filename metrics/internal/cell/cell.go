// Package cell holds the lock-free accumulators that the memory and statsd
// backends record into, so that a pre-bound increment is one atomic add.
package cell

import (
	"math"
	"sync/atomic"
)

// Counter sums non-negative deltas. Whole deltas (the common Inc and Add(n))
// go to an integer with one atomic add; fractional ones to a float with a
// compare-and-swap loop, as client_golang does.
type Counter struct {
	_     [pad]byte
	whole atomic.Uint64
	frac  Float
	_     [pad]byte
}

// pad keeps a Counter's words, written by every core that records, off the
// cache lines of its neighbours (the handle read on every increment is
// often one): 128 bytes, because CPUs fetch lines in adjacent pairs.
const pad = 128

// Add adds delta, which the caller has checked is finite and ≥ 0.
func (c *Counter) Add(delta float64) {
	if delta < 1<<53 {
		if u := uint64(delta); float64(u) == delta {
			c.whole.Add(u)
			return
		}
	}
	c.frac.Add(delta)
}

// Inc adds 1.
func (c *Counter) Inc() { c.whole.Add(1) }

// Holder is implemented by a driver's counter series that records into a
// Counter: the metrics package then adds to it directly, without a call
// through the series interface.
type Holder interface{ CounterCell() *Counter }

// Load returns the sum.
func (c *Counter) Load() float64 { return float64(c.whole.Load()) + c.frac.Load() }

// Swap returns the sum and resets it to 0. A concurrent Add lands either in
// the returned sum or in the next one, never in neither.
func (c *Counter) Swap() float64 {
	return float64(c.whole.Swap(0)) + math.Float64frombits(c.frac.bits.Swap(0))
}

// Float is a float64 that may be set and added to concurrently.
type Float struct{ bits atomic.Uint64 }

// Load returns the value.
func (f *Float) Load() float64 { return math.Float64frombits(f.bits.Load()) }

// Store sets the value.
func (f *Float) Store(v float64) { f.bits.Store(math.Float64bits(v)) }

// Add adds delta and returns the new value.
func (f *Float) Add(delta float64) float64 {
	for {
		old := f.bits.Load()
		nv := math.Float64frombits(old) + delta
		if f.bits.CompareAndSwap(old, math.Float64bits(nv)) {
			return nv
		}
	}
}
