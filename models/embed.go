// Package models holds the versioned scorecards (scorecard-<version>.yaml) compiled into the
// binary; internal/scoring loads and validates them. The format is described in README.md.
package models

import "embed"

// FS holds every *.yaml file of this folder.
//
//go:embed *.yaml
var FS embed.FS
