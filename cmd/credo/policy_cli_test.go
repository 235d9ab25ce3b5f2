package main

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/credorisk/credo/internal/fault"
	"github.com/credorisk/credo/policies"
)

// MustPolicyFolder writes the embedded policy to a folder, with edits: a file name mapped to ""
// is removed, to anything else replaced or added.
func MustPolicyFolder(t *testing.T, edits map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	err := fs.WalkDir(policies.FS, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(policies.FS, p)
		if err != nil {
			return err
		}
		if err := os.MkdirAll(filepath.Join(dir, filepath.Dir(p)), 0o755); err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dir, p), b, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
	for name, content := range edits {
		p := filepath.Join(dir, name)
		if content == "" {
			err = os.Remove(p)
		} else {
			err = os.WriteFile(p, []byte(content), 0o644)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestPolicyTestCommandIsOffline(t *testing.T) {
	// Nothing answers here: the command must not need a database or Redis.
	env := map[string]string{"DATABASE_URL": "postgres://nobody@127.0.0.1:1/none?connect_timeout=1", "REDIS_URL": "redis://127.0.0.1:1/0"}
	data, err := fs.ReadFile(policies.FS, "data.json")
	if err != nil {
		t.Fatal(err)
	}
	lowered := strings.Replace(string(data), `"B": 20000000`, `"B": 15000000`, 1)
	if lowered == string(data) {
		t.Fatal("the class B limit is not in data.json as expected")
	}
	tests := []struct {
		name    string
		edits   map[string]string
		code    string // fault code of the error, "" for success
		outputs []string
	}{
		{"the default policy passes", nil, "", []string{"PASS", "data.credo.credit_test.test_approve_baseline", " 0 failed, 0 errors"}},
		{"a failing test", map[string]string{"data.json": lowered}, fault.Internal,
			[]string{"FAIL", "data.credo.credit_test.test_approve_baseline", " failed, 0 errors"}},
		{"a syntax error", map[string]string{"extra.rego": "package credo.credit\n\nx := {\n"}, fault.Invalid, []string{"extra.rego:"}},
		{"a forbidden builtin", map[string]string{"extra.rego": "package credo.credit\n\nx := rand.intn(\"k\", 10)\n"}, fault.Invalid, []string{"rand.intn"}},
		{"no test at all", map[string]string{"credit_test.rego": ""}, fault.Internal, []string{"0 passed"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := MustPolicyFolder(t, tc.edits)
			out, err := credoCmd(t, env, "policy", "test", "--dir", dir)
			switch {
			case tc.code == "" && err != nil:
				t.Fatalf("credo policy test: %v\n%s", err, out)
			case tc.code != "" && err == nil:
				t.Fatalf("credo policy test passed, want a failure\n%s", out)
			case tc.code != "" && fault.Code(err) != tc.code:
				t.Fatalf("error %v has code %s, want %s (exit status %d)", err, fault.Code(err), tc.code, exitCode(err))
			}
			text := out
			if err != nil {
				text += err.Error()
			}
			for _, o := range tc.outputs {
				if !strings.Contains(text, o) {
					t.Errorf("output lacks %q:\n%s", o, text)
				}
			}
		})
	}
}

func TestPolicyCommands(t *testing.T) {
	env := testEnv(t, nil)
	mustCredo(t, env, "migrate")
	dir := MustPolicyFolder(t, map[string]string{"large.rego": largeQuoteRule})

	out := mustCredo(t, env, "policy", "push", "--dir", dir, "--comment", "review large quotes", "--author", "alice", "--parent", "1")
	if !regexp.MustCompile(`^version 2 \(draft\) by alice, sha256:[0-9a-f]{64}, files: credit.rego, credit_test.rego, large.rego\n$`).MatchString(out) {
		t.Fatalf("push: %q", out)
	}
	out = mustCredo(t, env, "policy", "list")
	if !regexp.MustCompile(`(?m)^2\s+draft\s+1\s+alice\s`).MatchString(out) || !regexp.MustCompile(`(?m)^1\s+active\s+-\s+credo\s`).MatchString(out) {
		t.Fatalf("list:\n%s", out)
	}
	if _, err := credoCmd(t, env, "policy", "activate", "2", "--as", "alice"); err == nil || !strings.Contains(err.Error(), "four-eyes") {
		t.Fatalf("self-activation from the command line: %v", err)
	}
	out = mustCredo(t, env, "policy", "activate", "2", "--as", "bob", "--comment", "ok")
	if !strings.HasPrefix(out, "version 2 activated by bob; version 1 retired;") {
		t.Fatalf("activate: %q", out)
	}
	out = mustCredo(t, env, "policy", "list", "--status", "retired")
	if !regexp.MustCompile(`(?m)^1\s+retired\s`).MatchString(out) || strings.Contains(out, "alice") {
		t.Fatalf("retired versions:\n%s", out)
	}
	day := time.Now().UTC().Format("2006-01-02")
	out = mustCredo(t, env, "policy", "replay", "1", "--from", day, "--to", day, "--as", "carol")
	if !strings.Contains(out, "version 1 on decisions from "+day+"T00:00:00Z") || !strings.Contains(out, "0 evaluated, 0 changed") {
		t.Fatalf("replay: %q", out)
	}
	out = mustCredo(t, env, "policy", "activate", "1", "--as", "carol")
	if !strings.Contains(out, "rollback") {
		t.Fatalf("rollback: %q", out)
	}
	for _, bad := range [][]string{{"policy"}, {"policy", "nope"}, {"policy", "activate"}, {"policy", "replay", "2", "--from", day}, {"policy", "push", "--dir", dir}} {
		if _, err := credoCmd(t, env, bad...); err == nil || exitCode(err) != 2 {
			t.Errorf("credo %s: %v, want a usage error", strings.Join(bad, " "), err)
		}
	}
}
