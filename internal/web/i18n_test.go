package web

import (
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

func TestLanguage(t *testing.T) {
	tc := MustConsole(t)
	sess := tc.MustSignIn("test-finance")
	tests := []struct {
		name    string
		accept  string
		cookie  string
		lang    string
		phrases []string
	}{
		{"no preference", "", "", "en", []string{"Open receivables", "€1,984.56", "23 Nov 2026"}},
		{"a French browser", "fr-FR,fr;q=0.9,en;q=0.5", "", "fr", []string{"Encours clients", "1\u202f984,56\u00a0€", "23/11/2026", "paie en moyenne", "4,12\u202f%"}},
		{"an English browser", "en-GB,en;q=0.8", "", "en", []string{"Open receivables"}},
		{"a German browser falls back to English", "de-DE,de;q=0.9", "", "en", []string{"Open receivables"}},
		{"the switch wins over the browser", "fr-FR", "en", "en", []string{"Open receivables"}},
		{"the switch to French", "en-US", "fr", "fr", []string{"Détail du score", "Caractéristique"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := request{Method: "GET", Path: "/console/clients/C-1", Cookies: []*http.Cookie{sess}, Header: map[string]string{"Accept-Language": tt.accept}}
			if tt.cookie != "" {
				r.Cookies = append(r.Cookies, &http.Cookie{Name: langCookie, Value: tt.cookie})
			}
			p := tc.do(r)
			if got := p.Header.Get("Content-Language"); got != tt.lang {
				t.Errorf("Content-Language %q, want %q", got, tt.lang)
			}
			p.MustContain(t, append([]string{`<html lang="` + tt.lang + `">`}, tt.phrases...)...)
		})
	}
}

func TestLanguageSwitch(t *testing.T) {
	tc := MustConsole(t)
	p := tc.do(request{Method: "GET", Path: "/console/lang/fr?back=%2Fconsole%2Fclients%2FC-1"})
	ck := p.cookie(langCookie)
	if p.Status != http.StatusSeeOther || p.Location() != "/console/clients/C-1" || ck == nil || ck.Value != "fr" || ck.MaxAge < 86400*300 {
		t.Fatalf("switch: %d to %q, cookie %+v", p.Status, p.Location(), ck)
	}
	if p := tc.do(request{Method: "GET", Path: "/console/lang/fr?back=https%3A%2F%2Fevil.example%2F"}); p.Location() != "/console/" {
		t.Errorf("the switch goes back to another site: %q", p.Location())
	}
	if p := tc.do(request{Method: "GET", Path: "/console/lang/de"}); p.Status != http.StatusNotFound {
		t.Errorf("an unknown language: %d", p.Status)
	}
	login := tc.do(request{Method: "GET", Path: "/console/login", Cookies: []*http.Cookie{ck}})
	login.MustContain(t, "Connexion à Credo", `href="/console/lang/en?back=%2Fconsole%2Flogin"`)
}

var (
	staticKey  = regexp.MustCompile(`\.Tf? "([a-z0-9_.]+)"`)
	goKey      = regexp.MustCompile(`\.Tf?\("([a-z0-9_.]+)"`)
	dynamicKey = regexp.MustCompile(`print "([a-z_.]+)"`)
	verbs      = regexp.MustCompile(`%[-+# 0]*[0-9]*(?:\.[0-9]+)?[a-zA-Z%]`)
)

// TestMessagesComplete finds every message key the templates and handlers use and checks it is
// in the catalogue with both languages and the same fmt verbs in each.
func TestMessagesComplete(t *testing.T) {
	used := map[string]bool{}
	prefixes := map[string]bool{}
	err := fs.WalkDir(templateFS, "templates", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := templateFS.ReadFile(p)
		for _, m := range staticKey.FindAllStringSubmatch(string(b), -1) {
			used[m[1]] = true
		}
		for _, m := range dynamicKey.FindAllStringSubmatch(string(b), -1) {
			prefixes[m[1]] = true
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	goFiles, _ := filepath.Glob("*.go")
	for _, f := range goFiles {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range goKey.FindAllStringSubmatch(string(b), -1) {
			used[m[1]] = true
		}
	}
	for _, d := range pageDefs {
		used[d.label] = true
	}
	if len(used) < 200 {
		t.Fatalf("found only %d keys: the scan is broken", len(used))
	}
	for k := range used {
		if strings.HasSuffix(k, ".") {
			continue // a prefix completed in code (feature.)
		}
		if _, ok := messages[k]; !ok {
			t.Errorf("message %q is used but not in the catalogue", k)
		}
	}
	// Keys built from values: every value the domain can hold has a message.
	values := map[string][]string{
		"role.":      {"admin", "finance", "credit_manager", "sales", "ingest"},
		"outcome.":   {"approve", "review", "deny"},
		"status.":    {"draft", "active", "retired"},
		"test.":      {"pass", "fail", "error", "skip"},
		"screen.":    {"clear", "potential_match", "confirmed", "not_screened"},
		"hit.":       {"open", "confirmed", "cleared"},
		"subject.":   {"client", "director"},
		"entry.":     {"person", "entity", "vessel", "aircraft"},
		"company.":   {"active", "closed", "unknown"},
		"diff.":      {"added", "removed", "modified"},
		"login.why.": {"expired", "idle", "revoked", "invalid", "signed_out"},
	}
	for p := range prefixes {
		if _, ok := values[p]; !ok {
			t.Errorf("the templates build keys from %q: list its values in this test", p)
		}
	}
	for p, vs := range values {
		for _, v := range vs {
			if _, ok := messages[p+v]; !ok {
				t.Errorf("message %q is missing", p+v)
			}
		}
	}
	for k, m := range messages {
		if m[0] == "" || m[1] == "" {
			t.Errorf("message %q lacks a language", k)
		}
		en, fr := verbs.FindAllString(m[0], -1), verbs.FindAllString(m[1], -1)
		if !slices.Equal(en, fr) {
			t.Errorf("message %q: verbs %v in English, %v in French", k, en, fr)
		}
	}
}
