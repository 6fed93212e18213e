package log_test

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/microos/go-os/internal/fakeclock"
	"github.com/microos/go-os/internal/testenv"
	"github.com/microos/go-os/log"
)

func writeLines(t *testing.T, f *log.File, from, to int) {
	t.Helper()
	for i := from; i < to; i++ {
		if _, err := fmt.Fprintf(f, "{\"n\":%d,\"pad\":\"%s\"}\n", i, strings.Repeat("x", 80)); err != nil {
			t.Fatalf("line %d: %v", i, err)
		}
	}
}

func TestFileRotatesOnSizeAndKeepsMaxBackups(t *testing.T) {
	clock := fakeclock.New(time.Date(2026, 11, 22, 1, 0, 0, 0, time.UTC))
	path := filepath.Join(t.TempDir(), "logs", "app.log")
	f, err := log.OpenFile(path, log.MaxSize(1000), log.MaxBackups(3), log.FileClock(clock.Now))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for i := range 10 {
		writeLines(t, f, i*10, i*10+10) // ~1 KB: a rotation every 10 lines
		clock.Advance(time.Millisecond)
	}
	backups, err := f.Backups()
	if err != nil {
		t.Fatal(err)
	}
	if len(backups) != 3 {
		t.Fatalf("%d backups, want 3 (MaxBackups): %v", len(backups), backups)
	}
	for _, b := range append(backups, path) {
		st, err := os.Stat(b)
		if err != nil {
			t.Fatal(err)
		}
		if st.Size() > 1000 {
			t.Errorf("%s is %d bytes, over MaxSize", b, st.Size())
		}
	}
	if !strings.HasPrefix(filepath.Base(backups[0]), "app-2026-11-22T01-00-00.") || filepath.Ext(backups[0]) != ".log" {
		t.Errorf("backup name %s, want app-<UTC time>.log", backups[0])
	}
	// The newest lines are all there, in order, across the kept files.
	all := string(readAll(t, f))
	if !strings.HasSuffix(strings.TrimSpace(all), fmt.Sprintf(`{"n":99,"pad":"%s"}`, strings.Repeat("x", 80))) {
		t.Errorf("last line missing")
	}
}

func TestFileRotatesOnTime(t *testing.T) {
	clock := fakeclock.New(time.Date(2026, 11, 22, 23, 59, 0, 0, time.UTC))
	path := filepath.Join(t.TempDir(), "app.log")
	f, err := log.OpenFile(path, log.RotateEvery(24*time.Hour), log.FileClock(clock.Now))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	writeLines(t, f, 0, 1)
	clock.Advance(30 * time.Second)
	writeLines(t, f, 1, 2) // same day
	clock.Advance(time.Minute)
	writeLines(t, f, 2, 3) // after midnight UTC
	backups, _ := f.Backups()
	if len(backups) != 1 || !strings.Contains(backups[0], "app-2026-11-23T00-00-30.000") {
		t.Fatalf("backups %v, want one rotated at 00:00:30", backups)
	}
	old, _ := os.ReadFile(backups[0])
	cur, _ := os.ReadFile(path)
	if strings.Count(string(old), "\n") != 2 || strings.Count(string(cur), "\n") != 1 {
		t.Fatalf("old has %q, current %q", old, cur)
	}
}

// An external logrotate renames the file and sends SIGHUP: Reopen starts
// a new file at the path.
func TestFileReopenAfterExternalRotation(t *testing.T) {
	path := filepath.Join(t.TempDir(), "app.log")
	f, err := log.OpenFile(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	writeLines(t, f, 0, 1)
	if err := os.Rename(path, path+".1"); err != nil {
		t.Fatal(err)
	}
	writeLines(t, f, 1, 2) // still to the renamed file, as with any open fd
	if err := f.Reopen(); err != nil {
		t.Fatal(err)
	}
	writeLines(t, f, 2, 3)
	moved, _ := os.ReadFile(path + ".1")
	cur, _ := os.ReadFile(path)
	if strings.Count(string(moved), "\n") != 2 || strings.Count(string(cur), "\n") != 1 {
		t.Fatalf("moved has %d lines, new %d; want 2 and 1", strings.Count(string(moved), "\n"), strings.Count(string(cur), "\n"))
	}
}

// A file removed under the logger is noticed within a second of clock
// time and recreated: writing resumes without a Reopen.
func TestFileRemovedUnderUsIsRecreated(t *testing.T) {
	clock := fakeclock.New(time.Date(2026, 11, 22, 1, 0, 0, 0, time.UTC))
	path := filepath.Join(t.TempDir(), "app.log")
	f, err := log.OpenFile(path, log.FileClock(clock.Now))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	writeLines(t, f, 0, 1)
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	clock.Advance(2 * time.Second)
	writeLines(t, f, 1, 2)
	cur, err := os.ReadFile(path)
	if err != nil || !strings.Contains(string(cur), `"n":1`) {
		t.Fatalf("after removal: %q, %v; want the new line in a new file", cur, err)
	}
}

// /dev/full fails every write with ENOSPC: the File counts the errors,
// never panics, and backs off reopening instead of retrying each write.
func TestFileDiskFull(t *testing.T) {
	needDevFull(t)
	clock := fakeclock.New(time.Date(2026, 11, 22, 1, 0, 0, 0, time.UTC))
	f, err := log.OpenFile("/dev/full", log.FileClock(clock.Now))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for i := range 5 {
		_, err := f.Write([]byte("{}\n"))
		if !errors.Is(err, log.ErrOutput) {
			t.Fatalf("write %d: %v, want ErrOutput", i, err)
		}
	}
	st := f.Stats()
	if st.Errors != 5 || st.Written != 0 || st.LastError == nil {
		t.Fatalf("Stats = %+v, want 5 errors", st)
	}
	clock.Advance(10 * time.Second) // past the backoff: the next write reopens, fails again
	if _, err := f.Write([]byte("{}\n")); !errors.Is(err, log.ErrOutput) {
		t.Fatalf("after backoff: %v", err)
	}
}

func TestFileBadOptions(t *testing.T) {
	if _, err := log.OpenFile(""); !errors.Is(err, log.ErrInvalidOption) {
		t.Errorf("empty path: %v", err)
	}
	if _, err := log.OpenFile(filepath.Join(t.TempDir(), "a.log"), log.MaxSize(-1)); !errors.Is(err, log.ErrInvalidOption) {
		t.Errorf("negative size: %v", err)
	}
	if _, err := log.OpenFile(filepath.Join("/proc", "no", "a.log")); !errors.Is(err, log.ErrOutput) {
		t.Errorf("uncreatable path: %v", err)
	}
}

// needDevFull skips a test that needs /dev/full where there is none, and
// fails it under CI, which runs on Linux.
func needDevFull(t *testing.T) {
	t.Helper()
	if _, err := os.Stat("/dev/full"); err != nil {
		if testenv.CI() {
			t.Fatalf("CI runs on Linux, which has /dev/full: %v", err)
		}
		t.Skip("no /dev/full on this system")
	}
}
