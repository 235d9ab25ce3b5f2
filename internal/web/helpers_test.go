package web

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/credorisk/credo/internal/auth"
)

// testConsole is the console on the fake world, with a key per role and a clock the test moves.
type testConsole struct {
	t     *testing.T
	c     *Console
	keys  map[string]string // key name -> secret
	auth  *auth.Keys
	now   time.Time
	world Deps
}

// testOrigin is the host the test requests go to.
const testOrigin = "http://console.test"

// MustConsole builds the console with a key per role ("test-<role>") and "test-cm", a second
// credit manager who wrote draft 2.
func MustConsole(t *testing.T) *testConsole {
	t.Helper()
	tc := &testConsole{t: t, keys: map[string]string{}, now: testNow, world: testWorld()}
	tc.auth = auth.NewKeys(&keyStore{keys: map[string]auth.Key{}}, 0)
	for name, role := range map[string]auth.Role{"test-finance": auth.Finance, "test-credit_manager": auth.CreditManager,
		"test-cm": auth.CreditManager, "test-admin": auth.Admin, "test-sales": auth.Sales, "test-ingest": auth.Ingest} {
		secret, _, err := tc.auth.Create(context.Background(), name, role, "test")
		if err != nil {
			t.Fatal(err)
		}
		tc.keys[name] = secret
	}
	d := tc.world
	d.Keys, d.Now = tc.auth, func() time.Time { return tc.now }
	c, err := New(d, Config{Secret: []byte("0123456789abcdef0123456789abcdef"), SessionTTL: 8 * time.Hour, IdleTimeout: 30 * time.Minute, Currency: "EUR"})
	if err != nil {
		t.Fatal(err)
	}
	tc.c = c
	return tc
}

// page is an answer of the console.
type page struct {
	Status int
	Header http.Header
	Body   string
}

// Location is the redirect target.
func (p page) Location() string { return p.Header.Get("Location") }

// cookie returns the cookie the answer set, or nil.
func (p page) cookie(name string) *http.Cookie {
	for _, c := range (&http.Response{Header: p.Header}).Cookies() {
		if c.Name == name {
			return c
		}
	}
	return nil
}

// request is one request to the console.
type request struct {
	Method, Path string
	Cookies      []*http.Cookie
	Form         url.Values
	Header       map[string]string
}

func (tc *testConsole) do(r request) page {
	tc.t.Helper()
	var body io.Reader
	if r.Form != nil {
		body = strings.NewReader(r.Form.Encode())
	}
	hr := httptest.NewRequest(r.Method, testOrigin+r.Path, body)
	if r.Form != nil {
		hr.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		hr.Header.Set("Origin", testOrigin)
	}
	for k, v := range r.Header {
		hr.Header.Set(k, v)
	}
	for _, c := range r.Cookies {
		hr.AddCookie(c)
	}
	w := httptest.NewRecorder()
	tc.c.ServeHTTP(w, hr)
	return page{Status: w.Code, Header: w.Header(), Body: w.Body.String()}
}

var (
	tokenField = regexp.MustCompile(`name="token" value="([^"]+)"`)
	csrfField  = regexp.MustCompile(`name="csrf" value="([^"]+)"`)
)

// field returns the value of a hidden field of a page.
func field(t *testing.T, re *regexp.Regexp, body string) string {
	t.Helper()
	m := re.FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no %s in the page:\n%.1500s", re, body)
	}
	return m[1]
}

// signIn posts the sign-in form for key as a browser would (with the form's cookie and token).
func (tc *testConsole) signIn(key string, extra url.Values) page {
	tc.t.Helper()
	login := tc.do(request{Method: "GET", Path: "/console/login"})
	form := url.Values{"key": {key}, "token": {field(tc.t, tokenField, login.Body)}}
	for k, v := range extra {
		form[k] = v
	}
	return tc.do(request{Method: "POST", Path: "/console/login", Form: form, Cookies: []*http.Cookie{login.cookie(loginCookie)}})
}

// MustSignIn signs in with the named key and returns the session cookie.
func (tc *testConsole) MustSignIn(name string) *http.Cookie {
	tc.t.Helper()
	p := tc.signIn(tc.keys[name], nil)
	ck := p.cookie(sessionCookie)
	if p.Status != http.StatusSeeOther || ck == nil {
		tc.t.Fatalf("sign in as %s: status %d, cookie %v\n%.1000s", name, p.Status, ck, p.Body)
	}
	return ck
}

// get fetches a page with a session.
func (tc *testConsole) get(path string, sess *http.Cookie, header ...string) page {
	tc.t.Helper()
	h := map[string]string{}
	for i := 0; i+1 < len(header); i += 2 {
		h[header[i]] = header[i+1]
	}
	var cookies []*http.Cookie
	if sess != nil {
		cookies = append(cookies, sess)
	}
	return tc.do(request{Method: "GET", Path: path, Cookies: cookies, Header: h})
}

// post sends a form with the session's CSRF token, read from a page of the session as a browser
// would find it.
func (tc *testConsole) post(path string, sess *http.Cookie, form url.Values) page {
	tc.t.Helper()
	home := tc.get("/console/clients", sess)
	if home.Status != http.StatusOK {
		home = tc.get("/console/portfolio", sess)
	}
	form.Set("csrf", field(tc.t, csrfField, home.Body))
	return tc.do(request{Method: "POST", Path: path, Cookies: []*http.Cookie{sess}, Form: form})
}

// MustContain fails unless the page holds every fragment.
func (p page) MustContain(t *testing.T, fragments ...string) {
	t.Helper()
	for _, f := range fragments {
		if !strings.Contains(p.Body, f) {
			t.Errorf("the page lacks %q\n%.3000s", f, p.Body)
			return
		}
	}
}

// MustNotContain fails if the page holds any fragment.
func (p page) MustNotContain(t *testing.T, fragments ...string) {
	t.Helper()
	for _, f := range fragments {
		if strings.Contains(p.Body, f) {
			t.Errorf("the page holds %q", f)
		}
	}
}
