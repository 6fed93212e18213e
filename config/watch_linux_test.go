//go:build linux

package config

import (
	"encoding/binary"
	"syscall"
	"testing"
)

// inotifyEvent encodes one event the way the kernel does.
func inotifyEvent(mask uint32, name string) []byte {
	padded := (len(name) + 1 + 15) / 16 * 16
	if name == "" {
		padded = 0
	}
	b := make([]byte, 16+padded)
	binary.NativeEndian.PutUint32(b[4:8], mask)
	binary.NativeEndian.PutUint32(b[12:16], uint32(padded))
	copy(b[16:], name)
	return b
}

func TestScanEvents(t *testing.T) {
	cat := func(parts ...[]byte) []byte {
		var out []byte
		for _, p := range parts {
			out = append(out, p...)
		}
		return out
	}
	for _, tc := range []struct {
		name           string
		buf            []byte
		relevant, gone bool
	}{
		{"other file", inotifyEvent(syscall.IN_CLOSE_WRITE, "other.json"), false, false},
		{"the file", cat(inotifyEvent(syscall.IN_CREATE, "x"), inotifyEvent(syscall.IN_MOVED_TO, "app.json")), true, false},
		{"a temporary beside it", inotifyEvent(syscall.IN_CLOSE_WRITE, "app.json.tmp"), false, false},
		{"kubernetes symlink swap", inotifyEvent(syscall.IN_MOVED_TO, "..data"), true, false},
		{"overflow", inotifyEvent(syscall.IN_Q_OVERFLOW, ""), true, false},
		{"directory removed", inotifyEvent(syscall.IN_DELETE_SELF, ""), false, true},
		{"truncated buffer", inotifyEvent(syscall.IN_MODIFY, "app.json")[:20], false, false},
	} {
		relevant, gone := scanEvents(tc.buf, "app.json")
		if relevant != tc.relevant || gone != tc.gone {
			t.Errorf("%s: relevant, gone = %v, %v; want %v, %v", tc.name, relevant, gone, tc.relevant, tc.gone)
		}
	}
}
