package config_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"go.uber.org/goleak"

	"github.com/microos/go-os/config"
	"github.com/microos/go-os/config/configtest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestMemoryConformance(t *testing.T) {
	configtest.Run(t, func(t *testing.T) configtest.Backend {
		m := config.NewMemory(nil)
		return configtest.Backend{
			Source: m,
			Set:    func(_ context.Context, tree map[string]any) error { return m.Set(tree) },
		}
	})
}

func TestFileConformance(t *testing.T) {
	configtest.Run(t, func(t *testing.T) configtest.Backend {
		dir := t.TempDir()
		path := filepath.Join(dir, "app.json")
		return configtest.Backend{
			Source: config.NewFile(path, config.Debounce(10e6)),
			Set: func(_ context.Context, tree map[string]any) error {
				return writeJSON(path, tree)
			},
			SetGarbage: func(context.Context) error {
				return os.WriteFile(path, []byte(`{"db": {"pool": "10",`), 0o644) // half-written
			},
			SetOverlay: func(_ context.Context, env string, tree map[string]any) error {
				return writeJSON(filepath.Join(dir, "app."+env+".json"), tree)
			},
		}
	})
}

// writeJSON saves the way editors do: a temporary file renamed over the
// original, which a watch on the file itself would lose.
func writeJSON(path string, tree map[string]any) error {
	b, err := json.Marshal(tree)
	if err != nil {
		return err
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, b, 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

func TestEnvConformance(t *testing.T) {
	n := 0
	configtest.Run(t, func(t *testing.T) configtest.Backend {
		n++
		prefix := fmt.Sprintf("GOOS_CONFTEST%d_", n)
		return configtest.Backend{
			Source: config.NewEnv(prefix, config.EnvSeparator("__")),
			Set: func(_ context.Context, tree map[string]any) error {
				for _, kv := range os.Environ() {
					if name, _, _ := strings.Cut(kv, "="); strings.HasPrefix(name, prefix) {
						os.Unsetenv(name)
					}
				}
				var walk func(name string, m map[string]any)
				walk = func(name string, m map[string]any) {
					for k, v := range m {
						if sub, ok := v.(map[string]any); ok {
							walk(name+strings.ToUpper(k)+"__", sub)
							continue
						}
						t.Setenv(name+strings.ToUpper(k), v.(string))
					}
				}
				walk(prefix, tree)
				return nil
			},
		}
	})
}
