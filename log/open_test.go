package log_test

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/microos/go-os/log"
)

func TestOpen(t *testing.T) {
	ctx := context.Background()
	l, err := log.Open(ctx, "mem://?level=debug&service=api&version=2&instance=i-1&sample_first=5&async=true&policy=drop&buffer=1MiB")
	if err != nil {
		t.Fatal(err)
	}
	l.Debug("hello", "password", "p")
	if l.Level() != slog.LevelDebug {
		t.Errorf("level %v", l.Level())
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	m := l.Outputs()[0].(*log.Memory)
	es := entries(t, m)
	if len(es) != 1 || es[0]["service"] != "api" || es[0]["version"] != "2" || es[0]["instance"] != "i-1" || es[0]["password"] != log.Redacted {
		t.Fatalf("entries %v", es)
	}
	if _, err := m.Write([]byte("{}\n")); !errors.Is(err, log.ErrClosed) {
		t.Errorf("Open's output not closed by Close: %v", err)
	}
}

func TestOpenFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "app.log")
	l, err := log.Open(context.Background(), "file://"+path+"?max_size=1KB&rotate=daily&max_backups=2&format=json")
	if err != nil {
		t.Fatal(err)
	}
	for i := range 100 {
		l.Info("line", "n", i)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	matches, _ := filepath.Glob(filepath.Join(dir, "app-*.log"))
	if len(matches) != 2 {
		t.Fatalf("backups %v, want 2", matches)
	}
	b, _ := os.ReadFile(path)
	if !strings.Contains(string(b), `"n":99`) {
		t.Fatalf("last line missing: %s", b)
	}
}

func TestOpenRelativeFileAndText(t *testing.T) {
	t.Chdir(t.TempDir())
	l, err := log.Open(context.Background(), "file:app.log?format=text&level=warn")
	if err != nil {
		t.Fatal(err)
	}
	l.Warn("careful", "k", "v")
	l.Close()
	b, _ := os.ReadFile("app.log")
	if !strings.Contains(string(b), "level=WARN msg=careful k=v") {
		t.Fatalf("text line: %q", b)
	}
}

func TestOpenErrors(t *testing.T) {
	for _, raw := range []string{
		"nope://", "stderr://?bogus=1", "mem://?level=loud", "mem://?format=xml",
		"mem://?policy=maybe", "mem://?buffer=lots", "mem://?sample_first=-1",
		"mem://?block_for=soon", "mem://?async=perhaps", "mem://?source=yes please",
		"file://host/x.log", "file://", "file:///tmp/x.log?rotate=weekly", "file:///tmp/x.log?max_size=9EB",
		"file:///tmp/x.log?max_backups=many", "file:///tmp/x.log?colour=red", "%zz",
	} {
		if l, err := log.Open(context.Background(), raw); err == nil {
			l.Close()
			t.Errorf("Open(%q) succeeded", raw)
		} else if !strings.HasPrefix(err.Error(), "log: open") {
			t.Errorf("Open(%q) = %v, want a log: open error", raw, err)
		}
	}
}

func TestParseSize(t *testing.T) {
	for in, want := range map[string]int64{"0": 0, "10": 10, "10b": 10, "2KB": 2000, "2KiB": 2048, "3 MiB": 3 << 20, "1GB": 1e9, "1gib": 1 << 30} {
		if got, err := log.ParseSize(in); err != nil || got != want {
			t.Errorf("ParseSize(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"", "MB", "-1", "1TB", "99999999999999999999", "90000000000GB"} {
		if _, err := log.ParseSize(in); !errors.Is(err, log.ErrInvalidOption) {
			t.Errorf("ParseSize(%q) = %v, want ErrInvalidOption", in, err)
		}
	}
}

func TestOpenBlockFor(t *testing.T) {
	l, err := log.Open(context.Background(), "stderr://?async=true&policy=block&block_for=5ms&level=error")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := l.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
}
