package decision

import (
	"slices"
	"strings"
	"sync"

	"github.com/open-policy-agent/opa/v1/ast"
)

// forbiddenRule names builtins a Credo policy may not call, by exact name or by prefix (ending in
// "."), with the reason given to the credit manager whose policy is refused.
type forbiddenRule struct {
	name string
	why  string
}

// forbiddenBuiltins is the list of builtins removed from the policies' capabilities. A decision
// must depend on its input document and the version's data alone, so that replaying a logged
// input against the same version gives the same answer, and evaluation must stay in-process and
// fast. Every builtin OPA marks non-deterministic is removed too (see forbiddenReason), so a builtin
// added by a later OPA release cannot reopen the door.
var forbiddenBuiltins = []forbiddenRule{
	{"http.send", "it makes network calls"},
	{"net.", "it inspects or queries the network"},
	{"opa.runtime", "it reads the server's configuration and environment"},
	{"rand.", "it is random, so a decision could not be replayed"},
	{"uuid.rfc4122", "it is random, so a decision could not be replayed"},
	{"time.now_ns", "it reads the clock; use input.now so a decision can be replayed"},
	{"io.jwt.decode_verify", "it reads the clock when verifying"},
	{"io.jwt.encode_sign", "signing may be random and needs keys a policy must not hold"},
	{"io.jwt.encode_sign_raw", "signing may be random and needs keys a policy must not hold"},
	{"crypto.x509.parse_and_verify_certificates", "it reads the clock when verifying"},
	{"crypto.x509.parse_and_verify_certificates_with_options", "it reads the clock when verifying"},
	{"json.verify_schema", "it may fetch remote schemas"},
	{"json.match_schema", "it may fetch remote schemas"},
}

// ForbiddenBuiltins maps each builtin a policy may not call to the reason; keys ending in "."
// stand for every builtin with that prefix. The policy editor and the README show this list.
func ForbiddenBuiltins() map[string]string {
	out := make(map[string]string, len(forbiddenBuiltins))
	for _, f := range forbiddenBuiltins {
		out[f.name] = f.why
	}
	for _, b := range ast.Builtins {
		if _, ok := forbiddenReason(b.Name); ok {
			if _, listed := out[b.Name]; !listed && !coveredByPrefix(b.Name) {
				out[b.Name] = "it is not deterministic"
			}
		}
	}
	return out
}

func coveredByPrefix(name string) bool {
	for _, f := range forbiddenBuiltins {
		if strings.HasSuffix(f.name, ".") && strings.HasPrefix(name, f.name) {
			return true
		}
	}
	return false
}

// forbiddenReason says whether a builtin name is forbidden and why.
func forbiddenReason(name string) (string, bool) {
	for _, f := range forbiddenBuiltins {
		if name == f.name || strings.HasSuffix(f.name, ".") && strings.HasPrefix(name, f.name) {
			return f.why, true
		}
	}
	if b, ok := ast.BuiltinMap[name]; ok && b.Nondeterministic {
		return "it is not deterministic", true
	}
	return "", false
}

var (
	capsOnce sync.Once
	caps     *ast.Capabilities
)

// restrictedCapabilities is this OPA version's capabilities minus the forbidden builtins. The
// compiler then reports a call to one as an undefined function, which forbiddenDiagnostic turns
// into a message naming the builtin and the reason.
func restrictedCapabilities() *ast.Capabilities {
	capsOnce.Do(func() {
		c := ast.CapabilitiesForThisVersion()
		c.Builtins = slices.DeleteFunc(c.Builtins, func(b *ast.Builtin) bool {
			_, bad := forbiddenReason(b.Name)
			return bad
		})
		// No remote schema may be fetched while type-checking a policy.
		c.AllowNet = []string{}
		caps = c
	})
	return caps
}

// forbiddenDiagnostic rewrites the compiler's "undefined function http.send" into a refusal that
// names the builtin and says why, when the function is one Credo removed on purpose. Other errors
// about a removed builtin (`with time.now_ns as 1`, `f with f as http.send`) are recognised by
// the source text they point at.
func forbiddenDiagnostic(d Diagnostic, text string) Diagnostic {
	name, ok := strings.CutPrefix(d.Message, "undefined function ")
	if !ok {
		name = text
	}
	why, bad := forbiddenReason(name)
	if !bad {
		return d
	}
	d.Code = CodeForbiddenBuiltin
	d.Message = "builtin " + name + " is not allowed in Credo policies: " + why
	return d
}
