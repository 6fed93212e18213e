package tomlconfig_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/microos/go-os/config"
	"github.com/microos/go-os/config/configtest"
	_ "github.com/microos/go-os/config/tomlconfig"
)

const doc = `
debug = true
started = 1979-05-27T07:32:00Z

[service]
name = "billing"
port = 8080

[db]
pool = 10
timeout = "1.5s"
hosts = ["db1", "db2"]
`

func TestFileTOML(t *testing.T) {
	path := filepath.Join(t.TempDir(), "app.toml")
	if err := os.WriteFile(path, []byte(doc), 0o644); err != nil {
		t.Fatal(err)
	}
	c, err := config.New(context.Background(), []config.Source{config.NewFile(path)}, config.WithStrictStart())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	var db struct {
		Pool    int           `json:"pool"`
		Timeout time.Duration `json:"timeout"`
		Hosts   []string      `json:"hosts"`
	}
	if err := c.Scan(&db, "db"); err != nil {
		t.Fatal(err)
	}
	if db.Pool != 10 || db.Timeout != 1500*time.Millisecond || len(db.Hosts) != 2 {
		t.Errorf("db = %+v", db)
	}
	if got := c.Get("started").String(""); got != "1979-05-27T07:32:00Z" {
		t.Errorf("started = %q", got)
	}
	if !c.Get("debug").Bool(false) {
		t.Errorf("debug = %v", c.Get("debug").Interface())
	}
}

func TestMalformedTOML(t *testing.T) {
	for _, bad := range []string{"a = ", "[a\nb = 1", "a = 1\na = 2", "", "= 1"} {
		if _, err := config.Decode("toml", []byte(bad)); !errors.Is(err, config.ErrParse) {
			t.Errorf("Decode(%q) = %v, want ErrParse", bad, err)
		}
	}
}

func FuzzDecode(f *testing.F) {
	f.Add([]byte(doc))
	f.Add([]byte("a = 1979-05-27"))
	f.Add([]byte("a = 07:32:00"))
	f.Add([]byte("[[x]]\na=1\n[[x]]\nb=2"))
	f.Fuzz(func(t *testing.T, data []byte) { configtest.CheckDecode(t, "toml", data) })
}
