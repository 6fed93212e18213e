package ringkv

import (
	"bytes"
	"crypto/subtle"
	"errors"
	"fmt"
	"io"
	"net/http"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/microos/go-os/kv"
)

// Handler serves this instance's part of the ring to its peers. Mount it
// where the instance's own URL in the ring points.
func (r *Ring) Handler() http.Handler { return http.HandlerFunc(r.serve) }

func (r *Ring) serve(w http.ResponseWriter, req *http.Request) {
	upgrade := req.Method == http.MethodGet && strings.EqualFold(req.Header.Get("Upgrade"), upgradeProto)
	if req.Method != http.MethodPost && !upgrade {
		http.Error(w, "ringkv: POST only", http.StatusMethodNotAllowed)
		return
	}
	if r.o.secret != "" && subtle.ConstantTimeCompare([]byte(req.Header.Get(hdrSecret)), []byte(r.o.secret)) != 1 {
		http.Error(w, "ringkv: the peer did not present the ring's secret", http.StatusUnauthorized)
		return
	}
	ctx := req.Context()
	op := path.Base(req.URL.Path)
	if upgrade {
		if op != connPath {
			http.Error(w, "ringkv: switch protocols at "+connPath, http.StatusNotFound)
			return
		}
		r.serveConn(w, req)
		return
	}
	q := req.URL.Query()
	limit := r.o.maxValue
	if op == "replicate" {
		limit = max(limit, maxBatch) + maxBatch // a batch of records may exceed one value
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, req.Body, limit))
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			http.Error(w, "ringkv: value too large", http.StatusRequestEntityTooLarge)
			return
		}
		http.Error(w, "ringkv: reading the body: "+err.Error(), http.StatusBadRequest)
		return
	}
	switch op {
	case "getmulti":
		r.serveGetMulti(w, req, body)
		return
	case "replicate":
		r.serveReplicate(w, body)
		return
	case "sync":
		// A joiner asks whether this instance has handed it its keys: once
		// the handoff of a view with the joiner is done, this instance
		// sends it again every key the joiner owns, for a joiner that
		// restarted empty at an address the ring never dropped.
		from := q.Get("from")
		if r.closing.Load() || !r.handedOff.Load().has(from) {
			http.Error(w, "ringkv: handoff to "+strconv.Quote(from)+" not done", http.StatusServiceUnavailable)
			return
		}
		if err := r.pushOwned(ctx, from); err != nil {
			http.Error(w, "ringkv: handoff to "+strconv.Quote(from)+": "+err.Error(), http.StatusServiceUnavailable)
			return
		}
		w.WriteHeader(http.StatusNoContent)
		return
	}
	key := q.Get("k")
	if err := kv.ValidateKey(key); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	if op == "peek" {
		rec, ok := r.local.peek(key)
		if !ok {
			writeErr(w, kv.ErrNotFound)
			return
		}
		w.Write(appendRec(nil, rec))
		return
	}
	c := call{op: op, key: key, value: body, forced: q.Get("f") == "1"}
	for _, f := range []struct {
		name string
		dst  *int
	}{{"p", &c.pos}, {"h", &c.hops}} {
		if s := q.Get(f.name); s != "" {
			if *f.dst, err = strconv.Atoi(s); err != nil || *f.dst < 0 {
				http.Error(w, "ringkv: bad "+f.name+" "+strconv.Quote(s), http.StatusBadRequest)
				return
			}
		}
	}
	ttl := int64(0)
	if v := q.Get("ttl"); v != "" {
		if ttl, err = strconv.ParseInt(v, 10, 64); err != nil {
			http.Error(w, "ringkv: bad ttl "+strconv.Quote(v), http.StatusBadRequest)
			return
		}
	}
	if op == "cas" {
		if c.version, err = strconv.ParseUint(q.Get("v"), 10, 64); err != nil {
			http.Error(w, "ringkv: bad version", http.StatusBadRequest)
			return
		}
	}
	if err := checkCall(&c, ttl); err != nil {
		writeErr(w, err)
		return
	}
	it, err := r.own(ctx, c)
	if err != nil {
		writeErr(w, err)
		return
	}
	if op == "get" {
		w.Header().Set(hdrVersion, formatUint(it.Version))
		w.Header().Set(hdrTTL, strconv.FormatInt(ttlMillis(it.TTL), 10))
		w.Write(it.Value)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// serveReplicate stores the copies an owner or a handoff sends, when they
// are newer than this instance's.
func (r *Ring) serveReplicate(w http.ResponseWriter, body []byte) {
	if r.closing.Load() {
		writeErr(w, errLeaving)
		return
	}
	err := readRecs(body, func(rec record) error {
		_, err := r.local.merge(rec)
		return err
	})
	if err == errCorruptRecords {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	if err != nil {
		writeErr(w, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (r *Ring) serveGetMulti(w http.ResponseWriter, req *http.Request, body []byte) {
	keys := strings.Split(string(bytes.TrimSuffix(body, []byte("\n"))), "\n")
	for _, k := range keys {
		if err := kv.ValidateKey(k); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
	}
	var out []byte
	for i, k := range keys {
		it, err := r.own(req.Context(), call{op: "get", key: k})
		switch {
		case err == nil:
			out = appendRecord(out, i, it)
		case err != kv.ErrNotFound:
			writeErr(w, err)
			return
		}
	}
	w.Write(out)
}

func writeErr(w http.ResponseWriter, err error) {
	code, status := classify(err)
	w.Header().Set(hdrError, code)
	switch code {
	case "notfound", "exists", "conflict":
		w.WriteHeader(status)
	default:
		http.Error(w, err.Error(), status)
	}
}

// classify names err on the wire, for both transports: the code (the
// Kv-Error header, the RESP error's first word) and the HTTP status.
func classify(err error) (code string, status int) {
	switch {
	case errors.Is(err, errNotOwner), errors.Is(err, errHops):
		return "notowner", http.StatusMisdirectedRequest
	case isDown(err):
		// The caller tries the key's next owner.
		return "down", http.StatusServiceUnavailable
	case errors.Is(err, kv.ErrNotFound):
		return "notfound", http.StatusNotFound
	case errors.Is(err, kv.ErrExists):
		return "exists", http.StatusConflict
	case errors.Is(err, kv.ErrConflict):
		return "conflict", http.StatusConflict
	case errors.Is(err, kv.ErrTooLarge):
		return "toolarge", http.StatusRequestEntityTooLarge
	case errors.Is(err, kv.ErrInvalidItem), errors.Is(err, kv.ErrInvalidKey):
		return "invalid", http.StatusBadRequest
	case errors.Is(err, kv.ErrUnavailable):
		// Decided here but not stored on enough owners: trying another
		// owner would decide it twice.
		return "unavailable", http.StatusBadGateway
	case errors.Is(err, errUnknownOp):
		return "unknownop", http.StatusNotFound
	}
	return "internal", http.StatusInternalServerError
}

var (
	errHops      = errors.New("ringkv: forwarded too often")
	errUnknownOp = errors.New("ringkv: unknown operation")
)

// checkCall checks a call a peer sent, whatever the transport, and sets
// its TTL from ttlMillis.
func checkCall(c *call, ttlMillis int64) error {
	if err := kv.ValidateKey(c.key); err != nil {
		return err
	}
	if c.pos < 0 || c.hops < 0 {
		return fmt.Errorf("%w: ringkv: bad position %d or hops %d", kv.ErrInvalidItem, c.pos, c.hops)
	}
	if c.hops > 2 {
		return errHops
	}
	if ttlMillis < 0 || ttlMillis > int64(kv.MaxTTL/time.Millisecond) {
		return fmt.Errorf("%w: ringkv: bad ttl %d ms", kv.ErrInvalidItem, ttlMillis)
	}
	c.ttl = time.Duration(ttlMillis) * time.Millisecond
	switch c.op {
	case "get", "set", "add", "delete":
	case "cas":
		if c.version == 0 {
			return fmt.Errorf("%w: ringkv: bad version", kv.ErrInvalidItem)
		}
	default:
		return fmt.Errorf("%w %q", errUnknownOp, c.op)
	}
	return nil
}
