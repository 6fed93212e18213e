package log_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"math"
	"net/url"
	"strconv"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/microos/go-os/log"
)

// FuzzJSONHandler: whatever the caller logs, the line is one valid JSON
// object, and valid UTF-8 comes back as it went in.
func FuzzJSONHandler(f *testing.F) {
	for _, s := range []string{"", "plain", "quo\"te", "back\\slash", "nl\n", "\x00\x1f\x7f", "é世界", "\xff\xfe", "\u2028\u2029", "<>&"} {
		f.Add(s, s, int64(0), int64(0))
	}
	f.Add("k", "v", int64(-62135596800), int64(999999999))
	f.Add("k", "v", int64(253402300799), int64(1))
	f.Add("n", "v", int64(math.MinInt64), int64(math.MaxInt64))
	f.Fuzz(func(t *testing.T, key, value string, sec, nsec int64) {
		var buf bytes.Buffer
		h := log.NewJSONHandler(&buf, nil)
		at := time.Unix(sec, nsec%1e9)
		r := slog.NewRecord(at, slog.LevelInfo, value, 0)
		r.AddAttrs(slog.String(key, value), slog.Group("g", slog.String(key, value)),
			slog.Int64("i", sec), slog.Uint64("u", uint64(nsec)))
		if err := h.Handle(context.Background(), r); err != nil {
			t.Fatal(err)
		}
		line := buf.Bytes()
		if bytes.Count(line, []byte{'\n'}) != 1 || line[len(line)-1] != '\n' {
			t.Fatalf("not one line: %q", line)
		}
		var m map[string]any
		if err := json.Unmarshal(line, &m); err != nil {
			t.Fatalf("invalid JSON %q: %v", line, err)
		}
		if utf8.ValidString(value) && m["msg"] != value {
			t.Fatalf("msg %q came back as %q", value, m["msg"])
		}
		for _, num := range []string{`"i":` + strconv.FormatInt(sec, 10) + ",", `"u":` + strconv.FormatUint(uint64(nsec), 10) + "}"} {
			if !bytes.Contains(line, []byte(num)) {
				t.Fatalf("line %q lacks %s", line, num)
			}
		}
		if at.IsZero() {
			if _, ok := m["time"]; ok {
				t.Fatalf("zero time written: %q", line)
			}
		} else if y := at.UTC().Year(); y >= 0 && y <= 9999 {
			if want := at.UTC().Format("2006-01-02T15:04:05.000000Z"); m["time"] != want {
				t.Fatalf("time %v written as %v, want %s", at, m["time"], want)
			}
		}
	})
}

func FuzzParseSize(f *testing.F) {
	for _, s := range []string{"0", "10MB", "1 GiB", "kb", "-1", "99999999999999999999GB", " 7 b "} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if n, err := log.ParseSize(s); err == nil && n < 0 {
			t.Fatalf("ParseSize(%q) = %d", s, n)
		}
	})
}

// FuzzOpen: no URL query makes Open panic or leak its goroutine.
func FuzzOpen(f *testing.F) {
	for _, q := range []string{"level=debug", "async=true&buffer=1KB&policy=drop", "sample_first=1&sample_thereafter=0&sample_interval=1ms",
		"format=text&source=true", "level=INFO+2&block_for=1s", "x=%zz", "level=warn&level=error"} {
		f.Add(q)
	}
	f.Fuzz(func(t *testing.T, query string) {
		l, err := log.Open(context.Background(), "mem://?"+query)
		if err != nil {
			if _, perr := url.ParseQuery(query); perr == nil && err.Error() == "" {
				t.Fatal("empty error")
			}
			return
		}
		l.Info("fuzz")
		if err := l.Close(); err != nil {
			t.Fatal(err)
		}
	})
}
