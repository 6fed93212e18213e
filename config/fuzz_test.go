package config_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/microos/go-os/config"
)

func FuzzDecodeJSON(f *testing.F) {
	for _, s := range []string{`{"a":{"b":[1,2.5,"x",true,null]}}`, `{"a":`, `[]`, `{"a":1e400}`, `{"a":-0}`, `{"":{"":""}}`, "\ufeff{}"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		tree, err := config.Decode("json", data)
		if err != nil {
			if !errors.Is(err, config.ErrParse) {
				t.Fatalf("error %v does not wrap ErrParse", err)
			}
			return
		}
		c, err := config.New(context.Background(), []config.Source{config.NewMemory(tree)}, config.WithStrictStart())
		if err != nil {
			t.Fatalf("a decoded document made New fail: %v", err)
		}
		defer c.Close()
		_ = c.Snapshot().String()
		var anything map[string]any
		if err := c.Scan(&anything); err != nil {
			t.Fatalf("Scan of the whole tree: %v", err)
		}
	})
}

func FuzzEnv(f *testing.F) {
	f.Add("APP_DB_POOL=10\nAPP_DB=x\nAPP__=y\nAPP_A_B_C=z", "_")
	f.Add("APP_X==\n=\nAPP_", "__")
	f.Fuzz(func(t *testing.T, environ, sep string) {
		env := config.NewEnv("APP_", config.EnvSeparator(sep), config.EnvFrom(strings.Split(environ, "\n")))
		c, err := config.New(context.Background(), []config.Source{env}, config.WithStrictStart())
		if err != nil {
			t.Fatalf("New: %v", err)
		}
		defer c.Close()
		_ = c.Snapshot().String()
	})
}

func FuzzOpen(f *testing.F) {
	for _, s := range []string{"mem://", "file:///etc/app.yaml?format=yaml&optional=true", "file:app.json", "env://APP_?sep=__", "file://", "%", "env:"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, url string) {
		src, err := config.OpenSource(context.Background(), url)
		if err != nil {
			return
		}
		_ = src.Name()
	})
}
