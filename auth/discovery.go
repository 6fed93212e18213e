package auth

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
)

// Metadata is the part of the issuer's /.well-known/openid-configuration
// that auth uses.
type Metadata struct {
	Issuer                string `json:"issuer"`
	JWKSURI               string `json:"jwks_uri"`
	TokenEndpoint         string `json:"token_endpoint"`
	IntrospectionEndpoint string `json:"introspection_endpoint"`
	RevocationEndpoint    string `json:"revocation_endpoint"`
}

// Discover fetches the issuer's OpenID configuration. The issuer it names
// must be the one asked for.
func Discover(ctx context.Context, client *http.Client, issuer string) (*Metadata, error) {
	if client == nil {
		client = http.DefaultClient
	}
	var md Metadata
	u := strings.TrimSuffix(issuer, "/") + "/.well-known/openid-configuration"
	if err := getJSON(ctx, client, u, &md); err != nil {
		return nil, err
	}
	if md.Issuer != issuer {
		return nil, fmt.Errorf("%w: discovery names issuer %q, want %q", ErrUnavailable, md.Issuer, issuer)
	}
	return &md, nil
}

func getJSON(ctx context.Context, client *http.Client, u string, v any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	req.Header.Set("Accept", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("%w: GET %s: %w", ErrUnavailable, u, err)
	}
	defer resp.Body.Close()
	return decodeJSON(resp, u, v)
}

func decodeJSON(resp *http.Response, u string, v any) error {
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return fmt.Errorf("%w: %s: %w", ErrUnavailable, u, err)
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%w: %s: status %d", ErrUnavailable, u, resp.StatusCode)
	}
	if err := json.Unmarshal(body, v); err != nil {
		return fmt.Errorf("%w: %s: %w", ErrUnavailable, u, err)
	}
	return nil
}
