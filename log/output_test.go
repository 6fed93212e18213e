package log_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/microos/go-os/log"
	"github.com/microos/go-os/log/logtest"
)

func TestMemoryConformance(t *testing.T) {
	logtest.Run(t, func(t *testing.T) (log.Output, func(*testing.T) []byte) {
		m := log.NewMemory()
		return m, func(*testing.T) []byte { return m.Bytes() }
	})
}

// The file output's backend is the file system: the suite reads back what
// reached the disk.
func TestFileConformance(t *testing.T) {
	logtest.Run(t, newFile())
}

func TestRotatingFileConformance(t *testing.T) {
	// Rotation must not lose or reorder lines: read back the backups too.
	logtest.Run(t, func(t *testing.T) (log.Output, func(*testing.T) []byte) {
		path := filepath.Join(t.TempDir(), "app.log")
		f, err := log.OpenFile(path, log.MaxSize(64<<10))
		if err != nil {
			t.Fatal(err)
		}
		return f, func(t *testing.T) []byte { return readAll(t, f) }
	})
}

func TestAsyncConformance(t *testing.T) {
	logtest.Run(t, func(t *testing.T) (log.Output, func(*testing.T) []byte) {
		m := log.NewMemory()
		a, err := log.NewAsync([]log.Output{m}, log.BufferSize(8<<10))
		if err != nil {
			t.Fatal(err)
		}
		return a, func(*testing.T) []byte { return m.Bytes() }
	})
}

func TestAsyncFileConformance(t *testing.T) {
	logtest.Run(t, func(t *testing.T) (log.Output, func(*testing.T) []byte) {
		out, readBack := newFile()(t)
		a, err := log.NewAsync([]log.Output{out})
		if err != nil {
			t.Fatal(err)
		}
		return a, readBack
	})
}

func newFile(opts ...log.FileOption) logtest.NewOutput {
	return func(t *testing.T) (log.Output, func(*testing.T) []byte) {
		path := filepath.Join(t.TempDir(), "app.log")
		f, err := log.OpenFile(path, opts...)
		if err != nil {
			t.Fatal(err)
		}
		return f, func(t *testing.T) []byte {
			b, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			return b
		}
	}
}

// readAll returns the backups, oldest first, then the current file.
func readAll(t *testing.T, f *log.File) []byte {
	t.Helper()
	backups, err := f.Backups()
	if err != nil {
		t.Fatal(err)
	}
	var all []byte
	for _, p := range append(backups, f.Path()) {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, b...)
	}
	return all
}
