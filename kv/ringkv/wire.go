package ringkv

import (
	"encoding/binary"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/microos/go-os/kv"
)

// The peer protocol over HTTP (conn.go has the per-key calls' faster
// road): POST {peer}/{op}?k=KEY[&ttl=MS][&v=VERSION] for the
// client operations get, set, add, cas and delete, the value as the body
// of writes; p is the receiver's place in the sender's list of the key's
// owners (above 0: the owners before it did not answer), h how many
// owners forwarded the call already, f=1 asks the receiver to decide the
// call without forwarding it (a joining instance's previous owner). A get
// answers the value with the headers below; getmulti sends the keys one
// per line (keys cannot hold a newline) and answers records of uvarints:
// index, version, ttl ms, length, then the value's bytes. Between owners:
// replicate sends replication records (below) to store when newer, peek
// answers this instance's record of a key, sync?from=URL answers 204 once
// this instance has handed its keys to the joiner at URL. Errors are
// status codes: 404 with Kv-Error notfound, 409 with Kv-Error exists or
// conflict, 400 invalid, 413 too large, 401 without the secret, 421 not
// an owner, 503 leaving or not answering (the caller tries the next
// owner), 502 decided but not stored on enough owners (it does not).
const (
	hdrVersion = "Kv-Version"
	hdrTTL     = "Kv-Ttl"
	hdrError   = "Kv-Error"
	hdrSecret  = "Kv-Secret"
)

// ttlMillis is a TTL on the wire: whole milliseconds, rounded up, so that
// an item with under a millisecond left is not sent as 0 ("no expiry").
func ttlMillis(ttl time.Duration) int64 {
	return int64(kv.CeilTTL(ttl, time.Millisecond) / time.Millisecond)
}

func formatUint(v uint64) string { return strconv.FormatUint(v, 10) }

func appendRecord(b []byte, i int, it kv.Item) []byte {
	b = binary.AppendUvarint(b, uint64(i))
	b = binary.AppendUvarint(b, it.Version)
	b = binary.AppendUvarint(b, uint64(ttlMillis(it.TTL)))
	b = binary.AppendUvarint(b, uint64(len(it.Value)))
	return append(b, it.Value...)
}

var errCorrupt = kv.Unavailable(errors.New("ringkv: corrupt getmulti answer"))

// readRecords decodes a getmulti answer for n keys.
func readRecords(b []byte, n int, found func(int, kv.Item)) error {
	for len(b) > 0 {
		var f [4]uint64
		for j := range f {
			v, k := binary.Uvarint(b)
			if k <= 0 {
				return errCorrupt
			}
			f[j], b = v, b[k:]
		}
		i, size := f[0], f[3]
		if i >= uint64(n) || size > uint64(len(b)) {
			return errCorrupt
		}
		found(int(i), kv.Item{
			Version: f[1],
			TTL:     time.Duration(f[2]) * time.Millisecond,
			Value:   b[:size:size],
		})
		b = b[size:]
	}
	return nil
}

// The replication records (POST {peer}/replicate, the answer of peek):
// uvarints flags (1: tombstone), version, ttl ms, key length, the key,
// value length, then the value's bytes.
func appendRec(b []byte, r record) []byte {
	var flags uint64
	if r.Dead {
		flags = 1
	}
	b = binary.AppendUvarint(b, flags)
	b = binary.AppendUvarint(b, r.Version)
	b = binary.AppendUvarint(b, uint64(ttlMillis(r.TTL)))
	b = binary.AppendUvarint(b, uint64(len(r.Key)))
	b = append(b, r.Key...)
	b = binary.AppendUvarint(b, uint64(len(r.Value)))
	return append(b, r.Value...)
}

var errCorruptRecords = kv.Unavailable(errors.New("ringkv: corrupt replication records"))

// readRecs decodes replication records, validating every key.
func readRecs(b []byte, each func(record) error) error {
	uv := func() (uint64, bool) {
		v, k := binary.Uvarint(b)
		if k <= 0 {
			return 0, false
		}
		b = b[k:]
		return v, true
	}
	for len(b) > 0 {
		flags, ok1 := uv()
		version, ok2 := uv()
		ttl, ok3 := uv()
		klen, ok4 := uv()
		if !ok1 || !ok2 || !ok3 || !ok4 || flags > 1 || klen > uint64(len(b)) || version == 0 || ttl > uint64(kv.MaxTTL/time.Millisecond) {
			return errCorruptRecords
		}
		key := string(b[:klen])
		b = b[klen:]
		vlen, ok := uv()
		if !ok || vlen > uint64(len(b)) || kv.ValidateKey(key) != nil {
			return errCorruptRecords
		}
		r := record{Key: key, Value: b[:vlen:vlen], Version: version, TTL: time.Duration(ttl) * time.Millisecond, Dead: flags == 1}
		b = b[vlen:]
		if err := each(r); err != nil {
			return err
		}
	}
	return nil
}

func errTooLargeForBound(size, bound int64) error {
	return fmt.Errorf("ringkv: an item of %d bytes does not fit the memory bound's shard of %d bytes (WithMaxBytes/16)", size, bound)
}
