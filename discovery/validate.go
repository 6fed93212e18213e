package discovery

import (
	"fmt"
	"strings"
)

// Limits on names, applied on every backend (they are Consul's, or
// stricter), so that what works on one backend works on all.
const (
	MaxNameLen      = 256
	MaxNodeIDLen    = 128
	MaxMetaKeyLen   = 128
	MaxMetaValueLen = 512
)

// ValidateName reports whether name may name a service: 1 to MaxNameLen
// letters, digits, '-', '_' or '.'.
func ValidateName(name string) error {
	if name == "" {
		return fmt.Errorf("%w: empty service name", ErrInvalidService)
	}
	if len(name) > MaxNameLen {
		return fmt.Errorf("%w: service name of %d bytes (at most %d)", ErrInvalidService, len(name), MaxNameLen)
	}
	for i := 0; i < len(name); i++ {
		if c := name[i]; !isWordByte(c) && c != '.' {
			return fmt.Errorf("%w: service name %q has %q at offset %d (want letters, digits, '-', '_' or '.')", ErrInvalidService, name, c, i)
		}
	}
	return nil
}

// Validate reports whether svc may be registered: a valid name, at least
// one node, and every node valid (see Node) with an ID unique within svc.
// The error names the field and the value at fault.
func Validate(svc *Service) error {
	if svc == nil {
		return fmt.Errorf("%w: nil service", ErrInvalidService)
	}
	if err := ValidateName(svc.Name); err != nil {
		return err
	}
	if len(svc.Version) > MaxMetaValueLen || strings.ContainsFunc(svc.Version, isControl) {
		return fmt.Errorf("%w: service %q: version %q: at most %d bytes, no control characters", ErrInvalidService, svc.Name, svc.Version, MaxMetaValueLen)
	}
	if len(svc.Nodes) == 0 {
		return fmt.Errorf("%w: service %q has no node", ErrInvalidService, svc.Name)
	}
	seen := make(map[string]bool, len(svc.Nodes))
	for i, n := range svc.Nodes {
		if err := validateNode(n); err != nil {
			return fmt.Errorf("service %q: node %d: %w", svc.Name, i, err)
		}
		if seen[n.ID] {
			return fmt.Errorf("%w: service %q: node ID %q appears twice", ErrInvalidService, svc.Name, n.ID)
		}
		seen[n.ID] = true
	}
	return nil
}

// validateForDeregister needs only names and IDs.
func validateForDeregister(svc *Service) error {
	if svc == nil {
		return fmt.Errorf("%w: nil service", ErrInvalidService)
	}
	if err := ValidateName(svc.Name); err != nil {
		return err
	}
	for i, n := range svc.Nodes {
		if n == nil {
			return fmt.Errorf("%w: service %q: node %d is nil", ErrInvalidService, svc.Name, i)
		}
		if err := validateNodeID(n.ID); err != nil {
			return fmt.Errorf("service %q: node %d: %w", svc.Name, i, err)
		}
	}
	return nil
}

func validateNode(n *Node) error {
	if n == nil {
		return fmt.Errorf("%w: nil node", ErrInvalidService)
	}
	if err := validateNodeID(n.ID); err != nil {
		return err
	}
	if n.Address == "" || len(n.Address) > MaxMetaValueLen || strings.ContainsFunc(n.Address, isSpaceOrControl) {
		return fmt.Errorf("%w: node %q: address %q: want a host name or IP address", ErrInvalidService, n.ID, n.Address)
	}
	if n.Port < 0 || n.Port > 65535 {
		return fmt.Errorf("%w: node %q: port %d out of range 0-65535", ErrInvalidService, n.ID, n.Port)
	}
	if len(n.Zone) > MaxMetaValueLen || strings.ContainsFunc(n.Zone, isControl) {
		return fmt.Errorf("%w: node %q: zone %q: at most %d bytes, no control characters", ErrInvalidService, n.ID, n.Zone, MaxMetaValueLen)
	}
	if len(n.Metadata) > MaxMetadata {
		return fmt.Errorf("%w: node %q: %d metadata keys (at most %d)", ErrInvalidService, n.ID, len(n.Metadata), MaxMetadata)
	}
	for k, v := range n.Metadata {
		if err := validateMetaKey(k); err != nil {
			return fmt.Errorf("%w: node %q: %w", ErrInvalidService, n.ID, err)
		}
		if len(v) > MaxMetaValueLen {
			return fmt.Errorf("%w: node %q: metadata %q: value of %d bytes (at most %d)", ErrInvalidService, n.ID, k, len(v), MaxMetaValueLen)
		}
	}
	return nil
}

func validateNodeID(id string) error {
	if id == "" || len(id) > MaxNodeIDLen {
		return fmt.Errorf("%w: node ID %q: want 1 to %d bytes", ErrInvalidService, id, MaxNodeIDLen)
	}
	if i := strings.IndexFunc(id, func(r rune) bool { return r == '/' || isSpaceOrControl(r) }); i >= 0 {
		return fmt.Errorf("%w: node ID %q has a space, '/' or control character at offset %d", ErrInvalidService, id, i)
	}
	return nil
}

func validateMetaKey(k string) error {
	if k == "" || len(k) > MaxMetaKeyLen {
		return fmt.Errorf("metadata key %q: want 1 to %d bytes", k, MaxMetaKeyLen)
	}
	for i := 0; i < len(k); i++ {
		if !isWordByte(k[i]) {
			return fmt.Errorf("metadata key %q has %q at offset %d (want letters, digits, '-' or '_')", k, k[i], i)
		}
	}
	if strings.HasPrefix(k, "goos-") || strings.HasPrefix(k, "consul-") {
		return fmt.Errorf("metadata key %q: the prefixes goos- and consul- are reserved", k)
	}
	return nil
}

func isWordByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_'
}

func isControl(r rune) bool { return r < 0x20 || r == 0x7f }

func isSpaceOrControl(r rune) bool { return r == ' ' || isControl(r) }
