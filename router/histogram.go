package router

import (
	"math/bits"
	"sync/atomic"
	"time"
)

// Latency buckets: bucket 0 holds results under 100 µs, bucket i under
// 100 µs × 2^i, the last one everything slower (over 52 s). Recording is
// two atomic adds and no clock read: the caller measured the latency.
const (
	histBase    = 100 * time.Microsecond
	histBuckets = 21
)

type histogram struct {
	counts [histBuckets]atomic.Uint64
	sum    atomic.Int64 // ns
}

func (h *histogram) record(d time.Duration) {
	i := 0
	if d >= histBase {
		i = bits.Len64(uint64(d / histBase))
	}
	if i >= histBuckets {
		i = histBuckets - 1
	}
	h.counts[i].Add(1)
	h.sum.Add(int64(d))
}

func (h *histogram) snapshot() Histogram {
	var out Histogram
	for i := range h.counts {
		out.Counts[i] = h.counts[i].Load()
	}
	out.Sum = time.Duration(h.sum.Load())
	return out
}

// Histogram is a latency distribution in exponential buckets: Counts[i]
// counts results faster than BucketBound(i) (and not faster than the
// bound before it).
type Histogram struct {
	Counts [histBuckets]uint64
	Sum    time.Duration
}

// BucketBound is the exclusive upper bound of bucket i; the last bucket has
// no bound and reports the largest Duration.
func BucketBound(i int) time.Duration {
	if i >= histBuckets-1 {
		return time.Duration(1<<63 - 1)
	}
	return histBase << i
}

// Count is the number of results recorded.
func (h Histogram) Count() uint64 {
	var n uint64
	for _, c := range h.Counts {
		n += c
	}
	return n
}

// Quantile estimates the q-quantile (0 < q ≤ 1), interpolating linearly
// within the bucket it falls in (so it is off by at most the bucket's
// width, a factor of 2). It is 0 for an empty histogram, and the largest
// Duration when it falls in the last, unbounded bucket.
func (h Histogram) Quantile(q float64) time.Duration {
	n := h.Count()
	if n == 0 {
		return 0
	}
	rank := max(uint64(q*float64(n)+0.5), 1)
	var seen uint64
	for i, c := range h.Counts {
		if seen+c >= rank {
			if i == histBuckets-1 {
				return BucketBound(i)
			}
			lo := time.Duration(0)
			if i > 0 {
				lo = BucketBound(i - 1)
			}
			frac := float64(rank-seen) / float64(c)
			return lo + time.Duration(frac*float64(BucketBound(i)-lo))
		}
		seen += c
	}
	return BucketBound(histBuckets - 1)
}

// Mean is the average latency (0 for an empty histogram).
func (h Histogram) Mean() time.Duration {
	n := h.Count()
	if n == 0 {
		return 0
	}
	return h.Sum / time.Duration(n)
}

func (h *Histogram) add(o Histogram) {
	for i := range h.Counts {
		h.Counts[i] += o.Counts[i]
	}
	h.Sum += o.Sum
}
