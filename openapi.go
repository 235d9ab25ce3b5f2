// Package credo holds the API contract, openapi.yaml, embedded so the server can publish it.
package credo

import _ "embed"

// OpenAPI is the API contract served at GET /openapi.yaml.
//
//go:embed openapi.yaml
var OpenAPI []byte
