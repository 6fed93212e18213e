// Package rediskv is the kv backend on Redis, standalone or Redis Cluster,
// through go-redis v9.
//
//	store, err := kv.Open(ctx, "redis://127.0.0.1:6379/0")
//	store, err := kv.Open(ctx, "redis+cluster://10.0.0.1:6379,10.0.0.2:6379")
//	store := rediskv.New(client) // a redis.UniversalClient you own
//
// # Storage format
//
// A value is stored as one Redis string: a 17-byte header (a format byte,
// the 8-byte version, the 8-byte expiry in Unix milliseconds, 0 for none)
// followed by the value. So Get is one GET that returns the value, its
// version and its time left; Set is one SET; CompareAndSwap is one Lua
// script that compares the version and writes atomically, on a Cluster too
// (it touches one key). The expiry itself is Redis's (PX); the time left a
// Get reports is computed from the writer's clock, so clock skew between
// instances shows in it. Keys that other clients wrote without the header
// read as an error, not as garbage.
//
// # Errors
//
// redis.Nil maps to kv.ErrNotFound; a value without the header, or a key
// of another type (WRONGTYPE), to kv.ErrCorrupt; connection failures,
// NOAUTH, WRONGPASS and NOPERM to kv.ErrForbidden; connection failures,
// deadlines and replies of a server that cannot serve (LOADING,
// CLUSTERDOWN, TRYAGAIN, OOM, ...) to kv.ErrUnavailable, with the
// go-redis error reachable by errors.As. GetMulti on one server is an MGET,
// which reads a key of another type as missing.
//
// # Client and health
//
// Store.As reaches the go-redis client: *redis.Client or
// *redis.ClusterClient (whichever it is) and redis.UniversalClient.
// Store.Check answers from the Store's calls and, on an idle Store, sends
// one PING. Open refuses URL parameters go-redis does not know.
package rediskv

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/url"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/microos/go-os/internal/redisurl"
	"github.com/microos/go-os/kv"
)

func init() {
	for _, scheme := range redisurl.Schemes {
		kv.Register(scheme, func(_ context.Context, u *url.URL) (kv.Driver, error) {
			c, err := redisurl.Client(u)
			if err != nil {
				return nil, err
			}
			return newDriver(c, true), nil
		})
	}
}

// New returns a Store on client: a *redis.Client, *redis.ClusterClient or
// any other redis.UniversalClient. The Store does not close a client it
// was handed. Set ContextTimeoutEnabled in the client's options, as Open
// does: without it go-redis bounds a call by its own read timeout, not by
// the ctx's deadline.
func New(client redis.UniversalClient, opts ...kv.Option) kv.Store {
	return kv.New(newDriver(client, false), opts...)
}

func newDriver(c redis.UniversalClient, owned bool) *driver {
	// MGET is one round trip on one server; on a Cluster or a Ring it
	// would go to the first key's shard only, so those pipeline GETs.
	_, single := c.(*redis.Client)
	return &driver{c: c, single: single, owned: owned}
}

type driver struct {
	c      redis.UniversalClient
	single bool // one server: GetMulti is one MGET
	owned  bool
}

const (
	formatV1  = 1
	headerLen = 17
)

func (d *driver) Get(ctx context.Context, key string) (kv.Item, error) {
	b, err := d.c.Get(ctx, key).Bytes()
	if err != nil {
		return kv.Item{}, mapErr(err)
	}
	return decode(b)
}

func (d *driver) GetMulti(ctx context.Context, keys []string, found func(int, kv.Item)) error {
	if !d.single {
		return d.getMultiPipelined(ctx, keys, found)
	}
	vals, err := d.c.MGet(ctx, keys...).Result()
	if err != nil {
		return mapErr(err)
	}
	for i, v := range vals {
		s, ok := v.(string)
		if !ok {
			continue
		}
		it, err := decode([]byte(s))
		if err != nil {
			return fmt.Errorf("key %q: %w", keys[i], err)
		}
		found(i, it)
	}
	return nil
}

// getMultiPipelined pipelines one GET per key: go-redis groups the
// pipeline by node and sends each node's part concurrently, one round trip
// each (MGET would be refused across hash slots).
func (d *driver) getMultiPipelined(ctx context.Context, keys []string, found func(int, kv.Item)) error {
	cmds := make([]*redis.StringCmd, len(keys))
	_, err := d.c.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, k := range keys {
			cmds[i] = p.Get(ctx, k)
		}
		return nil
	})
	if err != nil && err != redis.Nil {
		return mapErr(err)
	}
	for i, cmd := range cmds {
		b, err := cmd.Bytes()
		if err == redis.Nil {
			continue
		}
		if err != nil {
			return mapErr(err)
		}
		it, err := decode(b)
		if err != nil {
			return fmt.Errorf("key %q: %w", keys[i], err)
		}
		found(i, it)
	}
	return nil
}

func (d *driver) Set(ctx context.Context, it kv.Item) error {
	return mapErr(d.c.Set(ctx, it.Key, encode(it), expiry(it.TTL)).Err())
}

func (d *driver) Add(ctx context.Context, it kv.Item) error {
	ok, err := d.c.SetNX(ctx, it.Key, encode(it), expiry(it.TTL)).Result()
	if err != nil {
		return mapErr(err)
	}
	if !ok {
		return kv.ErrExists
	}
	return nil
}

// casScript writes ARGV[2] (expiring after ARGV[3] ms, 0: never) only if the
// stored version (bytes 2..9 of the value) is ARGV[1]. 0: no key; 1:
// written; 2: another version; 3: a value without the header.
var casScript = redis.NewScript(`
local cur = redis.call('GETRANGE', KEYS[1], 0, 8)
if cur == '' then return 0 end
if string.len(cur) < 9 or string.byte(cur, 1) ~= 1 then return 3 end
if string.sub(cur, 2, 9) ~= ARGV[1] then return 2 end
local ttl = tonumber(ARGV[3])
if ttl > 0 then
	redis.call('SET', KEYS[1], ARGV[2], 'PX', ttl)
else
	redis.call('SET', KEYS[1], ARGV[2])
end
return 1`)

func (d *driver) CompareAndSwap(ctx context.Context, it kv.Item) error {
	var want [8]byte
	binary.BigEndian.PutUint64(want[:], it.Version)
	res, err := casScript.Run(ctx, d.c, []string{it.Key}, want[:], encode(it), expiry(it.TTL).Milliseconds()).Int()
	if err != nil {
		return mapErr(err)
	}
	switch res {
	case 0:
		return kv.ErrNotFound
	case 2:
		return kv.ErrConflict
	case 3:
		return errForeign
	}
	return nil
}

func (d *driver) Delete(ctx context.Context, key string) error {
	return mapErr(d.c.Del(ctx, key).Err())
}

// Ping is one PING, for Store.Check on an idle Store.
func (d *driver) Ping(ctx context.Context) error { return mapErr(d.c.Ping(ctx).Err()) }

// System names the backend in traces and logs.
func (d *driver) System() string { return "redis" }

// As reaches the go-redis client through Store.As: *redis.Client or
// *redis.ClusterClient (whichever it is), or redis.UniversalClient.
func (d *driver) As(target any) bool {
	return redisurl.As(d.c, target)
}

func (d *driver) Close() error {
	if !d.owned {
		return nil
	}
	return d.c.Close()
}

// expiry rounds a TTL up to Redis's millisecond resolution.
func expiry(ttl time.Duration) time.Duration { return kv.CeilTTL(ttl, time.Millisecond) }

// encode lays out the header and value; every write gets a fresh random
// version, so that no counter needs a second round trip.
func encode(it kv.Item) []byte {
	b := make([]byte, headerLen+len(it.Value))
	b[0] = formatV1
	version := rand.Uint64()
	if version == 0 {
		version = 1
	}
	binary.BigEndian.PutUint64(b[1:9], version)
	if ttl := expiry(it.TTL); ttl > 0 {
		binary.BigEndian.PutUint64(b[9:17], uint64(time.Now().Add(ttl).UnixMilli()))
	}
	copy(b[headerLen:], it.Value)
	return b
}

var errForeign = kv.Wrap(kv.ErrCorrupt, errors.New("rediskv: the value was not written by go-os (no rediskv header)"))

func decode(b []byte) (kv.Item, error) {
	if len(b) < headerLen || b[0] != formatV1 {
		return kv.Item{}, errForeign
	}
	it := kv.Item{
		Value:   b[headerLen:len(b):len(b)],
		Version: binary.BigEndian.Uint64(b[1:9]),
	}
	if exp := int64(binary.BigEndian.Uint64(b[9:17])); exp != 0 {
		it.TTL = kv.TimeLeft(time.UnixMilli(exp))
	}
	return it, nil
}

// mapErr maps go-redis errors onto kv's sentinels.
func mapErr(err error) error {
	if err == nil {
		return nil
	}
	if err == redis.Nil {
		return kv.ErrNotFound
	}
	if errors.Is(err, redis.ErrClosed) {
		return kv.Wrap(kv.ErrClosed, err)
	}
	var reply redis.Error
	if errors.As(err, &reply) {
		msg := reply.Error()
		switch {
		case strings.HasPrefix(msg, "WRONGTYPE"):
			return kv.Wrap(kv.ErrCorrupt, err) // another client's list, hash, ...
		case strings.HasPrefix(msg, "NOAUTH"), strings.HasPrefix(msg, "WRONGPASS"), strings.HasPrefix(msg, "NOPERM"):
			// Credentials missing, wrong, or without the ACL for this
			// command: retrying cannot help.
			return kv.Wrap(kv.ErrForbidden, err)
		}
	}
	// The connection (refused, reset, timed out, the ctx's deadline) or a
	// server that cannot serve now (LOADING, CLUSTERDOWN, TRYAGAIN, OOM, ...).
	return kv.Unavailable(err)
}
