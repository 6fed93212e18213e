//go:build !linux

package config

import (
	"context"
	"time"
)

func watchFile(ctx context.Context, path string, _ time.Duration, poll time.Duration, changed func()) error {
	return pollFile(ctx, path, poll, changed)
}
