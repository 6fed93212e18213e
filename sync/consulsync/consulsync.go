// Package consulsync is the Consul backend of the sync package, on
// consul/api sessions and KV locks.
//
// Each acquisition creates a session with the lock's TTL and behavior
// "delete", and takes the key sync/<name>/lock with a KV transaction
// (verb "lock") that stores the holder's value. The fencing token is the
// key's ModifyIndex after the acquire: a Raft index, strictly increasing
// across every write to the cluster, so every later holder of the name
// gets a larger one, ever (unless the cluster's data is wiped). Renewal is
// the session renew endpoint; a renewal that finds the session gone is
// ErrNotHeld. Unlock releases the key with our session only (a key held
// by another session is untouched) and destroys the session. Observe uses
// blocking queries on the key.
//
// # TTL and lock-delay
//
// Consul refuses session TTLs under 10 s, and invalidates a session only
// after up to twice its TTL without renewal: a dead holder's lock is freed
// between TTL and 2×TTL after its last renewal, plus the lock-delay. The
// holder itself gives the lease up at TTL minus the loss margin, so it
// always learns first.
//
// Lock-delay (WithLockDelay; Consul's default is 15 s) keeps a lock that
// was freed by a session invalidation (its holder died or stopped
// renewing, not an Unlock) unavailable for that long. It protects against
// a holder that has not noticed its loss yet, and it adds to failover
// time: with the defaults, a dead leader is replaced after up to
// 2×15 s + 15 s = 45 s. Set it to 0 when fencing tokens protect the
// resource and failover time matters.
//
// # Guarantees
//
// Consul's KV and sessions are replicated by Raft: an acknowledged acquire
// survives the loss of a minority of servers, so a server failover never
// gives two holders. A partition that cuts the holder off makes its
// renewals fail; it gives the lease up before Consul frees the lock.
package consulsync

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/hashicorp/consul/api"

	"github.com/microos/go-os/internal/consulx"
	ossync "github.com/microos/go-os/sync"
)

// MinTTL is the shortest session TTL Consul accepts.
const MinTTL = 10 * time.Second

func init() {
	ossync.Register("consul", func(_ context.Context, u *url.URL) (ossync.Driver, error) {
		q := u.Query()
		cfg, err := consulx.ClientConfig(u, q)
		if err != nil {
			return nil, ossync.Wrap(ossync.ErrInvalid, err)
		}
		if err := consulx.Unknown(q); err != nil {
			return nil, ossync.Wrap(ossync.ErrInvalid, err)
		}
		cfg.Transport = nil // ClientConfig's default is shared; ours is closed by Close
		c, closeIdle, err := consulx.NewClient(cfg)
		if err != nil {
			return nil, ossync.Wrap(ossync.ErrInvalid, err)
		}
		return &driver{c: c, closeIdle: closeIdle}, nil
	})
}

// New returns a Client on the Consul client c. Pass ossync.WithTTL of at
// least MinTTL.
func New(c *api.Client, opts ...ossync.Option) *ossync.Client {
	return ossync.New(NewDriver(c), opts...)
}

// NewDriver is the Driver behind New, for wrapping (ossync.InjectFaults).
func NewDriver(c *api.Client) ossync.Driver { return &driver{c: c} }

type driver struct {
	c         *api.Client
	closeIdle func() // the connections of a client opened by URL; nil for the caller's
}

func lockKey(name string) string { return "sync/" + name + "/lock" }

func (d *driver) createSession(ctx context.Context, req ossync.Request) (string, error) {
	body := map[string]any{
		"Name":     "go-os sync " + req.Name,
		"Behavior": "delete",
		"TTL":      req.TTL.Round(time.Second).String(),
	}
	if req.LockDelay >= 0 {
		// Through Raw, because api.Session.Create cannot send a delay of 0.
		body["LockDelay"] = fmt.Sprintf("%dms", req.LockDelay.Milliseconds())
	}
	var out struct{ ID string }
	if _, err := d.c.Raw().Write("/v1/session/create", body, &out, (&api.WriteOptions{}).WithContext(ctx)); err != nil {
		return "", mapErr(err)
	}
	return out.ID, nil
}

func (d *driver) destroy(id string) {
	// Not the caller's ctx: a session left behind would hold nothing, but
	// would cost Consul a timer until its TTL.
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	d.c.Session().Destroy(id, (&api.WriteOptions{}).WithContext(ctx))
}

func (d *driver) Acquire(ctx context.Context, req ossync.Request) (ossync.Grant, error) {
	if req.TTL < MinTTL {
		return ossync.Grant{}, ossync.Wrap(ossync.ErrInvalid, fmt.Errorf("consulsync: TTL %s is under Consul's minimum %s", req.TTL, MinTTL))
	}
	id, err := d.createSession(ctx, req)
	if err != nil {
		return ossync.Grant{}, err
	}
	ok, resp, _, err := d.c.Txn().Txn(api.TxnOps{{KV: &api.KVTxnOp{Verb: api.KVLock, Key: lockKey(req.Name), Value: req.Value, Session: id}}},
		(&api.QueryOptions{}).WithContext(ctx))
	if err != nil {
		d.destroy(id)
		return ossync.Grant{}, mapErr(err)
	}
	if !ok {
		d.destroy(id)
		for _, e := range resp.Errors {
			if strings.Contains(e.What, "lock") {
				return ossync.Grant{}, ossync.ErrLocked
			}
		}
		return ossync.Grant{}, ossync.Unavailable(fmt.Errorf("consulsync: transaction refused: %v", resp.Errors))
	}
	if len(resp.Results) != 1 || resp.Results[0].KV == nil {
		d.destroy(id)
		return ossync.Grant{}, ossync.Unavailable(errors.New("consulsync: transaction answer without the key"))
	}
	return ossync.Grant{Token: resp.Results[0].KV.ModifyIndex, Owner: req.Owner, Handle: id}, nil
}

func (d *driver) Renew(ctx context.Context, _ string, g ossync.Grant, _ time.Duration) error {
	se, _, err := d.c.Session().Renew(g.Handle, (&api.WriteOptions{}).WithContext(ctx))
	if err != nil {
		return mapErr(err)
	}
	if se == nil {
		return ossync.ErrNotHeld
	}
	return nil
}

func (d *driver) Release(ctx context.Context, name string, g ossync.Grant) error {
	// One transaction: only while our session holds the key, and only the
	// write our acquire made (its index is the token), delete the key.
	// Another holder's key fails the check and is left alone.
	_, _, _, err := d.c.Txn().Txn(api.TxnOps{
		{KV: &api.KVTxnOp{Verb: api.KVCheckSession, Key: lockKey(name), Session: g.Handle}},
		{KV: &api.KVTxnOp{Verb: api.KVDeleteCAS, Key: lockKey(name), Index: g.Token}},
	}, (&api.QueryOptions{}).WithContext(ctx))
	if err != nil {
		return mapErr(err)
	}
	_, err = d.c.Session().Destroy(g.Handle, (&api.WriteOptions{}).WithContext(ctx))
	return mapErr(err)
}

func holderOf(kv *api.KVPair) (ossync.Holder, bool) {
	if kv == nil || kv.Session == "" {
		return ossync.Holder{}, false
	}
	return ossync.Holder{Value: kv.Value, Token: kv.ModifyIndex}, true
}

func (d *driver) Holder(ctx context.Context, name string) (ossync.Holder, error) {
	kv, _, err := d.c.KV().Get(lockKey(name), (&api.QueryOptions{}).WithContext(ctx))
	if err != nil {
		return ossync.Holder{}, mapErr(err)
	}
	h, ok := holderOf(kv)
	if !ok {
		return ossync.Holder{}, ossync.ErrNoLeader
	}
	return h, nil
}

// WaitHolder waits with blocking queries for a holder other than after.
func (d *driver) WaitHolder(ctx context.Context, name string, after ossync.Holder, wait time.Duration) (ossync.Holder, error) {
	var index uint64
	deadline := time.Now().Add(wait)
	for {
		left := time.Until(deadline)
		if left <= 0 {
			return after, nil
		}
		kv, meta, err := d.c.KV().Get(lockKey(name), (&api.QueryOptions{WaitIndex: index, WaitTime: left}).WithContext(ctx))
		if err != nil {
			return ossync.Holder{}, mapErr(err)
		}
		h, ok := holderOf(kv)
		if h.Token != after.Token {
			if !ok {
				return ossync.Holder{}, ossync.ErrNoLeader
			}
			return h, nil
		}
		if meta.LastIndex < index { // Consul's index went back (a restore): start over
			index = 0
		} else {
			index = meta.LastIndex
		}
	}
}

func (d *driver) Ping(ctx context.Context) error {
	_, err := d.c.Status().LeaderWithQueryOptions((&api.QueryOptions{}).WithContext(ctx))
	return mapErr(err)
}

// Close frees the connections of a client opened by URL; a client the
// caller passed to New stays the caller's.
func (d *driver) Close() error {
	if d.closeIdle != nil {
		d.closeIdle()
	}
	return nil
}

// As sets **api.Client.
func (d *driver) As(i any) bool {
	p, ok := i.(**api.Client)
	if ok {
		*p = d.c
	}
	return ok
}

func mapErr(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, context.Canceled):
		return err
	case consulx.Forbidden(err):
		return ossync.Wrap(ossync.ErrForbidden, err)
	case consulx.BadRequest(err):
		return ossync.Wrap(ossync.ErrInvalid, err)
	}
	return ossync.Unavailable(err)
}
