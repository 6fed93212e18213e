package config_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/microos/go-os/config"
)

func benchConfig(b *testing.B) (*config.Config, *config.Memory) {
	m := config.NewMemory(map[string]any{
		"db":      map[string]any{"pool": 10, "host": "db1", "timeout": "1s"},
		"service": map[string]any{"name": "billing", "port": 8080},
	})
	c, err := config.New(context.Background(), []config.Source{m})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { c.Close() })
	return c, m
}

// BenchmarkGet is the typed read of a nested path the issue bounds at
// 30 ns and 0 allocs.
func BenchmarkGet(b *testing.B) {
	c, _ := benchConfig(b)
	b.ReportAllocs()
	var sum int
	for b.Loop() {
		sum += c.Get("db", "pool").Int(0)
	}
	if sum == 0 {
		b.Fatal("no value")
	}
}

func BenchmarkGetDuration(b *testing.B) {
	c, _ := benchConfig(b)
	b.ReportAllocs()
	for b.Loop() {
		if c.Get("db", "timeout").Duration(0) != time.Second {
			b.Fatal("wrong value")
		}
	}
}

func BenchmarkAccessor(b *testing.B) {
	c, _ := benchConfig(b)
	a := c.Accessor("db", "pool")
	b.ReportAllocs()
	var sum int
	for b.Loop() {
		sum += a.Get().Int(0)
	}
	if sum == 0 {
		b.Fatal("no value")
	}
}

func BenchmarkGetParallel(b *testing.B) {
	c, _ := benchConfig(b)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if c.Get("db", "pool").Int(0) != 10 {
				panic("wrong value")
			}
		}
	})
}

func BenchmarkScan(b *testing.B) {
	c, _ := benchConfig(b)
	var db struct {
		Pool    int           `json:"pool"`
		Host    string        `json:"host"`
		Timeout time.Duration `json:"timeout"`
	}
	b.ReportAllocs()
	for b.Loop() {
		if err := c.Scan(&db, "db"); err != nil {
			b.Fatal(err)
		}
	}
}

// thousandKeys is a 1,000-key tree: 50 sections of 20 keys.
func thousandKeys(gen int) map[string]any {
	tree := make(map[string]any, 50)
	for s := range 50 {
		sec := make(map[string]any, 20)
		for k := range 20 {
			sec[fmt.Sprintf("key%02d", k)] = fmt.Sprintf("value-%d-%d-%d", s, k, gen)
		}
		tree[fmt.Sprintf("section%02d", s)] = sec
	}
	return tree
}

// BenchmarkReload1000Keys is a full reload of a 1,000-key source (load,
// normalise, compare, merge with defaults, validate, publish, notify a
// watcher), which the issue bounds at 10 ms.
func BenchmarkReload1000Keys(b *testing.B) {
	trees := [2]map[string]any{thousandKeys(0), thousandKeys(1)}
	m := config.NewMemory(trees[0])
	defaults := config.NewMemory(map[string]any{"section00": map[string]any{"extra": 1}})
	c, err := config.New(context.Background(), []config.Source{defaults, m},
		config.WithValidator(func(s *config.Snapshot) error { return nil }))
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	ch := c.Watch(context.Background(), "section49", "key19")
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		i++
		m.Set(trees[i%2])
		if err := c.Reload(context.Background()); err != nil {
			b.Fatal(err)
		}
		<-ch
	}
}
