// Package migrations holds Credo's numbered SQL migrations (goose format), embedded in the binary.
package migrations

import "embed"

// FS holds the *.sql migrations.
//
//go:embed *.sql
var FS embed.FS
