package decision

import (
	"context"
	"testing"

	"github.com/credorisk/credo/policies"
)

// MustReadPolicies reads the embedded default policy version.
func MustReadPolicies(t testing.TB) (map[string]string, []byte) {
	t.Helper()
	modules, data, err := ReadSource(policies.FS)
	if err != nil {
		t.Fatal(err)
	}
	return modules, data
}

func TestDefaultPolicyRegoTests(t *testing.T) {
	modules, data := MustReadPolicies(t)
	results, err := RunTests(context.Background(), modules, data)
	if err != nil {
		t.Fatal(err)
	}
	if len(results) < 30 {
		t.Fatalf("ran %d tests, want the whole credit_test.rego", len(results))
	}
	for _, r := range results {
		if r.Result != TestPass {
			t.Errorf("%s (%s:%d): %s: %s", r.Name, r.File, r.Line, r.Result, r.Message)
		}
	}
}
