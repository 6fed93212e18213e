package monitor

import (
	"math"
	"sort"

	gometrics "github.com/microos/go-os/metrics"
)

// bucketQuantile estimates the q-quantile of a histogram from its
// cumulative buckets the way Prometheus' histogram_quantile does, so that
// the status page and a Prometheus dashboard agree on the same buckets:
// linear interpolation inside the bucket that holds rank q·count, the
// lowest bucket starting at 0 (unless its bound is ≤ 0: then the bound),
// and a rank in the +Inf bucket answered with the highest finite bound.
// It returns NaN when there is no estimate: no observations, fewer than
// two buckets, or no +Inf bucket last. q < 0 gives -Inf and q > 1 +Inf,
// as histogram_quantile.
func bucketQuantile(q float64, buckets []gometrics.Bucket) float64 {
	switch {
	case math.IsNaN(q):
		return math.NaN()
	case q < 0:
		return math.Inf(-1)
	case q > 1:
		return math.Inf(1)
	}
	n := len(buckets)
	if n < 2 || !math.IsInf(buckets[n-1].UpperBound, 1) {
		return math.NaN()
	}
	// Cumulative counts never go down (Point.Buckets' contract); forced
	// anyway, as Prometheus does for buckets scraped while they moved.
	counts := make([]float64, n)
	for i, bk := range buckets {
		counts[i] = float64(bk.Count)
		if i > 0 {
			counts[i] = max(counts[i], counts[i-1])
		}
	}
	observations := counts[n-1]
	if observations == 0 {
		return math.NaN()
	}
	rank := q * observations
	b := sort.Search(n-1, func(i int) bool { return counts[i] >= rank })
	if b == n-1 {
		return buckets[n-2].UpperBound
	}
	if b == 0 && buckets[0].UpperBound <= 0 {
		return buckets[0].UpperBound
	}
	start, end, inBucket := 0.0, buckets[b].UpperBound, counts[b]
	if b > 0 {
		start = buckets[b-1].UpperBound
		inBucket -= counts[b-1]
		rank -= counts[b-1]
	}
	if inBucket == 0 { // q = 0 over empty low buckets
		return start
	}
	return start + (end-start)*(rank/inBucket)
}
