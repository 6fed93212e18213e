// Package redissync is the Redis backend of the sync package, on go-redis
// v9, for one Redis server or a Redis Cluster.
//
// A lock is one key, sync:{name}:lock, set with SET NX PX semantics to a
// random owner token (plus the fencing token and the holder's value); its
// fencing counter is sync:{name}:fence, taken with INCR in the same Lua
// script as the acquire, so a token is given only with the lock. Renewal
// (PEXPIRE) and release (DEL) are Lua compare-and-act scripts that touch
// the key only while it still holds our owner token: an Unlock never
// deletes another holder's lock. Every call is one round trip (EVALSHA).
// The braces are a Cluster hash tag: both keys of a name live on one slot,
// hence on one master.
//
// # Guarantees
//
// On one Redis server: mutual exclusion holds while the server keeps its
// data; the fencing counter has no TTL and never goes back, unless the
// data set is lost (FLUSHALL, a restart without persistence): then tokens
// start again from 1 and fencing against a resource that remembers a
// higher one refuses every new holder until the counter passes it, which
// is safe but stalls; persist Redis (AOF) if that matters.
//
// On a Redis Cluster: each name is on one master, with the same guarantees
// as one server, as long as that master does not fail over.
//
// Across a failover (Sentinel or Cluster promoting a replica): Redis
// replicates asynchronously, so an acquire (and its INCR) acknowledged by
// the old master but not yet copied to the replica is lost. The new
// master then sees the lock free, and a second client can take it while
// the first still believes it holds it: mutual exclusion is broken for up
// to one TTL. The fencing counter may also have lost the same INCR, so the
// second holder can get the same token as the first. Fencing then still
// protects a resource against every holder older than the ones in the
// lost window (their tokens are smaller), but not between the two
// holders of that window. WAIT-based acknowledgement would narrow, not
// close, the window; use the Consul backend (Raft) when a failover must
// never give two holders.
package redissync

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/microos/go-os/internal/redisurl"
	ossync "github.com/microos/go-os/sync"
)

func init() {
	for _, scheme := range redisurl.Schemes {
		ossync.Register(scheme, func(_ context.Context, u *url.URL) (ossync.Driver, error) {
			c, err := redisurl.Client(u)
			if err != nil {
				return nil, ossync.Wrap(ossync.ErrInvalid, err)
			}
			return &driver{c: c, owned: true}, nil
		})
	}
}

// New returns a Client on client (a *redis.Client, *redis.ClusterClient
// or other redis.UniversalClient). It does not close a client it was
// handed. Set ContextTimeoutEnabled in the client's options, as Open does,
// so that every call ends by its ctx's deadline.
func New(client redis.UniversalClient, opts ...ossync.Option) *ossync.Client {
	return ossync.New(NewDriver(client), opts...)
}

// NewDriver is the Driver behind New, for wrapping (ossync.InjectFaults).
func NewDriver(client redis.UniversalClient) ossync.Driver { return &driver{c: client} }

type driver struct {
	c     redis.UniversalClient
	owned bool
}

func lockKey(name string) string  { return "sync:{" + name + "}:lock" }
func fenceKey(name string) string { return "sync:{" + name + "}:fence" }

var (
	acquire = redis.NewScript(`
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
local t = redis.call('INCR', KEYS[2])
redis.call('SET', KEYS[1], ARGV[1] .. ':' .. t .. ':' .. ARGV[3], 'PX', ARGV[2])
return t`)
	renew = redis.NewScript(`
local v = redis.call('GET', KEYS[1])
if v and string.sub(v, 1, #ARGV[1] + 1) == ARGV[1] .. ':' then
  return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0`)
	release = redis.NewScript(`
local v = redis.call('GET', KEYS[1])
if v and string.sub(v, 1, #ARGV[1] + 1) == ARGV[1] .. ':' then
  return redis.call('DEL', KEYS[1])
end
return 0`)
)

func ms(d time.Duration) int64 { return max(1, d.Milliseconds()) }

func (d *driver) Acquire(ctx context.Context, req ossync.Request) (ossync.Grant, error) {
	t, err := acquire.Run(ctx, d.c, []string{lockKey(req.Name), fenceKey(req.Name)}, req.Owner, ms(req.TTL), req.Value).Uint64()
	if err != nil {
		return ossync.Grant{}, mapErr(err)
	}
	if t == 0 {
		return ossync.Grant{}, ossync.ErrLocked
	}
	return ossync.Grant{Token: t, Owner: req.Owner}, nil
}

func (d *driver) Renew(ctx context.Context, name string, g ossync.Grant, ttl time.Duration) error {
	ok, err := renew.Run(ctx, d.c, []string{lockKey(name)}, g.Owner, ms(ttl)).Int64()
	if err != nil {
		return mapErr(err)
	}
	if ok == 0 {
		return ossync.ErrNotHeld
	}
	return nil
}

func (d *driver) Release(ctx context.Context, name string, g ossync.Grant) error {
	return mapErr(release.Run(ctx, d.c, []string{lockKey(name)}, g.Owner).Err())
}

func (d *driver) Holder(ctx context.Context, name string) (ossync.Holder, error) {
	v, err := d.c.Get(ctx, lockKey(name)).Result()
	if err == redis.Nil {
		return ossync.Holder{}, ossync.ErrNoLeader
	}
	if err != nil {
		return ossync.Holder{}, mapErr(err)
	}
	parts := strings.SplitN(v, ":", 3)
	if len(parts) != 3 {
		return ossync.Holder{}, fmt.Errorf("redissync: lock key %q holds %d fields, not owner:token:value", lockKey(name), len(parts))
	}
	t, err := strconv.ParseUint(parts[1], 10, 64)
	if err != nil {
		return ossync.Holder{}, fmt.Errorf("redissync: lock key %q: token: %w", lockKey(name), err)
	}
	return ossync.Holder{Value: []byte(parts[2]), Token: t}, nil
}

func (d *driver) Ping(ctx context.Context) error { return mapErr(d.c.Ping(ctx).Err()) }

func (d *driver) Close() error {
	if d.owned {
		return d.c.Close()
	}
	return nil
}

// As sets *redis.UniversalClient.
func (d *driver) As(i any) bool {
	p, ok := i.(*redis.UniversalClient)
	if ok {
		*p = d.c
	}
	return ok
}

func mapErr(err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, context.Canceled) {
		return err
	}
	if errors.Is(err, redis.ErrClosed) {
		return ossync.Wrap(ossync.ErrClosed, err)
	}
	var reply redis.Error
	if errors.As(err, &reply) {
		msg := reply.Error()
		if strings.HasPrefix(msg, "NOAUTH") || strings.HasPrefix(msg, "WRONGPASS") || strings.HasPrefix(msg, "NOPERM") {
			return ossync.Wrap(ossync.ErrForbidden, err)
		}
	}
	return ossync.Unavailable(err)
}
