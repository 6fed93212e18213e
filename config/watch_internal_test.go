package config

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// TestPollFile runs the fallback used where inotify is missing.
func TestPollFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "app.json")
	os.WriteFile(path, []byte(`{"a":1}`), 0o644)
	ctx, cancel := context.WithCancel(context.Background())
	calls := make(chan struct{}, 16)
	done := make(chan error, 1)
	go func() {
		done <- pollFile(ctx, path, 2*time.Millisecond, func() { calls <- struct{}{} })
	}()
	<-calls                                       // once at start
	os.WriteFile(path, []byte(`{"a":22}`), 0o644) // size changes
	select {
	case <-calls:
	case <-time.After(10 * time.Second):
		t.Fatal("poll did not see the change")
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}
