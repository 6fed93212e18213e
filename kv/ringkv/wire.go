package ringkv

import (
	"encoding/binary"
	"errors"
	"strconv"
	"time"

	"github.com/microos/go-os/kv"
)

// The peer protocol: POST {peer}/{op}?k=KEY[&ttl=MS][&v=VERSION], the
// value as the body of writes. A get answers the value with the headers
// below; getmulti sends the keys one per line (keys cannot hold a newline)
// and answers records of uvarints: index, version, ttl ms, length, then
// the value's bytes. Errors are status codes: 404 with Kv-Error notfound,
// 409 with Kv-Error exists or conflict, 400 invalid, 413 too large.
const (
	hdrVersion = "Kv-Version"
	hdrTTL     = "Kv-Ttl"
	hdrError   = "Kv-Error"
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
