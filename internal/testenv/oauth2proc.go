package testenv

import (
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"
)

// OAuth2Proc is an OpenID provider of the test's own: the same
// oidc-provider and scripts/oauth2-server.mjs that scripts/backends runs
// (same clients as OAuth2Server), on its own port, to restart with a new
// signing key or to kill. It is killed when the test ends.
type OAuth2Proc struct {
	t testing.TB
	// Issuer is the provider's issuer identifier (and base URL of its
	// endpoints); Addr is where it listens. They differ when the test
	// puts a proxy in front (StartOAuth2's issuer argument).
	Issuer, Addr string
	// Kid is the key id of the current signing key.
	Kid string

	node, script, dir string
	cmd               *exec.Cmd
	done              chan struct{}
}

// StartOAuth2 starts a provider signing with a new RSA key under kid
// (scripts/oauth2-server.mjs's own "go-os-test-1" when kid is empty).
// issuer is the URL it calls itself, "" for http://<its address>; a test
// that proxies the provider passes the proxy's URL.
func StartOAuth2(t testing.TB, issuer, kid string) *OAuth2Proc {
	t.Helper()
	p := &OAuth2Proc{t: t, node: Binary(t, "node"), Addr: FreePort(t), Issuer: issuer}
	if p.Issuer == "" {
		p.Issuer = "http://" + p.Addr
	}
	p.dir = oidcProviderDir(t)
	_, file, _, _ := runtime.Caller(0)
	p.script = filepath.Join(filepath.Dir(file), "..", "..", "scripts", "oauth2-server.mjs")
	t.Cleanup(p.Stop)
	p.Start(kid)
	return p
}

// oidcProviderDir is where scripts/backends installed oidc-provider.
func oidcProviderDir(t testing.TB) string {
	t.Helper()
	if d := os.Getenv("OIDC_PROVIDER_DIR"); d != "" {
		return d
	}
	cache := os.Getenv("XDG_CACHE_HOME")
	if cache == "" {
		home, _ := os.UserHomeDir()
		cache = filepath.Join(home, ".cache")
	}
	dirs, _ := filepath.Glob(filepath.Join(cache, "go-os", "npm", "oidc-provider-*", "node_modules", "oidc-provider", "package.json"))
	if len(dirs) == 0 {
		missing(t, "OIDC_PROVIDER_DIR (oidc-provider as installed by scripts/backends)")
	}
	slices.Sort(dirs)
	return filepath.Dir(filepath.Dir(filepath.Dir(dirs[len(dirs)-1])))
}

// Start starts the provider again (after Stop) with a new signing key
// under kid ("" keeps the script's kid). The provider keeps no state
// across restarts: tokens are signed by the new key only, and the old
// key is gone from the JWKS.
func (p *OAuth2Proc) Start(kid string) {
	p.t.Helper()
	if p.cmd != nil {
		p.t.Fatalf("testenv: oauth2 provider already running")
	}
	p.Kid = kid
	if p.Kid == "" {
		p.Kid = "go-os-test-1" // the script's own
	}
	_, port, _ := strings.Cut(p.Addr, ":")
	cmd := exec.Command(p.node, p.script)
	cmd.Env = append(os.Environ(), "OIDC_PROVIDER_DIR="+p.dir, "OAUTH2_ISSUER="+p.Issuer, "OAUTH2_PORT="+port, "OAUTH2_KID="+p.Kid)
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		p.t.Fatalf("testenv: start oidc-provider: %v", err)
	}
	p.cmd, p.done = cmd, make(chan struct{})
	go func() { cmd.Wait(); close(p.done) }()
	client := &http.Client{Timeout: time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	deadline := time.Now().Add(20 * time.Second)
	for {
		resp, err := client.Get("http://" + p.Addr + "/.well-known/openid-configuration")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		select {
		case <-p.done:
			p.cmd = nil
			p.t.Fatalf("testenv: oidc-provider exited at start: %s", out.String())
		default:
		}
		if time.Now().After(deadline) {
			p.t.Fatalf("testenv: oidc-provider on %s not ready within 20s: %s", p.Addr, out.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Stop kills the provider and waits for it to exit. Idempotent.
func (p *OAuth2Proc) Stop() {
	if p.cmd == nil {
		return
	}
	p.cmd.Process.Kill()
	<-p.done
	p.cmd = nil
}

// Restart is Stop, then Start(kid).
func (p *OAuth2Proc) Restart(kid string) {
	p.t.Helper()
	p.Stop()
	p.Start(kid)
}
