package main

import (
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"
)

// consoleClient is a browser without a browser: a cookie jar and no redirect following, on one
// replica's console.
type consoleClient struct {
	t    *testing.T
	base string
	c    *http.Client
}

func newConsoleClient(t *testing.T, base string, jar http.CookieJar) *consoleClient {
	return &consoleClient{t: t, base: base, c: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

func (cc *consoleClient) send(method, path string, form url.Values) (*http.Response, string) {
	cc.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	r, err := http.NewRequest(method, cc.base+path, body)
	if err != nil {
		cc.t.Fatal(err)
	}
	if form != nil {
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		r.Header.Set("Origin", cc.base)
	}
	resp, err := cc.c.Do(r)
	if err != nil {
		cc.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		cc.t.Fatal(err)
	}
	return resp, string(b)
}

var consoleToken = regexp.MustCompile(`name="token" value="([^"]+)"`)

// signIn posts the sign-in form with key and returns the answer's status and redirect.
func (cc *consoleClient) signIn(key string) (int, string) {
	cc.t.Helper()
	_, page := cc.send("GET", "/console/login", nil)
	m := consoleToken.FindStringSubmatch(page)
	if m == nil {
		cc.t.Fatalf("no sign-in form:\n%.500s", page)
	}
	resp, _ := cc.send("POST", "/console/login", url.Values{"key": {key}, "token": {m[1]}})
	return resp.StatusCode, resp.Header.Get("Location")
}

// TestConsoleOverHTTP checks the console as `credo serve` mounts it, without a browser: through
// the API's middleware, with the secret every replica shares, and a revocation made through the
// API ending the session.
func TestConsoleOverHTTP(t *testing.T) {
	env := testEnv(t, map[string]string{"CREDO_BODACC_URL": "off", "CREDO_SANCTIONS_REFRESH": "off"})
	s := startServerEnv(t, env, true)
	jar, _ := cookiejar.New(nil)
	cc := newConsoleClient(t, s.URL, jar)

	resp, css := cc.send("GET", "/console/static/console.css", nil)
	if resp.StatusCode != 200 || resp.Header.Get("Cache-Control") != "public, max-age=86400" || resp.Header.Get("X-Request-Id") == "" || !strings.Contains(css, ".editor") {
		t.Errorf("a static asset through the API's middleware: %d, Cache-Control %q, request id %q", resp.StatusCode, resp.Header.Get("Cache-Control"), resp.Header.Get("X-Request-Id"))
	}
	if st, _ := cc.signIn(s.Keys["sales"]); st != http.StatusForbidden {
		t.Errorf("a sales key signing in: %d", st)
	}
	if st, to := cc.signIn(s.Keys["finance"]); st != http.StatusSeeOther || to != "/console/portfolio" {
		t.Fatalf("finance signing in: %d to %q", st, to)
	}
	if resp, page := cc.send("GET", "/console/portfolio", nil); resp.StatusCode != 200 || !strings.Contains(page, `id="kpi-open-ar"`) ||
		resp.Header.Get("Cache-Control") != "no-store" || !strings.Contains(resp.Header.Get("Content-Security-Policy"), "default-src 'self'") {
		t.Fatalf("portfolio: %d, Cache-Control %q", resp.StatusCode, resp.Header.Get("Cache-Control"))
	}
	if resp, _ := cc.send("GET", "/console/policies", nil); resp.StatusCode != http.StatusForbidden {
		t.Errorf("finance forcing the policies: %d", resp.StatusCode)
	}
	if resp, _ := cc.send("POST", "/console/logout", url.Values{}); resp.StatusCode != http.StatusForbidden {
		t.Errorf("a form without its CSRF token: %d", resp.StatusCode)
	}

	// Another replica on the same database: the session opened on the first is valid there.
	other := startServerEnv(t, env, false)
	var stored int
	mustQueryRow(t, env["DATABASE_URL"], `SELECT count(*) FROM console_secret`, &stored)
	if stored != 1 {
		t.Fatalf("%d console secrets stored, want the one both replicas share", stored)
	}
	u, _ := url.Parse(s.URL + "/console/")
	jar2, _ := cookiejar.New(nil)
	u2, _ := url.Parse(other.URL + "/console/")
	jar2.SetCookies(u2, jar.Cookies(u))
	cc2 := newConsoleClient(t, other.URL, jar2)
	if resp, _ := cc2.send("GET", "/console/clients", nil); resp.StatusCode != http.StatusOK {
		t.Errorf("the session on the other replica: %d to %q", resp.StatusCode, resp.Header.Get("Location"))
	}

	s.expect(http.StatusNoContent, req{Method: "DELETE", Path: "/v1/keys/test-finance", Key: s.Keys["admin"]})
	for name, client := range map[string]*consoleClient{"this replica": cc, "the other replica": cc2} {
		resp, _ := client.send("GET", "/console/portfolio", nil)
		if resp.StatusCode != http.StatusSeeOther || !strings.Contains(resp.Header.Get("Location"), "why=revoked") {
			t.Errorf("%s after the key's revocation: %d to %q", name, resp.StatusCode, resp.Header.Get("Location"))
		}
	}
}
