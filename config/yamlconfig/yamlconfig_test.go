package yamlconfig_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/microos/go-os/config"
	"github.com/microos/go-os/config/configtest"
	_ "github.com/microos/go-os/config/yamlconfig"
)

const doc = `
service:
  name: billing
  port: 8080
db: &db
  pool: 10
  timeout: 1.5s
  hosts: [db1, db2]
replica:
  <<: *db
  pool: 2
debug: true
ratio: 0.25
`

func TestFileYAML(t *testing.T) {
	path := filepath.Join(t.TempDir(), "app.yaml")
	if err := os.WriteFile(path, []byte(doc), 0o644); err != nil {
		t.Fatal(err)
	}
	c, err := config.New(context.Background(), []config.Source{config.NewFile(path)}, config.WithStrictStart())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if got := c.Get("service", "port").Int(0); got != 8080 {
		t.Errorf("service.port = %d", got)
	}
	if got := c.Get("db", "timeout").Duration(0); got != 1500*time.Millisecond {
		t.Errorf("db.timeout = %v", got)
	}
	if got := c.Get("replica", "hosts").StringSlice(nil); len(got) != 2 || got[1] != "db2" {
		t.Errorf("replica.hosts (from the alias) = %v", got)
	}
	if got := c.Get("replica", "pool").Int(0); got != 2 {
		t.Errorf("replica.pool = %d", got)
	}
	if !c.Get("debug").Bool(false) || c.Get("ratio").Float64(0) != 0.25 {
		t.Errorf("debug/ratio = %v/%v", c.Get("debug").Interface(), c.Get("ratio").Interface())
	}
}

func TestMalformedYAML(t *testing.T) {
	for _, bad := range []string{"a: [1, 2", "- a\n- b\n", "a: b: c", "", "null", "\t- x"} {
		if _, err := config.Decode("yaml", []byte(bad)); !errors.Is(err, config.ErrParse) {
			t.Errorf("Decode(%q) = %v, want ErrParse", bad, err)
		}
	}
}

func FuzzDecode(f *testing.F) {
	f.Add([]byte(doc))
	f.Add([]byte("a: &x [*x]"))
	f.Add([]byte("? [a]\n: b"))
	f.Add([]byte("a: !!binary aGVsbG8="))
	f.Add([]byte("1: one\n2.5: two\ntrue: three"))
	f.Fuzz(func(t *testing.T, data []byte) { configtest.CheckDecode(t, "yaml", data) })
}
