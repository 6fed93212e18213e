package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/microos/go-os/config"
)

// demoConfig shows a service reading its settings from layered sources
// (embedded defaults, a file with its prod overlay, the environment) and
// reacting to an edit of the file without a restart; a broken edit is
// rejected and the last good settings stay.
func demoConfig(ctx context.Context, w io.Writer) error {
	dir, err := os.MkdirTemp("", "go-os-demo-config")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	file := filepath.Join(dir, "app.json")
	if err := saveJSON(file, map[string]any{"http": map[string]any{"port": 8080, "timeout": "2s"}, "db": map[string]any{"host": "db-dev"}}); err != nil {
		return err
	}
	if err := saveJSON(filepath.Join(dir, "app.prod.json"), map[string]any{"db": map[string]any{"host": "db-prod", "password": "s3cret"}}); err != nil {
		return err
	}

	defaults := config.NewMemory(map[string]any{
		"http": map[string]any{"port": 80, "timeout": "5s"},
		"db":   map[string]any{"pool": 10},
	})
	env := config.NewEnv("DEMO_", config.EnvFrom([]string{"DEMO_DB_POOL=25"}))
	errs := make(chan error, 4)
	cfg, err := config.New(ctx, []config.Source{defaults, config.NewFile(file), env},
		config.WithEnvironment("prod"),
		config.WithValidator(func(s *config.Snapshot) error {
			if p := s.Get("http", "port").Int(0); p < 1 || p > 65535 {
				return fmt.Errorf("http.port %d is not a port", p)
			}
			return nil
		}),
		config.WithErrorHandler(func(err error) {
			select {
			case errs <- err:
			default:
			}
		}))
	if err != nil {
		return err
	}
	defer cfg.Close()

	port := cfg.Accessor("http", "port")
	fmt.Fprintf(w, "config: http.port=%d (file over default 80), http.timeout=%v, db.host=%s (prod overlay), db.pool=%d (env)\n",
		port.Get().Int(0), cfg.Get("http", "timeout").Duration(0), cfg.Get("db", "host").String(""), cfg.Get("db", "pool").Int(0))
	fmt.Fprintf(w, "config: dump %v\n", cfg.Snapshot())

	// Edit the file the way editors save (write a temporary file, rename
	// it over): the watch sees it and the service reacts.
	changes := cfg.Watch(ctx, "http")
	if err := saveJSON(file, map[string]any{"http": map[string]any{"port": 9090, "timeout": "2s"}, "db": map[string]any{"host": "db-dev"}}); err != nil {
		return err
	}
	select {
	case v := <-changes:
		fmt.Fprintf(w, "config: file edited: http changed to port %d, now served from %d\n", v.Map(nil)["port"], port.Get().Int(0))
	case <-time.After(10 * time.Second):
		return fmt.Errorf("the file edit was not seen")
	case <-ctx.Done():
		return ctx.Err()
	}

	// A broken edit (a port out of range) is rejected; 9090 stays.
	if err := saveJSON(file, map[string]any{"http": map[string]any{"port": 99999}}); err != nil {
		return err
	}
	select {
	case err := <-errs:
		fmt.Fprintf(w, "config: bad edit rejected (%v); http.port still %d\n", err, port.Get().Int(0))
	case <-time.After(10 * time.Second):
		return fmt.Errorf("the bad edit was not reported")
	case <-ctx.Done():
		return ctx.Err()
	}
	return nil
}

func saveJSON(path string, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, b, 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}
