package kv

import "time"

// MaxTTL is the longest TTL: about ten years, where memcached's absolute
// expiry times (32-bit Unix seconds) still reach. Use 0 for no expiry.
const MaxTTL = 10 * 365 * 24 * time.Hour

// CeilTTL rounds a TTL up to a backend's resolution (a millisecond for
// Redis, a second for memcached), so that an item never lives shorter than
// asked. Drivers use it on writes.
func CeilTTL(ttl, resolution time.Duration) time.Duration {
	if ttl <= 0 {
		return 0
	}
	return (ttl + resolution - 1) / resolution * resolution
}

// TimeLeft is the TTL a read reports for an item that expires at
// expiresAt: at least a millisecond, because the backend still has the
// item (a reading of 0 would mean "never expires"), whatever the skew
// between the writer's clock and ours.
func TimeLeft(expiresAt time.Time) time.Duration {
	return max(time.Until(expiresAt), time.Millisecond)
}
