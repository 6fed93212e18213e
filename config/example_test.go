package config_test

import (
	"context"
	"fmt"
	"time"

	"github.com/microos/go-os/config"
)

func Example() {
	ctx := context.Background()
	defaults := config.NewMemory(map[string]any{
		"db":   map[string]any{"host": "localhost", "pool": 10, "password": "dev-only"},
		"http": map[string]any{"timeout": "5s"},
	})
	env := config.NewEnv("BILLING_", config.EnvFrom([]string{"BILLING_DB_POOL=25"}))
	cfg, err := config.New(ctx, []config.Source{defaults, env})
	if err != nil {
		panic(err)
	}
	defer cfg.Close()

	fmt.Println(cfg.Get("db", "pool").Int(1))
	fmt.Println(cfg.Get("http", "timeout").Duration(time.Second))
	fmt.Println(cfg.Get("db", "replicas").Int(0)) // missing: the default
	fmt.Println(cfg.Snapshot())                   // secrets masked
	// Output:
	// 25
	// 5s
	// 0
	// {"db":{"host":"localhost","password":"[REDACTED]","pool":"25"},"http":{"timeout":"5s"}}
}

func ExampleConfig_Watch() {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	mem := config.NewMemory(map[string]any{"feature": map[string]any{"beta": false}, "other": 1})
	cfg, err := config.New(ctx, []config.Source{mem})
	if err != nil {
		panic(err)
	}
	defer cfg.Close()

	changes := cfg.Watch(ctx, "feature", "beta")
	mem.SetValue(2, "other")              // not the watched path: nothing is sent
	mem.SetValue(true, "feature", "beta") // sent
	fmt.Println("beta:", (<-changes).Bool(false))
	// Output:
	// beta: true
}

func ExampleWithValidator() {
	ctx := context.Background()
	mem := config.NewMemory(map[string]any{"pool": 10})
	errs := make(chan error, 1)
	cfg, err := config.New(ctx, []config.Source{mem},
		config.WithValidator(func(s *config.Snapshot) error {
			if n := s.Get("pool").Int(0); n < 1 || n > 100 {
				return fmt.Errorf("pool %d is not in 1..100", n)
			}
			return nil
		}),
		config.WithErrorHandler(func(err error) { errs <- err }))
	if err != nil {
		panic(err)
	}
	defer cfg.Close()

	mem.SetValue(1000, "pool")
	fmt.Println(<-errs)
	fmt.Println("pool is still", cfg.Get("pool").Int(0))
	// Output:
	// config: validate memory: config: invalid configuration: pool 1000 is not in 1..100
	// pool is still 10
}

func ExampleSnapshot_Scan() {
	cfg, err := config.New(context.Background(), []config.Source{
		config.NewMemory(map[string]any{"db": map[string]any{"host": "db1", "pool": "20", "timeout": "1.5s"}}),
	})
	if err != nil {
		panic(err)
	}
	defer cfg.Close()

	var db struct {
		Host    string        `json:"host"`
		Pool    int           `json:"pool"`
		Timeout time.Duration `json:"timeout"`
	}
	if err := cfg.Snapshot().Scan(&db, "db"); err != nil {
		panic(err)
	}
	fmt.Printf("%+v\n", db)
	// Output:
	// {Host:db1 Pool:20 Timeout:1.5s}
}

func ExampleWithEnvironment() {
	// In a real service both are files: app.json and app.prod.json.
	base := config.NewMemory(map[string]any{"db": map[string]any{"host": "db-dev", "pool": 5}, "log": "debug"})
	prod := config.NewMemory(map[string]any{"db": map[string]any{"host": "db-prod"}, "log": "info"})
	cfg, err := config.New(context.Background(), []config.Source{overlaid{base, map[string]config.Source{"prod": prod}}},
		config.WithEnvironment("prod"))
	if err != nil {
		panic(err)
	}
	defer cfg.Close()
	fmt.Println(cfg.Get("db", "host").String(""), cfg.Get("db", "pool").Int(0), cfg.Get("log").String(""))
	// Output:
	// db-prod 5 info
}

// overlaid gives a memory source per-environment overlays, as File and
// consulconfig have.
type overlaid struct {
	*config.Memory
	envs map[string]config.Source
}

func (o overlaid) Overlay(env string) config.Source { return o.envs[env] }
