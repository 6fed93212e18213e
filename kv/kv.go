package kv

import (
	"context"
	"time"
)

// Item is one key and its value.
type Item struct {
	// Key names the item: 1 to 250 bytes, no spaces or control characters
	// (memcached's rule, applied to every backend so code that works on one
	// works on all). With WithNamespace the limit counts the namespace too.
	Key string

	// Value is the item's data. Stores copy it on write and return a fresh
	// slice on read, so the caller may reuse or modify it.
	Value []byte

	// TTL is, on a write, how long the item lives (0: until deleted or
	// evicted); backends round it up to their resolution (memcached: 1 s).
	// On a read it is the time left, or 0 for an item without expiry.
	TTL time.Duration

	// Version identifies the stored value. Get sets it; CompareAndSwap
	// writes only while the stored item still has this version. Every write
	// gives the item a new version. Writes other than CompareAndSwap ignore it.
	Version uint64
}

// Store is a key-value store shared by the instances of a service.
//
// Every method may do I/O: it honours ctx (a cancelled or expired ctx makes
// it return promptly with ctx's error wrapped) and is safe for concurrent use.
// Errors wrap one of the sentinels of this package, so callers test them with
// errors.Is whatever the backend; the backend's own error stays reachable
// with errors.As. After Close every method returns ErrClosed.
//
// Stores are made by New from a Driver; every constructor in this module
// (NewMemory, Open, rediskv.New, memcachekv.New) returns one, so key
// validation, namespacing, use-after-Close, health and hooks behave the same on
// every backend.
type Store interface {
	// Get returns the item with its time left and version, or ErrNotFound.
	Get(ctx context.Context, key string) (Item, error)

	// GetMulti returns the items found among keys, by key; missing keys are
	// absent from the map, not an error. Backends fetch them in one round
	// trip per server.
	GetMulti(ctx context.Context, keys []string) (map[string]Item, error)

	// Set stores the item, replacing any value the key had.
	Set(ctx context.Context, item Item) error

	// Add stores the item only if the key has no value: ErrExists otherwise.
	Add(ctx context.Context, item Item) error

	// CompareAndSwap replaces the value only if the stored version still is
	// item.Version (as read by Get): ErrConflict if another write came
	// first, ErrNotFound if the key is gone. A Version of 0 is ErrInvalidItem
	// (use Add to write only if absent).
	CompareAndSwap(ctx context.Context, item Item) error

	// Delete removes the key. Deleting a missing key is not an error.
	Delete(ctx context.Context, key string) error

	// Check reports the backend's health, cheaply: nil while the Store's
	// latest call got an answer, else an error wrapping ErrUnavailable or
	// ErrForbidden with the latest failure and its age (oserr.Code tells
	// which). It does one round trip (a ping) only when no call was made
	// since the previous Check, and never blocks past ctx. ErrClosed after
	// Close.
	Check(ctx context.Context) error

	// As sets target to the backend's client when it points to a type the
	// backend has: *redis.Client, *redis.ClusterClient or
	// redis.UniversalClient for rediskv, *memcache.Client for memcachekv.
	// It returns false otherwise (the memory store has none).
	As(target any) bool

	// Shutdown refuses new calls, waits (within ctx) for the calls in
	// flight, then releases the store's resources (and the backend
	// client, when the store created it). It is idempotent.
	Shutdown(ctx context.Context) error

	// Close is Shutdown bounded by lifecycle.CloseTimeout (5 s). It is
	// idempotent.
	Close() error
}
