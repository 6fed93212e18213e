package kv

import "context"

// Driver is what a backend implements; New puts the portable Store in front
// of it. A driver sees only keys that passed ValidateKey with the namespace
// already applied, items with a TTL ≥ 0, and CompareAndSwap items with a
// Version; it never sees a call after Close. It returns ErrNotFound bare
// for a miss and wraps every other failure onto a sentinel (Unavailable,
// Wrap). Its methods must be safe for concurrent use and honour ctx.
type Driver interface {
	// Get returns the item's Value, TTL (time left) and Version; Key is
	// filled in by the Store.
	Get(ctx context.Context, key string) (Item, error)
	// GetMulti calls found(i, item) for every keys[i] that has a value,
	// from one goroutine at a time.
	GetMulti(ctx context.Context, keys []string, found func(i int, item Item)) error
	Set(ctx context.Context, item Item) error
	Add(ctx context.Context, item Item) error
	CompareAndSwap(ctx context.Context, item Item) error
	Delete(ctx context.Context, key string) error
	// Close releases what the driver owns. The Store calls it once.
	Close() error
}
