package auth

import (
	"fmt"
	"log/slog"
	"path"
	"slices"
	"strings"
	"sync/atomic"

	"github.com/microos/go-os/config"
)

// Rule maps calls to what they need. Service, Method and Route match
// exactly, with "*" or "" matching anything, a trailing "*" matching any
// suffix ("orders.*", "/admin/*") and other glob patterns as path.Match.
// Method is an HTTP method or a gRPC full method ("/orders.Orders/Get").
// An allow rule needs every scope in Scopes and, when Roles is set, at
// least one of Roles (claim "roles"); a deny rule refuses whatever the
// token carries.
type Rule struct {
	Service string   `json:"service"`
	Method  string   `json:"method"`
	Route   string   `json:"route"`
	Scopes  []string `json:"scopes"`
	Roles   []string `json:"roles"`
	Deny    bool     `json:"deny"`
}

// PolicyConfig is a policy as written in config: ordered rules (the first
// that matches decides) and the decision when none matches ("deny" unless
// Default is "allow").
type PolicyConfig struct {
	Rules   []Rule `json:"rules"`
	Default string `json:"default"`
}

// Request is what a policy decides on.
type Request struct {
	Service string // the service called (may be empty)
	Method  string // HTTP method or gRPC full method
	Route   string // matched route pattern, else the path
}

// Decision is a policy's answer with the reason, for logs and audit.
type Decision struct {
	Allow  bool
	Rule   int // index of the rule that matched; -1 for the default
	Reason string
}

// Policy is a reloadable rule set. Safe for concurrent use; Decide reads
// the current rules without locking.
type Policy struct {
	cur atomic.Pointer[PolicyConfig]
}

// NewPolicy returns a policy with cfg's rules.
func NewPolicy(cfg PolicyConfig) (*Policy, error) {
	p := &Policy{}
	return p, p.Update(cfg)
}

// Update replaces the rules; an invalid cfg leaves the old ones in place.
func (p *Policy) Update(cfg PolicyConfig) error {
	switch cfg.Default {
	case "", "deny", "allow":
	default:
		return fmt.Errorf("%w: policy default %q (want allow or deny)", ErrInvalid, cfg.Default)
	}
	for i, r := range cfg.Rules {
		for _, pat := range []string{r.Service, r.Method, r.Route} {
			if _, err := path.Match(pat, ""); err != nil {
				return fmt.Errorf("%w: rule %d: pattern %q: %v", ErrInvalid, i, pat, err)
			}
		}
	}
	cfg.Rules = slices.Clone(cfg.Rules)
	p.cur.Store(&cfg)
	return nil
}

// LoadPolicy reads a PolicyConfig from cfg at path and follows its
// changes: a reload that yields a valid policy replaces the rules, an
// invalid one is logged and ignored. stop ends the following.
func LoadPolicy(cfg *config.Config, logger *slog.Logger, path ...string) (p *Policy, stop func(), err error) {
	var pc PolicyConfig
	if err := cfg.Scan(&pc, path...); err != nil {
		return nil, nil, fmt.Errorf("%w: policy: %w", ErrInvalid, err)
	}
	if p, err = NewPolicy(pc); err != nil {
		return nil, nil, err
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	stop = cfg.OnChange(func(v config.Value) {
		var pc PolicyConfig
		err := v.Scan(&pc)
		if err == nil {
			err = p.Update(pc)
		}
		if err != nil {
			logger.Warn("auth: policy reload refused, old rules kept", slog.Any("error", err))
		}
	}, path...)
	return p, stop, nil
}

func match(pat, s string) bool {
	switch {
	case pat == "" || pat == "*" || pat == s:
		return true
	case strings.HasSuffix(pat, "*") && !strings.ContainsAny(pat[:len(pat)-1], "*?["):
		return strings.HasPrefix(s, pat[:len(pat)-1])
	}
	ok, _ := path.Match(pat, s)
	return ok
}

// Decide says whether c may make req. A nil policy allows everything.
func (p *Policy) Decide(req Request, c *Claims) Decision {
	if p == nil {
		return Decision{Allow: true, Rule: -1, Reason: "no policy"}
	}
	cfg := p.cur.Load()
	for i, r := range cfg.Rules {
		if !match(r.Service, req.Service) || !match(r.Method, req.Method) || !match(r.Route, req.Route) {
			continue
		}
		if r.Deny {
			return Decision{Rule: i, Reason: fmt.Sprintf("rule %d denies %s %s", i, req.Method, req.Route)}
		}
		for _, s := range r.Scopes {
			if !c.HasScope(s) {
				return Decision{Rule: i, Reason: fmt.Sprintf("rule %d: scope %q missing", i, s)}
			}
		}
		if len(r.Roles) > 0 && !slices.ContainsFunc(r.Roles, c.hasRole) {
			return Decision{Rule: i, Reason: fmt.Sprintf("rule %d: none of roles %q", i, r.Roles)}
		}
		return Decision{Allow: true, Rule: i, Reason: fmt.Sprintf("rule %d allows", i)}
	}
	if cfg.Default == "allow" {
		return Decision{Allow: true, Rule: -1, Reason: "no rule matched: default allow"}
	}
	return Decision{Rule: -1, Reason: "no rule matched: default deny"}
}

func (c *Claims) hasRole(role string) bool {
	return c != nil && slices.Contains(c.Roles, role)
}
