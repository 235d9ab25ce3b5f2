package web

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

func TestSignIn(t *testing.T) {
	tc := MustConsole(t)
	tests := []struct {
		name   string
		key    string
		extra  url.Values
		header map[string]string
		status int
		to     string // redirect target
		says   string // a fragment of the page
	}{
		{name: "finance lands on the portfolio", key: "test-finance", status: 303, to: "/console/portfolio"},
		{name: "a credit manager too", key: "test-credit_manager", status: 303, to: "/console/portfolio"},
		{name: "back to the page asked for", key: "test-finance", extra: url.Values{"next": {"/console/decisions?outcome=deny"}}, status: 303, to: "/console/decisions?outcome=deny"},
		{name: "never to another site", key: "test-finance", extra: url.Values{"next": {"//evil.example/console/"}}, status: 303, to: "/console/portfolio"},
		{name: "never to another scheme", key: "test-finance", extra: url.Values{"next": {"https://evil.example/console/x"}}, status: 303, to: "/console/portfolio"},
		{name: "only console paths", key: "test-finance", extra: url.Values{"next": {"/v1/keys"}}, status: 303, to: "/console/portfolio"},
		{name: "an unknown key", key: "", status: 401, says: "This key is not valid"},
		{name: "a made-up key", key: "credo_notakey", status: 401, says: "This key is not valid"},
		{name: "sales has no page", key: "test-sales", status: 403, says: "The sales role has no page in the console."},
		{name: "ingest has no page", key: "test-ingest", status: 403, says: "The ingest role has no page in the console."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			key := tc.keys[tt.key]
			if key == "" {
				key = tt.key
			}
			p := tc.signIn(key, tt.extra)
			if p.Status != tt.status {
				t.Fatalf("status %d, want %d\n%.1000s", p.Status, tt.status, p.Body)
			}
			if tt.to != "" && p.Location() != tt.to {
				t.Errorf("redirect to %q, want %q", p.Location(), tt.to)
			}
			ck := p.cookie(sessionCookie)
			if (tt.status == 303) != (ck != nil) {
				t.Fatalf("session cookie %v after status %d", ck, p.Status)
			}
			if ck != nil && (!ck.HttpOnly || ck.SameSite != http.SameSiteStrictMode || ck.Path != "/console" || ck.Secure ||
				ck.MaxAge != int((8*time.Hour)/time.Second) || strings.Contains(ck.Value, "credo_")) {
				t.Errorf("session cookie %+v", ck)
			}
			if tt.says != "" {
				p.MustContain(t, tt.says)
			}
		})
	}
}

func TestSignInFormChecks(t *testing.T) {
	tc := MustConsole(t)
	login := tc.do(request{Method: "GET", Path: "/console/login"})
	token, ck := field(t, tokenField, login.Body), login.cookie(loginCookie)
	if ck == nil || !ck.HttpOnly || ck.SameSite != http.SameSiteStrictMode {
		t.Fatalf("sign-in form cookie %+v", ck)
	}
	other := tc.do(request{Method: "GET", Path: "/console/login"})
	key := tc.keys["test-finance"]
	tests := []struct {
		name    string
		form    url.Values
		cookies []*http.Cookie
		origin  string
		status  int
	}{
		{"the form as given", url.Values{"key": {key}, "token": {token}}, []*http.Cookie{ck}, "", 303},
		{"no token", url.Values{"key": {key}}, []*http.Cookie{ck}, "", 403},
		{"no form cookie (a page elsewhere posting)", url.Values{"key": {key}, "token": {token}}, nil, "", 403},
		{"another form's token", url.Values{"key": {key}, "token": {field(t, tokenField, other.Body)}}, []*http.Cookie{ck}, "", 403},
		{"from another origin", url.Values{"key": {key}, "token": {token}}, []*http.Cookie{ck}, "http://evil.example", 403},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := request{Method: "POST", Path: "/console/login", Form: tt.form, Cookies: tt.cookies}
			if tt.origin != "" {
				r.Header = map[string]string{"Origin": tt.origin}
			}
			p := tc.do(r)
			if p.Status != tt.status {
				t.Fatalf("status %d, want %d", p.Status, tt.status)
			}
			if tt.status == 403 {
				p.MustContain(t, "The sign-in form expired")
				if p.cookie(sessionCookie) != nil {
					t.Error("a refused sign-in set a session")
				}
			}
		})
	}
}

func TestSecureCookieBehindTLS(t *testing.T) {
	tc := MustConsole(t)
	login := tc.do(request{Method: "GET", Path: "/console/login", Header: map[string]string{"X-Forwarded-Proto": "https"}})
	if ck := login.cookie(loginCookie); ck == nil || !ck.Secure {
		t.Fatalf("sign-in cookie over TLS: %+v", ck)
	}
	p := tc.do(request{Method: "POST", Path: "/console/login", Cookies: []*http.Cookie{login.cookie(loginCookie)},
		Form:   url.Values{"key": {tc.keys["test-finance"]}, "token": {field(t, tokenField, login.Body)}},
		Header: map[string]string{"X-Forwarded-Proto": "https"}})
	if ck := p.cookie(sessionCookie); ck == nil || !ck.Secure {
		t.Fatalf("session cookie over TLS: %+v", ck)
	}
}

func TestNoSessionGoesToSignIn(t *testing.T) {
	tc := MustConsole(t)
	for _, path := range []string{"/console/portfolio", "/console/clients/C-1", "/console/policies/2", "/console/"} {
		p := tc.get(path, nil)
		if p.Status != http.StatusSeeOther || !strings.HasPrefix(p.Location(), "/console/login") {
			t.Errorf("%s without a session: %d to %q", path, p.Status, p.Location())
		}
	}
	if p := tc.get("/console/clients/C-1?as_of=2026-01-01", nil); p.Location() != "/console/login?next=%2Fconsole%2Fclients%2FC-1%3Fas_of%3D2026-01-01" {
		t.Errorf("the page asked for is not kept: %q", p.Location())
	}
	p := tc.do(request{Method: "POST", Path: "/console/policies/2/test", Form: url.Values{"csrf": {"x"}}})
	if p.Status != http.StatusSeeOther || p.Location() != "/console/login" {
		t.Errorf("a form without a session: %d to %q", p.Status, p.Location())
	}
}

func TestSessionExpiry(t *testing.T) {
	tests := []struct {
		name  string
		steps []time.Duration // requests at these delays after the previous one
		why   string          // "" when the last request is still signed in
	}{
		{"active within the idle timeout", []time.Duration{10 * time.Minute, 29 * time.Minute}, ""},
		{"idle past the timeout", []time.Duration{10 * time.Minute, 30 * time.Minute}, "idle"},
		{"active, but past the session's life", []time.Duration{25 * time.Minute, 25 * time.Minute, 25 * time.Minute, 25 * time.Minute, 25 * time.Minute,
			25 * time.Minute, 25 * time.Minute, 25 * time.Minute, 25 * time.Minute, 25 * time.Minute, 25 * time.Minute, 25 * time.Minute,
			25 * time.Minute, 25 * time.Minute, 25 * time.Minute, 25 * time.Minute, 25 * time.Minute, 25 * time.Minute, 25 * time.Minute, 25 * time.Minute}, "expired"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tc := MustConsole(t)
			sess := tc.MustSignIn("test-finance")
			var p page
			for _, d := range tt.steps {
				tc.now = tc.now.Add(d)
				p = tc.get("/console/portfolio", sess)
				if ck := p.cookie(sessionCookie); ck != nil && ck.MaxAge > 0 {
					sess = ck // the browser keeps the refreshed cookie
				}
			}
			if tt.why == "" {
				if p.Status != http.StatusOK {
					t.Fatalf("status %d, want the page", p.Status)
				}
				return
			}
			if p.Status != http.StatusSeeOther || !strings.Contains(p.Location(), "why="+tt.why) {
				t.Fatalf("status %d to %q, want sign-in saying %s", p.Status, p.Location(), tt.why)
			}
			if ck := p.cookie(sessionCookie); ck == nil || ck.MaxAge >= 0 {
				t.Errorf("the ended session's cookie is not cleared: %+v", ck)
			}
			login := tc.get(p.Location(), nil)
			login.MustContain(t, "Please sign in again")
		})
	}
}

func TestSessionRefreshesItsIdleClock(t *testing.T) {
	tc := MustConsole(t)
	sess := tc.MustSignIn("test-finance")
	tc.now = tc.now.Add(30 * time.Second)
	if p := tc.get("/console/portfolio", sess); p.cookie(sessionCookie) != nil {
		t.Error("a request within the minute rewrote the cookie")
	}
	tc.now = tc.now.Add(time.Minute)
	p := tc.get("/console/portfolio", sess)
	ck := p.cookie(sessionCookie)
	if ck == nil {
		t.Fatal("a request after a minute did not move the idle clock")
	}
	s, err := tc.c.keys.openSession(ck.Value)
	if err != nil || s.Seen != tc.now.Unix() || s.Issued != testNow.Unix() {
		t.Errorf("refreshed session %+v (%v): seen should be now, issued unchanged", s, err)
	}
}

func TestRevokedKeyEndsItsSessions(t *testing.T) {
	tc := MustConsole(t)
	sess := tc.MustSignIn("test-credit_manager")
	other := tc.MustSignIn("test-finance")
	if p := tc.get("/console/policies", sess); p.Status != http.StatusOK {
		t.Fatalf("before revocation: %d", p.Status)
	}
	if err := tc.auth.Revoke(context.Background(), "test-credit_manager", "test-admin"); err != nil {
		t.Fatal(err)
	}
	p := tc.get("/console/policies", sess)
	if p.Status != http.StatusSeeOther || !strings.Contains(p.Location(), "why=revoked") {
		t.Fatalf("after revocation: %d to %q", p.Status, p.Location())
	}
	if p := tc.get("/console/portfolio", other); p.Status != http.StatusOK {
		t.Errorf("another key's session is unaffected: %d", p.Status)
	}
	if p := tc.signIn(tc.keys["test-credit_manager"], nil); p.Status != http.StatusUnauthorized {
		t.Errorf("signing in again with the revoked key: %d", p.Status)
	}
}

func TestTamperedSessionCookie(t *testing.T) {
	tc := MustConsole(t)
	sess := tc.MustSignIn("test-finance")
	b := []byte(sess.Value)
	b[len(b)/2] ^= 1
	for _, v := range []string{string(b), "", "not base64!", sess.Value[:20]} {
		p := tc.get("/console/portfolio", &http.Cookie{Name: sessionCookie, Value: v})
		if p.Status != http.StatusSeeOther || !strings.HasPrefix(p.Location(), "/console/login") {
			t.Errorf("cookie %.20q: %d to %q", v, p.Status, p.Location())
		}
	}
	// A cookie sealed with another secret is refused too.
	foreign := deriveKeys([]byte("another secret, also 32 bytes long")).sealSession(session{Key: tc.keys["test-admin"], ID: "x", Issued: testNow.Unix(), Seen: testNow.Unix()})
	if p := tc.get("/console/portfolio", &http.Cookie{Name: sessionCookie, Value: foreign}); !strings.Contains(p.Location(), "why=invalid") {
		t.Errorf("a cookie sealed elsewhere: %d to %q", p.Status, p.Location())
	}
}

func TestCSRF(t *testing.T) {
	tc := MustConsole(t)
	sess := tc.MustSignIn("test-credit_manager")
	other := tc.MustSignIn("test-cm")
	pol := tc.world.Policies.(*fakePolicies)
	otherToken := field(t, csrfField, tc.get("/console/policies", other).Body)
	tests := []struct {
		name   string
		token  string
		origin string
		status int
	}{
		{"no token", "", "", 403},
		{"a wrong token", "AAAA", "", 403},
		{"another session's token", otherToken, "", 403},
		{"the right token from another origin", "right", "http://evil.example", 403},
		{"the right token", "right", "", 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := len(pol.tested)
			token := tt.token
			if token == "right" {
				token = field(t, csrfField, tc.get("/console/policies", sess).Body)
			}
			r := request{Method: "POST", Path: "/console/policies/2/test", Cookies: []*http.Cookie{sess}, Form: url.Values{"csrf": {token}}}
			if tt.origin != "" {
				r.Header = map[string]string{"Origin": tt.origin}
			}
			p := tc.do(r)
			if p.Status != tt.status {
				t.Fatalf("status %d, want %d", p.Status, tt.status)
			}
			ran := len(pol.tested) - before
			if (tt.status == 200) != (ran == 1) {
				t.Errorf("the tests ran %d times", ran)
			}
			if tt.status == 403 {
				p.MustContain(t, "This form is not valid any more")
			}
		})
	}
}

func TestSignOut(t *testing.T) {
	tc := MustConsole(t)
	sess := tc.MustSignIn("test-finance")
	p := tc.post("/console/logout", sess, url.Values{})
	if p.Status != http.StatusSeeOther || p.Location() != "/console/login?why=signed_out" {
		t.Fatalf("sign out: %d to %q", p.Status, p.Location())
	}
	if ck := p.cookie(sessionCookie); ck == nil || ck.MaxAge >= 0 {
		t.Errorf("sign-out does not clear the cookie: %+v", ck)
	}
	if p := tc.do(request{Method: "POST", Path: "/console/logout", Cookies: []*http.Cookie{sess}, Form: url.Values{}}); p.Status != http.StatusForbidden {
		t.Errorf("sign-out without the token: %d", p.Status)
	}
}

func TestLoginPageWithSessionGoesHome(t *testing.T) {
	tc := MustConsole(t)
	sess := tc.MustSignIn("test-credit_manager")
	if p := tc.get("/console/login", sess); p.Status != http.StatusSeeOther || p.Location() != "/console/portfolio" {
		t.Errorf("sign-in page with a session: %d to %q", p.Status, p.Location())
	}
	if p := tc.get("/console/", sess); p.Location() != "/console/portfolio" {
		t.Errorf("/console/ with a session: %q", p.Location())
	}
}

func TestSafeNext(t *testing.T) {
	for in, want := range map[string]string{
		"/console/clients/C-1?as_of=2026-01-01": "/console/clients/C-1?as_of=2026-01-01",
		"/console/":                             "/console/",
		"/console/../v1/keys":                   "",
		"/console/%2e%2e/v1/keys":               "",
		"//evil.example/console/":               "",
		"https://evil.example/console/":         "",
		`/console\..\v1`:                        "",
		"/v1/clients":                           "",
		"/consolex":                             "",
		"":                                      "",
	} {
		if got := safeNext(in); got != want {
			t.Errorf("safeNext(%q) = %q, want %q", in, got, want)
		}
	}
}
