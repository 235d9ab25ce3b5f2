package web

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"time"
)

// Cookie names. Both are scoped to /console and HttpOnly: no script reads them.
const (
	sessionCookie = "credo_session"
	loginCookie   = "credo_login"
	langCookie    = "credo_lang"
	consolePath   = "/console"
)

// session is what the sealed cookie holds. The API key is there so that every request can check
// it through auth.Keys; the cookie is encrypted, so the key never travels in clear after sign-in.
type session struct {
	Key string `json:"k"`
	// ID is random per sign-in; the CSRF token is derived from it.
	ID string `json:"i"`
	// Issued and Seen are Unix seconds: sign-in, and the last request (for the idle timeout).
	Issued int64 `json:"t"`
	Seen   int64 `json:"s"`
}

// keyring holds the keys derived from the console secret, one per use, so that a value made for
// one purpose (a CSRF token) can never pass for another (a sealed session).
type keyring struct {
	seal  cipher.AEAD
	csrf  []byte
	login []byte
}

func derive(secret []byte, purpose string) []byte {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte("credo console: " + purpose))
	return m.Sum(nil)
}

func deriveKeys(secret []byte) keyring {
	block, err := aes.NewCipher(derive(secret, "session seal"))
	if err != nil {
		panic(err) // a 32-byte key is always accepted
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		panic(err)
	}
	return keyring{seal: aead, csrf: derive(secret, "csrf"), login: derive(secret, "login form")}
}

func mustRandom(b []byte) {
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand never fails on supported platforms
	}
}

func randomToken(n int) string {
	b := make([]byte, n)
	mustRandom(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// sealSession encrypts and authenticates a session for its cookie.
func (k keyring) sealSession(s session) string {
	plain, err := json.Marshal(s)
	if err != nil {
		panic(err) // strings and integers always encode
	}
	nonce := make([]byte, k.seal.NonceSize())
	mustRandom(nonce)
	out := k.seal.Seal(nonce, nonce, plain, []byte(sessionCookie))
	return base64.RawURLEncoding.EncodeToString(out)
}

var errBadSession = errors.New("the session cookie is not valid")

// openSession checks and decrypts a session cookie's value.
func (k keyring) openSession(v string) (session, error) {
	raw, err := base64.RawURLEncoding.DecodeString(v)
	if err != nil || len(raw) < k.seal.NonceSize()+k.seal.Overhead() {
		return session{}, errBadSession
	}
	n := k.seal.NonceSize()
	plain, err := k.seal.Open(nil, raw[:n], raw[n:], []byte(sessionCookie))
	if err != nil {
		return session{}, errBadSession
	}
	var s session
	if err := json.Unmarshal(plain, &s); err != nil || s.Key == "" || s.ID == "" {
		return session{}, errBadSession
	}
	return s, nil
}

// csrfToken is the token every form of a session carries.
func (k keyring) csrfToken(s session) string {
	return mac(k.csrf, s.ID)
}

// loginToken is the sign-in form's token, bound to the random value of its own cookie: a page
// elsewhere cannot sign a browser in with the attacker's key.
func (k keyring) loginToken(cookie string) string {
	return mac(k.login, cookie)
}

func mac(key []byte, v string) string {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(v))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

func equalTokens(a, b string) bool {
	return a != "" && subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}

// expiry says why a session is over, or "" while it is valid at now.
func (c *Console) expiry(s session, now time.Time) string {
	switch {
	case now.Sub(time.Unix(s.Issued, 0)) >= c.cfg.SessionTTL:
		return "expired"
	case now.Sub(time.Unix(s.Seen, 0)) >= c.cfg.IdleTimeout:
		return "idle"
	}
	return ""
}

// seenEvery is how stale the cookie's Seen may get before a request writes it again: the idle
// timeout is kept to within a minute without a new cookie on every request.
const seenEvery = time.Minute

// secure reports whether the browser reached us over TLS, directly or through a proxy that says
// so; the cookies are then marked Secure.
func secure(r *http.Request) bool {
	return r.TLS != nil || strings.EqualFold(r.Header.Get("X-Forwarded-Proto"), "https")
}

func (c *Console) setCookie(w http.ResponseWriter, r *http.Request, name, value string, maxAge time.Duration) {
	http.SetCookie(w, &http.Cookie{Name: name, Value: value, Path: consolePath, HttpOnly: true,
		Secure: secure(r), SameSite: http.SameSiteStrictMode, MaxAge: int(maxAge / time.Second)})
}

func (c *Console) clearCookie(w http.ResponseWriter, r *http.Request, name string) {
	http.SetCookie(w, &http.Cookie{Name: name, Value: "", Path: consolePath, HttpOnly: true,
		Secure: secure(r), SameSite: http.SameSiteStrictMode, MaxAge: -1})
}

// writeSession sets the session cookie; it lives as long as the session may.
func (c *Console) writeSession(w http.ResponseWriter, r *http.Request, s session) {
	c.setCookie(w, r, sessionCookie, c.keys.sealSession(s), c.cfg.SessionTTL)
}
