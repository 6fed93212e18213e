package metrics

import (
	"fmt"
	"hash/maphash"
	"slices"
	"sync"
	"sync/atomic"
)

// maxInlineLabels is how many labels With binds without allocating.
const maxInlineLabels = 8

// family is one metric: its Desc and the handles of its series, found by
// the hash of their label values. Lookups read an immutable map through an
// atomic pointer, so With never takes a lock for a label set seen before;
// a new set copies the map under the lock, which the cap (max) bounds.
type family[H any] struct {
	m         *Metrics
	desc      *Desc
	keys      []string // the label keys as declared, before sanitising: With matches them
	max       int
	newHandle func(f *family[H], values []string) *H
	root      *H

	series atomic.Pointer[map[uint64]*entry[H]]
	full   atomic.Bool // the cap is reached: a miss goes to the overflow series without locking

	mu        sync.Mutex
	count     int
	overflow  atomic.Pointer[H]
	overCount atomic.Pointer[Counter] // this metric's series of overflowMetric
}

type entry[H any] struct {
	values []string
	h      *H
	next   *entry[H] // another label set with the same hash
}

// with returns the handle of the label set base (nil: all empty) with the
// key/value pairs kv bound over it.
func (f *family[H]) with(base []string, kv []string) *H {
	var buf [maxInlineLabels]string
	var vals []string
	if n := len(f.desc.Labels); n <= len(buf) {
		vals = buf[:n]
	} else {
		vals = make([]string, n)
	}
	copy(vals, base)
	if len(kv) > 0 {
		f.bind(vals, kv)
	}
	h := f.hash(vals)
	if m := f.series.Load(); m != nil {
		for e := (*m)[h]; e != nil; e = e.next {
			if slices.Equal(e.values, vals) {
				return e.h
			}
		}
	}
	return f.add(h, vals)
}

func (f *family[H]) emptySeries() any { return f.with(nil, nil) }

// bind writes the values of kv into vals at the positions of their keys.
func (f *family[H]) bind(vals []string, kv []string) {
	for i := 0; i < len(kv); i += 2 {
		if i+1 == len(kv) {
			f.m.report(&Error{Op: "with", Metric: f.desc.Name, Err: fmt.Errorf("%w: key %q has no value", ErrInvalidLabels, kv[i])})
			return
		}
		j := i / 2
		if j >= len(f.keys) || f.keys[j] != kv[i] {
			if j = slices.Index(f.keys, kv[i]); j < 0 {
				f.m.report(&Error{Op: "with", Metric: f.desc.Name, Err: fmt.Errorf("%w: key %q is not one of the declared %q", ErrInvalidLabels, kv[i], f.keys)})
				continue
			}
		}
		vals[j] = kv[i+1]
	}
}

func (f *family[H]) hash(vals []string) uint64 {
	h := uint64(14695981039346656037)
	for _, v := range vals {
		h = (h ^ maphash.String(f.m.seed, v)) * 1099511628211
	}
	return h
}

// add makes the handle of a label set not seen before, or returns the
// overflow series once the cap is reached. vals may be the caller's stack
// buffer: it is copied.
func (f *family[H]) add(h uint64, vals []string) *H {
	if f.full.Load() {
		return f.folded()
	}
	f.mu.Lock()
	old := f.series.Load()
	if old != nil {
		for e := (*old)[h]; e != nil; e = e.next {
			if slices.Equal(e.values, vals) {
				f.mu.Unlock()
				return e.h
			}
		}
	}
	if f.count >= f.max {
		f.full.Store(true)
		f.mu.Unlock()
		return f.folded()
	}
	values := append(make([]string, 0, len(vals)), vals...)
	hd := f.newHandle(f, values)
	var next map[uint64]*entry[H]
	if old == nil {
		next = map[uint64]*entry[H]{}
	} else {
		next = make(map[uint64]*entry[H], len(*old)+1)
		for k, v := range *old {
			next[k] = v
		}
	}
	next[h] = &entry[H]{values: values, h: hd, next: next[h]}
	f.series.Store(&next)
	f.count++
	f.mu.Unlock()
	f.m.series.Add(1)
	return hd
}

// folded returns the overflow series and counts the record folded into it.
func (f *family[H]) folded() *H {
	o := f.overflow.Load()
	if o == nil {
		o = f.makeOverflow()
	}
	f.m.overflowed.Add(1)
	if c := f.overCount.Load(); c != nil {
		c.Inc()
	}
	return o
}

func (f *family[H]) makeOverflow() *H {
	var overflowErr error
	defer func() { // after the unlock below: the handler may use f
		if overflowErr != nil {
			f.m.report(overflowErr)
		}
	}()
	f.mu.Lock()
	defer f.mu.Unlock()
	if o := f.overflow.Load(); o != nil {
		return o
	}
	vals := make([]string, len(f.desc.Labels))
	for i := range vals {
		vals[i] = OverflowValue
	}
	o := f.newHandle(f, vals)
	overflowErr = &Error{Op: "with", Metric: f.desc.Name, Err: fmt.Errorf("%w: %d distinct label sets reached; new ones are recorded with every label %q", ErrOverflow, f.max, OverflowValue)}
	if f.desc.Name != f.m.overflowName() {
		f.overCount.Store(f.m.overflowCounter().With("metric", f.desc.Name))
	}
	f.overflow.Store(o)
	return o
}

func (m *Metrics) overflowName() string {
	if m.ns == "" {
		return overflowMetric
	}
	return m.ns + "." + overflowMetric
}

func (m *Metrics) overflowCounter() *Counter {
	m.mu.Lock()
	c := m.overflow
	m.mu.Unlock()
	if c == nil {
		c = m.Counter(overflowMetric, Labels("metric"), Help("Records folded into a metric's overflow series because it reached its cap of distinct label sets."))
		m.mu.Lock()
		m.overflow = c
		m.mu.Unlock()
	}
	return c
}

// invalid reports a value the handle refused.
func (f *family[H]) invalid(op string, v float64) {
	if f == nil {
		return
	}
	f.m.report(&Error{Op: op, Metric: f.desc.Name, Err: fmt.Errorf("%w: %v", ErrInvalidValue, v)})
}
