package log

import (
	"errors"
	"fmt"
	"github.com/microos/go-os/internal/backoff"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// FileOption configures OpenFile. Without any, the File appends to one
// file for ever.
type FileOption func(*fileOptions)

type fileOptions struct {
	maxSize     int64
	rotateEvery time.Duration
	maxBackups  int
	perm        fs.FileMode
	now         func() time.Time
}

// MaxSize rotates the file before a write would take it past bytes.
func MaxSize(bytes int64) FileOption { return func(o *fileOptions) { o.maxSize = bytes } }

// RotateEvery rotates the file when the wall clock enters a new period of
// length d, periods being aligned as time.Truncate aligns them (24h
// rotates at midnight UTC, 1h on the hour).
func RotateEvery(d time.Duration) FileOption { return func(o *fileOptions) { o.rotateEvery = d } }

// MaxBackups keeps n rotated files, removing the oldest first; without it
// they are all kept.
func MaxBackups(n int) FileOption { return func(o *fileOptions) { o.maxBackups = n } }

// FileMode sets the mode of created files; the default is 0644.
func FileMode(perm fs.FileMode) FileOption { return func(o *fileOptions) { o.perm = perm } }

// FileClock sets the clock that rotation and the removal check read, so
// that tests move time instead of sleeping.
func FileClock(now func() time.Time) FileOption { return func(o *fileOptions) { o.now = now } }

// File is an Output appending JSON lines to a file for Filebeat, Fluent Bit
// or Logstash to ship: it rotates on size and time, keeps MaxBackups
// rotated files, and reopens its path on Reopen (call it on SIGHUP after an
// external logrotate has moved the file).
//
// A File survives its disk: a failed write (disk full, I/O error) is
// counted, the file is closed, and a later write reopens it after a capped,
// jittered backoff; a file removed or renamed under it is noticed within a
// second and recreated. Lines written while it is broken are lost and
// counted in Stats.Errors; Write never blocks past its own syscall.
//
// Rotated files are named after the file with the UTC time of rotation
// before the extension: app.log becomes app-2026-11-22T01-02-03.000.log.
//
// To reopen on SIGHUP, as logrotate's postrotate expects:
//
//	hup := make(chan os.Signal, 1)
//	signal.Notify(hup, syscall.SIGHUP)
//	go func() {
//		for range hup {
//			logger.Reopen()
//		}
//	}()
type File struct {
	path string
	opt  fileOptions

	mu        sync.Mutex
	f         *os.File
	size      int64
	periodEnd time.Time // zero when RotateEvery is 0
	checkAt   time.Time // next check that path is still our file
	retryAt   time.Time // while f is nil after a failure: next reopen
	failures  int       // consecutive, for the reopen backoff
	closed    bool

	counters
}

const (
	checkEvery = time.Second
	minBackoff = 10 * time.Millisecond
	maxBackoff = 5 * time.Second
)

// OpenFile opens (creating it, and its directory, if needed) path for
// appending.
func OpenFile(path string, opts ...FileOption) (*File, error) {
	o := fileOptions{perm: 0o644, now: time.Now}
	for _, opt := range opts {
		opt(&o)
	}
	if path == "" {
		return nil, invalid("file: empty path")
	}
	if o.maxSize < 0 || o.rotateEvery < 0 || o.maxBackups < 0 {
		return nil, invalid("file %s: negative MaxSize %d, RotateEvery %s or MaxBackups %d", path, o.maxSize, o.rotateEvery, o.maxBackups)
	}
	l := &File{path: path, opt: o}
	if err := l.open(o.now()); err != nil {
		return nil, err
	}
	return l, nil
}

// open opens the path for appending; called with mu held (or before the
// File is shared).
func (l *File) open(now time.Time) error {
	if err := os.MkdirAll(filepath.Dir(l.path), 0o755); err != nil {
		return outputError(err)
	}
	f, err := os.OpenFile(l.path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, l.opt.perm)
	if err != nil {
		return outputError(err)
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return outputError(err)
	}
	l.f, l.size = f, st.Size()
	l.checkAt = now.Add(checkEvery)
	if l.opt.rotateEvery > 0 {
		l.periodEnd = now.Truncate(l.opt.rotateEvery).Add(l.opt.rotateEvery)
	}
	return nil
}

// Write appends p, rotating first when p would take the file past MaxSize
// or the rotation period has ended.
func (l *File) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return 0, fmt.Errorf("log: file %s: %w", l.path, ErrClosed)
	}
	now := l.opt.now()
	if err := l.ready(now, len(p)); err != nil {
		return 0, l.count(err)
	}
	n, err := l.f.Write(p)
	l.size += int64(n)
	if err != nil {
		l.broken(now)
		return n, l.count(outputError(err))
	}
	l.failures = 0
	l.ok(1)
	return n, nil
}

// ready makes l.f the file that the next n bytes go to.
func (l *File) ready(now time.Time, n int) error {
	if l.f == nil {
		if now.Before(l.retryAt) {
			return fmt.Errorf("%w: %s is unavailable until %s", ErrOutput, l.path, l.retryAt.Format(time.RFC3339Nano))
		}
		if err := l.open(now); err != nil {
			l.broken(now)
			return err
		}
	}
	if !now.Before(l.checkAt) {
		l.checkAt = now.Add(checkEvery)
		if !l.stillOurs() {
			l.f.Close()
			l.f = nil
			if err := l.open(now); err != nil {
				l.broken(now)
				return err
			}
		}
	}
	if (l.opt.maxSize > 0 && l.size > 0 && l.size+int64(n) > l.opt.maxSize) ||
		(l.opt.rotateEvery > 0 && !now.Before(l.periodEnd)) {
		return l.rotate(now)
	}
	return nil
}

// stillOurs reports whether path still names the open file; false after
// it was removed or renamed under us.
func (l *File) stillOurs() bool {
	onDisk, err := os.Stat(l.path)
	if err != nil {
		return false
	}
	open, err := l.f.Stat()
	return err == nil && os.SameFile(onDisk, open)
}

// broken closes the file after a failure and schedules the next reopen.
func (l *File) broken(now time.Time) {
	if l.f != nil {
		l.f.Close()
		l.f = nil
	}
	l.retryAt = now.Add(backoff.Delay(l.failures, minBackoff, maxBackoff))
	l.failures++
}

func (l *File) count(err error) error { return l.fail(err) }

// rotate moves the current file aside, opens a new one and prunes old
// backups; called with mu held.
func (l *File) rotate(now time.Time) error {
	if err := l.f.Close(); err != nil {
		l.count(outputError(err))
	}
	l.f = nil
	if err := os.Rename(l.path, l.backupName(now)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		l.count(outputError(err)) // keep appending to the same file
	}
	if err := l.open(now); err != nil {
		l.broken(now)
		return err
	}
	if l.opt.maxBackups > 0 {
		l.prune()
	}
	return nil
}

const backupTimeFormat = "2006-01-02T15-04-05.000"

func (l *File) backupName(now time.Time) string {
	dir, prefix, ext := l.split()
	name := filepath.Join(dir, prefix+now.UTC().Format(backupTimeFormat)+ext)
	for i := 1; ; i++ { // two rotations within a millisecond
		if _, err := os.Lstat(name); errors.Is(err, fs.ErrNotExist) {
			return name
		}
		name = filepath.Join(dir, fmt.Sprintf("%s%s.%d%s", prefix, now.UTC().Format(backupTimeFormat), i, ext))
	}
}

// split returns the directory, the backup name prefix ("app-") and the
// extension (".log") of the path.
func (l *File) split() (dir, prefix, ext string) {
	dir, base := filepath.Split(l.path)
	ext = filepath.Ext(base)
	return dir, strings.TrimSuffix(base, ext) + "-", ext
}

// Backups lists the rotated files, oldest first.
func (l *File) Backups() ([]string, error) {
	dir, prefix, ext := l.split()
	if dir == "" {
		dir = "."
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	type backup struct {
		name  string
		stamp string
		seq   int // the .N of a second rotation within a millisecond
	}
	var found []backup
	for _, e := range entries {
		name := e.Name()
		if !e.Type().IsRegular() || !strings.HasPrefix(name, prefix) || !strings.HasSuffix(name, ext) ||
			len(name) < len(prefix)+len(backupTimeFormat)+len(ext) {
			continue
		}
		rest := name[len(prefix) : len(name)-len(ext)]
		stamp, seq := rest[:len(backupTimeFormat)], 0
		if _, err := time.Parse(backupTimeFormat, stamp); err != nil {
			continue
		}
		if tail := rest[len(backupTimeFormat):]; tail != "" {
			n, err := strconv.Atoi(strings.TrimPrefix(tail, "."))
			if err != nil || tail[0] != '.' {
				continue
			}
			seq = n
		}
		found = append(found, backup{filepath.Join(dir, name), stamp, seq})
	}
	slices.SortFunc(found, func(a, b backup) int {
		if c := strings.Compare(a.stamp, b.stamp); c != 0 {
			return c
		}
		return a.seq - b.seq
	})
	out := make([]string, len(found))
	for i, b := range found {
		out[i] = b.name
	}
	return out, nil
}

func (l *File) prune() {
	backups, err := l.Backups()
	if err != nil {
		l.count(outputError(err))
		return
	}
	for len(backups) > l.opt.maxBackups {
		if err := os.Remove(backups[0]); err != nil && !errors.Is(err, fs.ErrNotExist) {
			l.count(outputError(err))
		}
		backups = backups[1:]
	}
}

// Reopen closes the file and opens its path again: after an external
// logrotate renamed the file, writing goes on in a new one.
func (l *File) Reopen() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return fmt.Errorf("log: file %s: %w", l.path, ErrClosed)
	}
	if l.f != nil {
		l.f.Close()
		l.f = nil
	}
	if err := l.open(l.opt.now()); err != nil {
		l.broken(l.opt.now())
		return l.count(err)
	}
	return nil
}

// Rotate rotates the file now, whatever its size and age.
func (l *File) Rotate() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return fmt.Errorf("log: file %s: %w", l.path, ErrClosed)
	}
	now := l.opt.now()
	if l.f == nil {
		if err := l.open(now); err != nil {
			return l.count(err)
		}
	}
	return l.rotate(now)
}

// Sync commits the file's contents to stable storage (fsync).
func (l *File) Sync() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.f == nil {
		return nil
	}
	if err := l.f.Sync(); err != nil {
		return l.count(outputError(err))
	}
	return nil
}

// Close syncs and closes the file; it is idempotent.
func (l *File) Close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed || l.f == nil {
		l.closed = true
		return nil
	}
	l.closed = true
	err := l.f.Sync()
	if cerr := l.f.Close(); err == nil {
		err = cerr
	}
	l.f = nil
	if err != nil {
		return outputError(err)
	}
	return nil
}

// Path returns the file's path.
func (l *File) Path() string { return l.path }

// Stats returns the file's counters: Written counts successful writes.
func (l *File) Stats() Stats {
	return l.counters.stats()
}
