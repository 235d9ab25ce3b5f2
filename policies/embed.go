// Package policies holds the default credit policy (Rego modules, their tests and data tables)
// and the JSON schemas of its input, output and data, embedded in the binary.
package policies

import "embed"

// FS holds *.rego, data.json and schema/*.json; decision.ReadSource reads a version from it.
//
//go:embed *.rego data.json schema/*.json
var FS embed.FS
