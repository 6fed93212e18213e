package ringkv

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/microos/go-os/kv"
)

// driver sends each key to its owner: the local memory, or a peer.
type driver struct{ r *Ring }

func (d *driver) Get(ctx context.Context, key string) (kv.Item, error) {
	peer := d.r.owner(key)
	if peer == "" {
		return d.r.local.Get(ctx, key)
	}
	resp, body, err := d.call(ctx, peer, "get", key, url.Values{}, nil)
	if err != nil {
		return kv.Item{}, err
	}
	it := kv.Item{Value: body}
	if it.Version, err = strconv.ParseUint(resp.Header.Get(hdrVersion), 10, 64); err != nil {
		return kv.Item{}, kv.Unavailable(fmt.Errorf("ringkv: peer %s: bad %s header", peer, hdrVersion))
	}
	ms, _ := strconv.ParseInt(resp.Header.Get(hdrTTL), 10, 64)
	it.TTL = time.Duration(ms) * time.Millisecond
	return it, nil
}

func (d *driver) Set(ctx context.Context, it kv.Item) error { return d.write(ctx, "set", it) }
func (d *driver) Add(ctx context.Context, it kv.Item) error { return d.write(ctx, "add", it) }
func (d *driver) CompareAndSwap(ctx context.Context, it kv.Item) error {
	return d.write(ctx, "cas", it)
}

func (d *driver) write(ctx context.Context, op string, it kv.Item) error {
	peer := d.r.owner(it.Key)
	if peer == "" {
		switch op {
		case "set":
			return d.r.local.Set(ctx, it)
		case "add":
			return d.r.local.Add(ctx, it)
		default:
			return d.r.local.CompareAndSwap(ctx, it)
		}
	}
	q := url.Values{}
	if ms := ttlMillis(it.TTL); ms > 0 {
		q.Set("ttl", strconv.FormatInt(ms, 10))
	}
	if op == "cas" {
		q.Set("v", formatUint(it.Version))
	}
	_, _, err := d.call(ctx, peer, op, it.Key, q, it.Value)
	return err
}

func (d *driver) Delete(ctx context.Context, key string) error {
	peer := d.r.owner(key)
	if peer == "" {
		return d.r.local.Delete(ctx, key)
	}
	_, _, err := d.call(ctx, peer, "delete", key, url.Values{}, nil)
	return err
}

// GetMulti asks every owner for its keys at once: one request per peer,
// all in flight together.
func (d *driver) GetMulti(ctx context.Context, keys []string, found func(int, kv.Item)) error {
	byPeer := map[string][]int{}
	for i, k := range keys {
		p := d.r.owner(k)
		byPeer[p] = append(byPeer[p], i)
	}
	var (
		mu       sync.Mutex
		firstErr error
		wg       sync.WaitGroup
	)
	report := func(idx []int) func(int, kv.Item) {
		return func(j int, it kv.Item) {
			mu.Lock()
			found(idx[j], it)
			mu.Unlock()
		}
	}
	fail := func(err error) {
		mu.Lock()
		if firstErr == nil {
			firstErr = err
		}
		mu.Unlock()
	}
	for peer, idx := range byPeer {
		sub := make([]string, len(idx))
		for j, i := range idx {
			sub[j] = keys[i]
		}
		if peer == "" {
			if err := d.r.local.GetMulti(ctx, sub, report(idx)); err != nil {
				fail(err)
			}
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			body := []byte(strings.Join(sub, "\n"))
			_, answer, err := d.call(ctx, peer, "getmulti", "", url.Values{}, body)
			if err == nil {
				err = readRecords(answer, len(sub), report(idx))
			}
			if err != nil {
				fail(err)
			}
		}()
	}
	wg.Wait()
	return firstErr
}

// call POSTs one operation to peer and maps its answer onto kv's errors.
func (d *driver) call(ctx context.Context, peer, op, key string, q url.Values, body []byte) (*http.Response, []byte, error) {
	if key != "" {
		q.Set("k", key)
	}
	u := peer + "/" + op
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, bytes.NewReader(body))
	if err != nil {
		return nil, nil, err
	}
	resp, err := d.r.client.Do(req)
	if err != nil {
		return nil, nil, kv.Unavailable(err)
	}
	defer resp.Body.Close()
	answer, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, nil, kv.Unavailable(err)
	}
	switch resp.StatusCode {
	case http.StatusOK, http.StatusNoContent:
		return resp, answer, nil
	case http.StatusNotFound:
		if resp.Header.Get(hdrError) == "notfound" {
			return nil, nil, kv.ErrNotFound
		}
		// A 404 of the peer's router, not of ringkv: a miss must never be
		// reported for a peer that is not serving the ring.
		return nil, nil, kv.Unavailable(fmt.Errorf("%w (is the ring's handler mounted at the peer's URL?)", peerError(peer, resp, answer)))
	case http.StatusConflict:
		if resp.Header.Get(hdrError) == "exists" {
			return nil, nil, kv.ErrExists
		}
		return nil, nil, kv.ErrConflict
	case http.StatusRequestEntityTooLarge:
		return nil, nil, kv.Wrap(kv.ErrTooLarge, peerError(peer, resp, answer))
	case http.StatusBadRequest:
		return nil, nil, kv.Wrap(kv.ErrInvalidItem, peerError(peer, resp, answer))
	}
	return nil, nil, kv.Unavailable(peerError(peer, resp, answer))
}

func peerError(peer string, resp *http.Response, body []byte) error {
	return fmt.Errorf("ringkv: peer %s: %s: %s", peer, resp.Status, bytes.TrimSpace(body))
}

func (d *driver) Close() error {
	if d.r.owned {
		d.r.client.CloseIdleConnections()
	}
	return nil
}
