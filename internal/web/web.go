// Package web is Credo's console for finance and credit managers: server-rendered pages on the
// domain services, served by `credo serve` under /console. It is a plain net/http handler
// (httpapi mounts it), with its templates, styles and scripts embedded: a page needs no other
// host, and `go build` alone makes a working console.
//
// Sessions are stateless: the API key a person signed in with is sealed (AES-GCM) in an HttpOnly,
// SameSite=Strict cookie, and checked again through auth.Keys on every request, so a revoked key
// ends its sessions. Every form carries a CSRF token derived from the session.
package web

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/credorisk/credo/internal/auth"
	"github.com/credorisk/credo/internal/config"
)

// Config is the console's own configuration.
type Config struct {
	// Secret seals session cookies and derives CSRF tokens; every replica must share it.
	Secret []byte
	// SessionTTL bounds a session's life from sign-in (CREDO_CONSOLE_SESSION_TTL, default 8h).
	SessionTTL time.Duration
	// IdleTimeout ends a session unused for that long (CREDO_CONSOLE_IDLE_TIMEOUT, default 30m).
	IdleTimeout time.Duration
	// RequestTimeout bounds the work of one page (CREDO_REQUEST_TIMEOUT, as the API).
	RequestTimeout time.Duration
	// Currency is the deployment's base currency (CREDO_CURRENCY), for amounts.
	Currency string
}

// MinSecretLen is the shortest accepted CREDO_CONSOLE_SECRET: 32 bytes, the AES-256 key size.
const MinSecretLen = 32

// ConfigFromEnv reads CREDO_CONSOLE_SECRET, CREDO_CONSOLE_SESSION_TTL and
// CREDO_CONSOLE_IDLE_TIMEOUT. Secret is nil when CREDO_CONSOLE_SECRET is unset: the caller then
// supplies the one stored in Postgres.
func ConfigFromEnv(getenv func(string) string, base config.Config) (Config, error) {
	c := Config{RequestTimeout: base.RequestTimeout, Currency: base.Currency}
	if s := getenv("CREDO_CONSOLE_SECRET"); s != "" {
		if len(s) < MinSecretLen {
			return c, fmt.Errorf("CREDO_CONSOLE_SECRET must be at least %d characters (a random string), got %d", MinSecretLen, len(s))
		}
		c.Secret = []byte(s)
	}
	var err error
	if c.SessionTTL, err = config.Duration(getenv, "CREDO_CONSOLE_SESSION_TTL", 8*time.Hour); err != nil {
		return c, err
	}
	if c.IdleTimeout, err = config.Duration(getenv, "CREDO_CONSOLE_IDLE_TIMEOUT", 30*time.Minute); err != nil {
		return c, err
	}
	if c.SessionTTL == 0 || c.IdleTimeout == 0 {
		return c, errors.New("CREDO_CONSOLE_SESSION_TTL and CREDO_CONSOLE_IDLE_TIMEOUT must be above zero")
	}
	return c, nil
}

// Deps are the services the pages read and drive. Keys is required; a page whose service is nil
// answers 503.
type Deps struct {
	Keys      *auth.Keys
	Ledger    Ledger
	Metrics   Facts
	Scores    Scores
	Decisions DecisionLog
	Policies  Policies
	Sanctions Sanctions
	Solvency  Solvency
	Board     Board
	Log       *slog.Logger
	// Now is the clock (default time.Now): session expiry and the default as-of date.
	Now func() time.Time
}

// Console is the console as an http.Handler, to mount under /console.
type Console struct {
	Deps
	cfg   Config
	keys  keyring
	pages *pageSet
	mux   *http.ServeMux
}

// New checks the configuration, parses the templates and builds the routes.
func New(d Deps, c Config) (*Console, error) {
	if d.Keys == nil {
		return nil, errors.New("console: no key service")
	}
	if len(c.Secret) < MinSecretLen {
		return nil, fmt.Errorf("console: the secret must be at least %d bytes", MinSecretLen)
	}
	if c.SessionTTL <= 0 || c.IdleTimeout <= 0 {
		return nil, errors.New("console: session TTL and idle timeout must be above zero")
	}
	if c.RequestTimeout <= 0 {
		c.RequestTimeout = 30 * time.Second
	}
	if c.Currency == "" {
		c.Currency = "EUR"
	}
	if d.Log == nil {
		d.Log = slog.New(slog.DiscardHandler)
	}
	if d.Now == nil {
		d.Now = time.Now
	}
	pages, err := parsePages()
	if err != nil {
		return nil, err
	}
	con := &Console{Deps: d, cfg: c, keys: deriveKeys(c.Secret), pages: pages, mux: http.NewServeMux()}
	con.routes()
	return con, nil
}

// NewSecret makes a random console secret, for a deployment that stores one (see
// postgres.ConsoleBoard.Secret) rather than configuring CREDO_CONSOLE_SECRET.
func NewSecret() []byte {
	s := make([]byte, MinSecretLen)
	mustRandom(s)
	return s
}

// SecretFingerprint names a secret without revealing it, for a log line that says which one a
// replica uses.
func SecretFingerprint(secret []byte) string {
	h := sha256.Sum256(append([]byte("credo console fingerprint:"), secret...))
	return fmt.Sprintf("%x", h[:4])
}

// maxFormBytes bounds a form body: policy drafts are the largest (Rego modules and data tables).
const maxFormBytes = 2 << 20

// ServeHTTP answers the console's routes.
func (c *Console) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	// Pages hold client data: never cached, never framed, and no script or style from elsewhere.
	h.Set("Content-Security-Policy", "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "+
		"form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "same-origin")
	ctx, cancel := context.WithTimeout(r.Context(), c.cfg.RequestTimeout)
	defer cancel()
	r = r.WithContext(ctx)
	if r.Body != nil {
		r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	}
	c.mux.ServeHTTP(w, r)
}

func (c *Console) routes() {
	m := c.mux
	m.HandleFunc("GET /console", c.home)
	m.HandleFunc("GET /console/{$}", c.home)
	m.HandleFunc("GET /console/static/{file}", c.static)
	m.HandleFunc("GET /console/lang/{lang}", c.switchLanguage)
	m.HandleFunc("GET /console/login", c.loginPage)
	m.HandleFunc("POST /console/login", c.login)
	m.Handle("POST /console/logout", c.signedIn(c.logout))

	m.Handle("GET /console/portfolio", c.page(pagePortfolio, c.portfolio))
	m.Handle("GET /console/clients", c.page(pageClients, c.clients))
	m.Handle("GET /console/clients/{id}", c.page(pageClients, c.client))
	m.Handle("GET /console/decisions", c.page(pageDecisions, c.decisions))
	m.Handle("GET /console/decisions.csv", c.page(pageDecisions, c.decisionsCSV))
	m.Handle("GET /console/decisions/{id}", c.page(pageDecisions, c.decisionPage))
	m.Handle("GET /console/policies", c.page(pagePolicies, c.policies))
	m.Handle("GET /console/policies/new", c.page(pagePolicies, c.policyEditor))
	m.Handle("POST /console/policies", c.page(pagePolicies, c.createPolicy))
	m.Handle("GET /console/policies/{v}", c.page(pagePolicies, c.policyPage))
	m.Handle("POST /console/policies/{v}/test", c.page(pagePolicies, c.testPolicy))
	m.Handle("POST /console/policies/{v}/replay", c.page(pagePolicies, c.replayPolicy))
	m.Handle("POST /console/policies/{v}/activate", c.page(pagePolicies, c.activatePolicy))
	m.Handle("GET /console/screening", c.page(pageScreening, c.screening))
	m.Handle("GET /console/screening/{id}", c.page(pageScreening, c.screeningClient))
	m.Handle("POST /console/screening/{id}/hits/{hit}/disposition", c.page(pageScreening, c.dispose))
	m.HandleFunc("/console/", c.notFound)
}

// home sends a signed-in person to the first page their role may use, anyone else to sign-in.
func (c *Console) home(w http.ResponseWriter, r *http.Request) {
	q, ok := c.authenticate(w, r)
	if !ok {
		return
	}
	home := homeOf(q.who.Role)
	if home == "" {
		c.fail(w, r, q.v, http.StatusForbidden, q.v.T("error.forbidden"))
		return
	}
	http.Redirect(w, r, home, http.StatusSeeOther)
}

func (c *Console) notFound(w http.ResponseWriter, r *http.Request) {
	v := c.anonymousView(w, r)
	c.fail(w, r, v, http.StatusNotFound, v.T("error.not_found"))
}
