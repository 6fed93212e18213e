package ringkv

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/microos/go-os/kv"
)

// Handler serves the keys this instance owns to its peers. Mount it where
// the instance's own URL in the ring points.
func (r *Ring) Handler() http.Handler { return http.HandlerFunc(r.serve) }

func (r *Ring) serve(w http.ResponseWriter, req *http.Request) {
	if req.Method != http.MethodPost {
		http.Error(w, "ringkv: POST only", http.StatusMethodNotAllowed)
		return
	}
	ctx := req.Context()
	op := path.Base(req.URL.Path)
	q := req.URL.Query()
	body, err := io.ReadAll(http.MaxBytesReader(w, req.Body, r.maxValue))
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			http.Error(w, "ringkv: value too large", http.StatusRequestEntityTooLarge)
			return
		}
		http.Error(w, "ringkv: reading the body: "+err.Error(), http.StatusBadRequest)
		return
	}
	if op == "getmulti" {
		r.serveGetMulti(w, req, body)
		return
	}
	key := q.Get("k")
	if err := kv.ValidateKey(key); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	if !r.owns(key) {
		notOwner(w, key)
		return
	}
	it := kv.Item{Key: key, Value: body}
	if v := q.Get("ttl"); v != "" {
		ms, err := strconv.ParseInt(v, 10, 64)
		if err != nil || ms < 0 {
			http.Error(w, "ringkv: bad ttl "+strconv.Quote(v), http.StatusBadRequest)
			return
		}
		it.TTL = time.Duration(ms) * time.Millisecond
	}
	switch op {
	case "get":
		got, err := r.local.Get(ctx, key)
		if err != nil {
			writeErr(w, err)
			return
		}
		w.Header().Set(hdrVersion, formatUint(got.Version))
		w.Header().Set(hdrTTL, strconv.FormatInt(ttlMillis(got.TTL), 10))
		w.Write(got.Value)
		return
	case "set":
		err = r.local.Set(ctx, it)
	case "add":
		err = r.local.Add(ctx, it)
	case "cas":
		it.Version, err = strconv.ParseUint(q.Get("v"), 10, 64)
		if err != nil || it.Version == 0 {
			http.Error(w, "ringkv: bad version", http.StatusBadRequest)
			return
		}
		err = r.local.CompareAndSwap(ctx, it)
	case "delete":
		err = r.local.Delete(ctx, key)
	default:
		http.Error(w, "ringkv: unknown operation "+strconv.Quote(op), http.StatusNotFound)
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
		if !r.owns(k) {
			notOwner(w, k)
			return
		}
	}
	var out []byte
	err := r.local.GetMulti(req.Context(), keys, func(i int, it kv.Item) { out = appendRecord(out, i, it) })
	if err != nil {
		writeErr(w, err)
		return
	}
	w.Write(out)
}

// notOwner refuses a key this instance does not own: serving it would hand
// out a value the owner may have changed or deleted since.
func notOwner(w http.ResponseWriter, key string) {
	w.Header().Set(hdrError, "notowner")
	http.Error(w, "ringkv: this instance does not own "+strconv.Quote(key)+" in its view of the ring", http.StatusMisdirectedRequest)
}

func writeErr(w http.ResponseWriter, err error) {
	switch {
	case errors.Is(err, kv.ErrNotFound):
		w.Header().Set(hdrError, "notfound")
		w.WriteHeader(http.StatusNotFound)
	case errors.Is(err, kv.ErrExists):
		w.Header().Set(hdrError, "exists")
		w.WriteHeader(http.StatusConflict)
	case errors.Is(err, kv.ErrConflict):
		w.Header().Set(hdrError, "conflict")
		w.WriteHeader(http.StatusConflict)
	default:
		http.Error(w, err.Error(), http.StatusInternalServerError)
	}
}
