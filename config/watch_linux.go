//go:build linux

package config

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// The events on the file's directory that may mean the file changed:
// written and closed, renamed onto or away, created, deleted. Watching the
// directory rather than the file survives the rename an editor saves with.
const dirEvents = syscall.IN_CLOSE_WRITE | syscall.IN_MODIFY | syscall.IN_MOVED_TO | syscall.IN_MOVED_FROM |
	syscall.IN_CREATE | syscall.IN_DELETE | syscall.IN_ATTRIB | syscall.IN_DELETE_SELF | syscall.IN_MOVE_SELF

// watchFile watches path's directory with inotify. The inotify descriptor
// is non-blocking, so the runtime's poller serves its reads: a read
// deadline implements the debounce, and closing the file when ctx is done
// ends the read, without another goroutine. Where inotify is unavailable
// it falls back to polling.
func watchFile(ctx context.Context, path string, debounce, poll time.Duration, changed func()) error {
	abs, err := filepath.Abs(path)
	if err != nil {
		return err
	}
	dir, base := filepath.Split(abs)
	fd, err := syscall.InotifyInit1(syscall.IN_CLOEXEC | syscall.IN_NONBLOCK)
	if err != nil {
		return pollFile(ctx, path, poll, changed)
	}
	f := os.NewFile(uintptr(fd), "inotify")
	defer f.Close()
	if _, err := syscall.InotifyAddWatch(fd, dir, dirEvents); err != nil {
		return fmt.Errorf("inotify watch %s: %w", dir, err)
	}
	stop := context.AfterFunc(ctx, func() { f.Close() })
	defer stop()

	changed() // whatever changed between the last Load and now
	buf := make([]byte, 64<<10)
	var first, last time.Time // the pending burst of events; zero: none
	for {
		if first.IsZero() {
			f.SetReadDeadline(time.Time{})
		} else {
			// Quiet for debounce, or at most 10 debounces after the
			// burst began, so a file written continuously still reloads.
			f.SetReadDeadline(minTime(last.Add(debounce), first.Add(10*debounce)))
		}
		n, err := f.Read(buf)
		switch {
		case errors.Is(err, os.ErrDeadlineExceeded):
			first, last = time.Time{}, time.Time{}
			changed()
			continue
		case ctx.Err() != nil:
			return nil
		case err != nil:
			return fmt.Errorf("inotify read: %w", err)
		}
		relevant, gone := scanEvents(buf[:n], base)
		if gone {
			return fmt.Errorf("directory %s was removed or moved", dir)
		}
		if relevant {
			now := time.Now()
			if first.IsZero() {
				first = now
			}
			last = now
		}
	}
}

// scanEvents reports whether any event in buf concerns the file named
// base (or a Kubernetes "..data" symlink swap, or a queue overflow), and
// whether the directory itself went away.
func scanEvents(buf []byte, base string) (relevant, gone bool) {
	for len(buf) >= syscall.SizeofInotifyEvent {
		mask := binary.NativeEndian.Uint32(buf[4:8])
		nameLen := int(binary.NativeEndian.Uint32(buf[12:16]))
		end := syscall.SizeofInotifyEvent + nameLen
		if end > len(buf) {
			return relevant, gone
		}
		name := strings.TrimRight(string(buf[syscall.SizeofInotifyEvent:end]), "\x00")
		buf = buf[end:]
		switch {
		case mask&(syscall.IN_DELETE_SELF|syscall.IN_MOVE_SELF|syscall.IN_IGNORED) != 0:
			gone = true
		case mask&syscall.IN_Q_OVERFLOW != 0, name == base, strings.HasPrefix(name, ".."):
			relevant = true
		}
	}
	return relevant, gone
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}
