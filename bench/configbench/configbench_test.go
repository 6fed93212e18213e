// Package configbench compares config with spf13/viper and knadh/koanf
// on the same reads, and with the floor: a bare atomic pointer to a map.
package configbench

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/knadh/koanf/providers/confmap"
	"github.com/knadh/koanf/v2"
	"github.com/spf13/viper"

	"github.com/microos/go-os/bench/internal/compare"
	"github.com/microos/go-os/config"
)

func values() map[string]any {
	return map[string]any{
		"db":      map[string]any{"pool": 10, "host": "db1", "timeout": "1s"},
		"service": map[string]any{"name": "billing", "port": 8080},
	}
}

func ours(t testing.TB) *config.Config {
	c, err := config.New(context.Background(), []config.Source{config.NewMemory(values())})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func peerViper() *viper.Viper {
	v := viper.New()
	if err := v.MergeConfigMap(values()); err != nil {
		panic(err)
	}
	return v
}

func peerKoanf() *koanf.Koanf {
	k := koanf.New(".")
	if err := k.Load(confmap.Provider(values(), ""), nil); err != nil {
		panic(err)
	}
	return k
}

type db struct {
	Pool    int           `json:"pool" mapstructure:"pool"`
	Host    string        `json:"host" mapstructure:"host"`
	Timeout time.Duration `json:"timeout" mapstructure:"timeout"`
}

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

func TestCompare(t *testing.T) {
	c := ours(t)
	defer c.Close()
	v, k := peerViper(), peerKoanf()
	acc := c.Accessor("db", "pool")
	var bare atomic.Pointer[map[string]any]
	m := values()
	bare.Store(&m)

	getOurs := func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if c.Get("db", "pool").Int(0) != 10 {
				b.Fatal("wrong value")
			}
		}
	}
	compare.Run(t,
		compare.Case{Name: "config/get-nested-int vs viper", Ours: getOurs, Peer: func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if v.GetInt("db.pool") != 10 {
					b.Fatal("wrong value")
				}
			}
		}},
		compare.Case{Name: "config/get-nested-int vs koanf", Ours: getOurs, Peer: func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if k.Int("db.pool") != 10 {
					b.Fatal("wrong value")
				}
			}
		}},
		compare.Case{Name: "config/get-nested-int vs atomic map", Ours: getOurs, Peer: func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if (*bare.Load())["db"].(map[string]any)["pool"].(int) != 10 {
					b.Fatal("wrong value")
				}
			}
		}},
		compare.Case{Name: "config/accessor-int vs atomic map", Ours: func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if acc.Get().Int(0) != 10 {
					b.Fatal("wrong value")
				}
			}
		}, Peer: func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if (*bare.Load())["db"].(map[string]any)["pool"].(int) != 10 {
					b.Fatal("wrong value")
				}
			}
		}},
		compare.Case{Name: "config/get-duration vs viper", Ours: func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if c.Get("db", "timeout").Duration(0) != time.Second {
					b.Fatal("wrong value")
				}
			}
		}, Peer: func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if v.GetDuration("db.timeout") != time.Second {
					b.Fatal("wrong value")
				}
			}
		}},
		compare.Case{Name: "config/scan-struct vs viper.UnmarshalKey", Ours: func(b *testing.B) {
			b.ReportAllocs()
			var d db
			for b.Loop() {
				if err := c.Scan(&d, "db"); err != nil || d.Pool != 10 {
					b.Fatal(err)
				}
			}
		}, Peer: func(b *testing.B) {
			b.ReportAllocs()
			var d db
			for b.Loop() {
				if err := v.UnmarshalKey("db", &d); err != nil || d.Pool != 10 {
					b.Fatal(err)
				}
			}
		}},
		compare.Case{Name: "config/reload-1000-keys vs koanf.Load", Ours: func(b *testing.B) {
			trees := [2]map[string]any{thousandKeys(0), thousandKeys(1)}
			src := &flipSource{trees: trees}
			rc, err := config.New(context.Background(), []config.Source{src})
			if err != nil {
				b.Fatal(err)
			}
			defer rc.Close()
			b.ReportAllocs()
			for b.Loop() {
				src.gen.Add(1)
				if err := rc.Reload(context.Background()); err != nil {
					b.Fatal(err)
				}
			}
		}, Peer: func(b *testing.B) {
			trees := [2]map[string]any{thousandKeys(0), thousandKeys(1)}
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				i++
				kk := koanf.New(".")
				if err := kk.Load(confmap.Provider(trees[i%2], ""), nil); err != nil {
					b.Fatal(err)
				}
			}
		}},
	)
}

// flipSource alternates between two trees, so that every reload changes
// the configuration.
type flipSource struct {
	trees [2]map[string]any
	gen   atomic.Int64
}

func (f *flipSource) Name() string { return "flip" }
func (f *flipSource) Load(context.Context) (map[string]any, error) {
	return f.trees[f.gen.Load()%2], nil
}
