package ringkv

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/microos/go-os/internal/health"
	"github.com/microos/go-os/kv"
)

// call is one operation on one key, as it travels: from the caller's
// instance (the coordinator) to an owner, and on to the primary.
type call struct {
	op      string // get, set, add, cas, delete
	key     string
	value   []byte
	ttl     time.Duration
	version uint64
	pos     int  // the owner's place in the sender's preference list
	hops    int  // how many owners forwarded it already
	forced  bool // decide it, do not forward it (the joiner's previous owner)
	skip    int  // exec: a member index not to try (a peer just found down), or -1
}

// downError is a peer that could not take a call (unreachable, leaving,
// not an owner in its view): the coordinator tries the next owner.
type downError struct{ err error }

func (e *downError) Error() string { return e.err.Error() }
func (e *downError) Unwrap() []error {
	return []error{kv.ErrUnavailable, e.err}
}

func down(err error) error { return &downError{err: err} }

func isDown(err error) bool {
	var d *downError
	return errors.As(err, &d)
}

var (
	errNoOwners = down(errors.New("ringkv: the ring has no members"))
	errLeaving  = down(errors.New("ringkv: this instance is leaving the ring"))
	errNotOwner = down(errors.New("ringkv: this instance does not own the key in its view of the ring"))
)

// driver sends each key to its owners: the local memory, or peers.
type driver struct{ r *Ring }

func (d *driver) Get(ctx context.Context, key string) (kv.Item, error) {
	r := d.r
	v := r.view.Load()
	h := keyHash(key)
	if v.self >= 0 && v.ring.LocateHash(h) == v.self && !r.syncing.Load() && !r.closing.Load() {
		// The primary in a stable view: what exec would reach through
		// ownIn and decide (getPrimary), without the call's copies on the
		// way. Deciding it takes only the primary (LocateHash is the first
		// of the preference list), and the key is hashed once, for its
		// ring position and its shard. It is getPrimary written out: the
		// call, which returns a kv.Item, cost ~10 ns of a ~120 ns Get.
		if err := ctx.Err(); err != nil {
			return kv.Item{}, err
		}
		r.sampleRepair(key)
		return r.local.getAt(h, key)
	}
	var buf [4]int
	return r.execPref(ctx, v, v.prefAt(h, buf[:0]), call{op: "get", key: key, skip: -1})
}

func (d *driver) Set(ctx context.Context, it kv.Item) error { return d.write(ctx, "set", it) }
func (d *driver) Add(ctx context.Context, it kv.Item) error { return d.write(ctx, "add", it) }
func (d *driver) CompareAndSwap(ctx context.Context, it kv.Item) error {
	return d.write(ctx, "cas", it)
}

func (d *driver) write(ctx context.Context, op string, it kv.Item) error {
	_, err := d.r.exec(ctx, call{op: op, key: it.Key, value: it.Value, ttl: it.TTL, version: it.Version})
	return err
}

func (d *driver) Delete(ctx context.Context, key string) error {
	_, err := d.r.exec(ctx, call{op: "delete", key: key})
	return err
}

// GetMulti asks every primary for its keys at once, one request per peer,
// all in flight together; the keys of a peer that cannot be reached are
// read one by one from their other owners.
func (d *driver) GetMulti(ctx context.Context, keys []string, found func(int, kv.Item)) error {
	r := d.r
	v := r.view.Load()
	byPeer := map[int][]int{}
	var buf [4]int
	for i, k := range keys {
		pref := v.pref(k, buf[:0])
		if len(pref) == 0 {
			return errNoOwners
		}
		byPeer[pref[0]] = append(byPeer[pref[0]], i)
	}
	var (
		mu       sync.Mutex
		firstErr error
		wg       sync.WaitGroup
	)
	fail := func(err error) {
		mu.Lock()
		if firstErr == nil {
			firstErr = err
		}
		mu.Unlock()
	}
	one := func(i, skip int) {
		it, err := r.execIn(ctx, v, call{op: "get", key: keys[i], skip: skip})
		switch {
		case err == nil:
			mu.Lock()
			found(i, it)
			mu.Unlock()
		case err != kv.ErrNotFound:
			fail(err)
		}
	}
	for m, idx := range byPeer {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if m == v.self {
				for _, i := range idx {
					one(i, -1)
				}
				return
			}
			sub := make([]string, len(idx))
			for j, i := range idx {
				sub[j] = keys[i]
			}
			answer, err := r.post(ctx, v.peers[m], "getmulti", url.Values{}, []byte(strings.Join(sub, "\n")))
			if err == nil {
				err = readRecords(answer, len(sub), func(j int, it kv.Item) {
					mu.Lock()
					found(idx[j], it)
					mu.Unlock()
				})
			}
			if isDown(err) && ctx.Err() == nil {
				// Their other owners, without asking the one down again.
				for _, i := range idx {
					one(i, m)
				}
				return
			}
			if err != nil {
				fail(err)
			}
		}()
	}
	wg.Wait()
	return firstErr
}

func (d *driver) Close() error { return nil }

// Ping lets an idle Store's Check report the ring's health (Ring.Check).
func (d *driver) Ping(ctx context.Context) error { return d.r.Check(ctx) }

// exec runs c on the first owner of its key that takes it, primary first.
func (r *Ring) exec(ctx context.Context, c call) (kv.Item, error) {
	c.skip = -1
	return r.execIn(ctx, r.view.Load(), c)
}

func (r *Ring) execIn(ctx context.Context, v *view, c call) (kv.Item, error) {
	var buf [4]int
	return r.execPref(ctx, v, v.pref(c.key, buf[:0]), c)
}

// execPref is execIn with the key's owners in v.
func (r *Ring) execPref(ctx context.Context, v *view, pref []int, c call) (kv.Item, error) {
	err := errNoOwners
	// An owner that just failed is tried last, so that a hung peer costs
	// one timeout, not one per call; its place in the list still says
	// who decides.
	order := [4]int{0, 1, 2, 3}
	tries := order[:min(len(pref), 4)]
	if len(pref) > 4 {
		tries = make([]int, len(pref))
		for i := range tries {
			tries[i] = i
		}
	}
	if len(pref) > 1 && pref[0] != v.self && r.suspect(v.peers[pref[0]]) {
		tries = append(tries[1:len(tries):len(tries)], 0)
	}
	for _, pos := range tries {
		m := pref[pos]
		if m == c.skip {
			continue
		}
		c.pos = pos
		var it kv.Item
		if m == v.self {
			it, err = r.ownIn(ctx, &c, v, pref)
		} else {
			it, err = r.send(ctx, v.peers[m], c)
		}
		if err == nil || !isDown(err) || ctx.Err() != nil {
			return it, err
		}
	}
	return kv.Item{}, err
}

// suspectFor is how long after a failed call a peer is tried last.
const suspectFor = 500 * time.Millisecond

// suspect reports whether the latest call to peer failed less than
// suspectFor ago.
func (r *Ring) suspect(peer string) bool {
	r.healthMu.Lock()
	t := r.health[peer]
	r.healthMu.Unlock()
	if t == nil {
		return false
	}
	var he *health.Error
	return errors.As(t.Check(context.Background(), kv.ErrUnavailable), &he) && he.Age < suspectFor
}

// send runs c on peer.
func (r *Ring) send(ctx context.Context, peer string, c call) (kv.Item, error) {
	if pc := r.conns(peer); pc != nil {
		if it, ok, err := r.sendConn(ctx, pc, peer, c); ok {
			return it, err
		}
	}
	// The query by hand: url.Values costs a map and a sort per call.
	q := make([]byte, 0, 64+len(c.key))
	q = append(q, "k="...)
	q = append(q, url.QueryEscape(c.key)...)
	if ms := ttlMillis(c.ttl); ms > 0 {
		q = strconv.AppendInt(append(q, "&ttl="...), ms, 10)
	}
	if c.op == "cas" {
		q = strconv.AppendUint(append(q, "&v="...), c.version, 10)
	}
	if c.pos > 0 {
		q = strconv.AppendInt(append(q, "&p="...), int64(c.pos), 10)
	}
	if c.hops > 0 {
		q = strconv.AppendInt(append(q, "&h="...), int64(c.hops), 10)
	}
	if c.forced {
		q = append(q, "&f=1"...)
	}
	var body []byte
	if c.op != "get" && c.op != "delete" {
		body = c.value
	}
	resp, answer, err := r.postQuery(ctx, r.client, peer, c.op, string(q), body)
	if err != nil || c.op != "get" {
		return kv.Item{}, err
	}
	it := kv.Item{Value: answer}
	if it.Version, err = strconv.ParseUint(resp.Header.Get(hdrVersion), 10, 64); err != nil {
		return kv.Item{}, kv.Unavailable(fmt.Errorf("ringkv: peer %s: bad %s header", peer, hdrVersion))
	}
	ms, _ := strconv.ParseInt(resp.Header.Get(hdrTTL), 10, 64)
	it.TTL = time.Duration(ms) * time.Millisecond
	return it, nil
}

func (r *Ring) post(ctx context.Context, peer, op string, q url.Values, body []byte) ([]byte, error) {
	_, answer, err := r.postWith(ctx, r.client, peer, op, q, body)
	return answer, err
}

// bulkTimeout bounds a handoff batch or a joiner's sync, which may move
// far more than one call's worth of data.
const bulkTimeout = 30 * time.Second

// postBulk is post for handoffs: the call is bounded by bulkTimeout, not
// by the client's per-call timeout.
func (r *Ring) postBulk(ctx context.Context, peer, op string, q url.Values, body []byte) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, bulkTimeout)
	defer cancel()
	_, answer, err := r.postWith(ctx, r.bulk, peer, op, q, body)
	return answer, err
}

// postWith POSTs one operation to peer and maps its answer onto kv's
// errors; a peer that cannot take it is a downError.
func (r *Ring) postWith(ctx context.Context, client *http.Client, peer, op string, q url.Values, body []byte) (*http.Response, []byte, error) {
	return r.postQuery(ctx, client, peer, op, q.Encode(), body)
}

func (r *Ring) postQuery(ctx context.Context, client *http.Client, peer, op, query string, body []byte) (*http.Response, []byte, error) {
	u := peer + "/" + op
	if query != "" {
		u += "?" + query
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, bytes.NewReader(body))
	if err != nil {
		return nil, nil, err
	}
	if r.o.secret != "" {
		req.Header.Set(hdrSecret, r.o.secret)
	}
	resp, err := client.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return nil, nil, kv.Unavailable(err)
		}
		r.peerHealth(peer).Failure(err)
		return nil, nil, down(err)
	}
	defer resp.Body.Close()
	answer, err := io.ReadAll(resp.Body)
	if err != nil {
		r.peerHealth(peer).Failure(err)
		return nil, nil, down(err)
	}
	r.peerHealth(peer).Success()
	switch resp.StatusCode {
	case http.StatusOK, http.StatusNoContent:
		return resp, answer, nil
	case http.StatusNotFound:
		if resp.Header.Get(hdrError) == "notfound" {
			return nil, nil, kv.ErrNotFound
		}
		// A 404 of the peer's router, not of ringkv: a miss must never be
		// reported for a peer that is not serving the ring.
		return nil, nil, down(fmt.Errorf("%w (is the ring's handler mounted at the peer's URL?)", peerError(peer, resp, answer)))
	case http.StatusConflict:
		if resp.Header.Get(hdrError) == "exists" {
			return nil, nil, kv.ErrExists
		}
		return nil, nil, kv.ErrConflict
	case http.StatusRequestEntityTooLarge:
		return nil, nil, kv.Wrap(kv.ErrTooLarge, peerError(peer, resp, answer))
	case http.StatusBadRequest:
		return nil, nil, kv.Wrap(kv.ErrInvalidItem, peerError(peer, resp, answer))
	case http.StatusUnauthorized:
		return nil, nil, kv.Wrap(kv.ErrForbidden, peerError(peer, resp, answer))
	case http.StatusServiceUnavailable, http.StatusMisdirectedRequest:
		return nil, nil, down(peerError(peer, resp, answer))
	}
	return nil, nil, kv.Unavailable(peerError(peer, resp, answer))
}

func peerError(peer string, resp *http.Response, body []byte) error {
	return fmt.Errorf("ringkv: peer %s: %s: %s", peer, resp.Status, bytes.TrimSpace(body))
}
