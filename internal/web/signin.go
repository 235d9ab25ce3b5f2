package web

import (
	"net/http"
	"net/url"
	"path"
	"strings"
	"time"

	"github.com/credorisk/credo/internal/auth"
	"github.com/credorisk/credo/internal/fault"
)

// pageID names a section of the console.
type pageID int

// The sections, in menu order.
const (
	pagePortfolio pageID = iota
	pageClients
	pageDecisions
	pagePolicies
	pageScreening
)

// pageDef is a section: where it is, its menu label, and the permission a role needs to use it.
// The permission is the API's for the same work, so the console never lets a role do more than
// its key could through /v1.
type pageDef struct {
	path, label string
	perm        auth.Permission
}

var pageDefs = map[pageID]pageDef{
	pagePortfolio: {"/console/portfolio", "nav.portfolio", auth.MetricsRead},
	pageClients:   {"/console/clients", "nav.clients", auth.ExplanationRead},
	pageDecisions: {"/console/decisions", "nav.decisions", auth.DecisionRead},
	pagePolicies:  {"/console/policies", "nav.policies", auth.PolicyWrite},
	pageScreening: {"/console/screening", "nav.screening", auth.ScreeningWrite},
}

var pageOrder = []pageID{pagePortfolio, pageClients, pageDecisions, pagePolicies, pageScreening}

// allowed reports whether role may use a section.
func allowed(role auth.Role, id pageID) bool { return role.Can(pageDefs[id].perm) }

// homeOf is the first section role may use, or "" when it may use none (sales, ingest).
func homeOf(role auth.Role) string {
	for _, id := range pageOrder {
		if allowed(role, id) {
			return pageDefs[id].path
		}
	}
	return ""
}

// req is one signed-in request: who asked, their session, and the view being prepared.
type req struct {
	w    http.ResponseWriter
	r    *http.Request
	who  auth.Principal
	sess session
	v    *view
}

// handlerFunc is a page handler; an error becomes an error page with the status of its fault code.
type handlerFunc func(q *req) error

// authenticate reads the session cookie and checks the key behind it. When there is no valid
// session it answers with a redirect to sign-in (saying why) and returns false.
func (c *Console) authenticate(w http.ResponseWriter, r *http.Request) (*req, bool) {
	ck, err := r.Cookie(sessionCookie)
	if err != nil {
		c.toLogin(w, r, "")
		return nil, false
	}
	s, err := c.keys.openSession(ck.Value)
	if err != nil {
		c.toLogin(w, r, "invalid")
		return nil, false
	}
	now := c.Now()
	if why := c.expiry(s, now); why != "" {
		c.toLogin(w, r, why)
		return nil, false
	}
	p, err := c.Keys.Authenticate(r.Context(), s.Key)
	switch {
	case fault.Code(err) == fault.Unauthenticated:
		c.toLogin(w, r, "revoked")
		return nil, false
	case err != nil:
		v := c.anonymousView(w, r)
		c.fail(w, r, v, http.StatusServiceUnavailable, v.T("error.unavailable"))
		return nil, false
	}
	if now.Sub(time.Unix(s.Seen, 0)) >= seenEvery {
		s.Seen = now.Unix()
		c.writeSession(w, r, s)
	}
	q := &req{w: w, r: r, who: p, sess: s}
	q.v = c.newView(w, r, &p, c.keys.csrfToken(s))
	return q, true
}

// signedIn runs h for a person with a valid session; a form (any method but GET and HEAD) must
// carry the session's CSRF token and, when the browser names it, come from this origin.
func (c *Console) signedIn(h handlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q, ok := c.authenticate(w, r)
		if !ok {
			return
		}
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			if err := r.ParseForm(); err != nil {
				c.failErr(q, &fault.Error{Code: fault.BadRequest, Message: q.v.T("error.bad_form"), Err: err})
				return
			}
			if !sameOrigin(r) || !equalTokens(r.PostForm.Get("csrf"), c.keys.csrfToken(q.sess)) {
				c.fail(w, r, q.v, http.StatusForbidden, q.v.T("error.csrf"))
				return
			}
		}
		if err := h(q); err != nil {
			c.failErr(q, err)
		}
	})
}

// page is signedIn for one section: a role that may not use it gets 403, whatever the path.
func (c *Console) page(id pageID, h handlerFunc) http.Handler {
	return c.signedIn(func(q *req) error {
		if !allowed(q.who.Role, id) {
			return fault.Errorf(fault.Forbidden, "%s", q.v.T("error.forbidden"))
		}
		q.v.Section = id
		return h(q)
	})
}

// sameOrigin reports whether a form's Origin header, when the browser sent one, is this host.
func sameOrigin(r *http.Request) bool {
	o := r.Header.Get("Origin")
	if o == "" {
		return true // older browsers; SameSite=Strict and the token still hold
	}
	u, err := url.Parse(o)
	return err == nil && u.Host == r.Host
}

// toLogin ends whatever session the browser holds and sends it to sign-in, back to this page
// afterwards when it was a page.
func (c *Console) toLogin(w http.ResponseWriter, r *http.Request, why string) {
	if _, err := r.Cookie(sessionCookie); err == nil {
		c.clearCookie(w, r, sessionCookie)
	}
	q := url.Values{}
	if why != "" {
		q.Set("why", why)
	}
	if r.Method == http.MethodGet && r.URL.Path != consolePath && r.URL.Path != consolePath+"/" {
		q.Set("next", r.URL.RequestURI())
	}
	target := consolePath + "/login"
	if len(q) > 0 {
		target += "?" + q.Encode()
	}
	http.Redirect(w, r, target, http.StatusSeeOther)
}

// safeNext accepts only a path of this console as the page to go back to after sign-in.
func safeNext(next string) string {
	u, err := url.Parse(next)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil || strings.HasPrefix(next, "//") || strings.Contains(next, `\`) {
		return ""
	}
	// "/console/../v1" is not a console path, whatever its start.
	if clean := path.Clean(u.Path); clean != consolePath && !strings.HasPrefix(clean, consolePath+"/") || strings.Contains(u.Path, "..") {
		return ""
	}
	return u.RequestURI()
}

// loginView is the sign-in form's data.
type loginView struct {
	Token, Next, Why string
	Failed           string
}

func (c *Console) loginPage(w http.ResponseWriter, r *http.Request) {
	if ck, err := r.Cookie(sessionCookie); err == nil {
		if s, err := c.keys.openSession(ck.Value); err == nil && c.expiry(s, c.Now()) == "" {
			if p, err := c.Keys.Authenticate(r.Context(), s.Key); err == nil && homeOf(p.Role) != "" {
				http.Redirect(w, r, homeOf(p.Role), http.StatusSeeOther)
				return
			}
		}
	}
	v := c.anonymousView(w, r)
	c.renderLogin(w, r, v, http.StatusOK, r.URL.Query().Get("why"), "", safeNext(r.URL.Query().Get("next")))
}

// renderLogin shows the sign-in form with a fresh token bound to a fresh cookie.
func (c *Console) renderLogin(w http.ResponseWriter, r *http.Request, v *view, status int, why, failed, next string) {
	nonce := randomToken(18)
	c.setCookie(w, r, loginCookie, nonce, 30*time.Minute)
	switch why {
	case "expired", "idle", "revoked", "invalid", "signed_out":
	default:
		why = ""
	}
	v.Title = v.T("login.title")
	v.Data = loginView{Token: c.keys.loginToken(nonce), Next: next, Why: why, Failed: failed}
	c.render(w, r, v, status, "login")
}

func (c *Console) login(w http.ResponseWriter, r *http.Request) {
	v := c.anonymousView(w, r)
	if err := r.ParseForm(); err != nil {
		c.fail(w, r, v, http.StatusBadRequest, v.T("error.bad_form"))
		return
	}
	next := safeNext(r.PostForm.Get("next"))
	ck, err := r.Cookie(loginCookie)
	if err != nil || !sameOrigin(r) || !equalTokens(r.PostForm.Get("token"), c.keys.loginToken(ck.Value)) {
		c.renderLogin(w, r, v, http.StatusForbidden, "", v.T("login.stale_form"), next)
		return
	}
	key := strings.TrimSpace(r.PostForm.Get("key"))
	p, err := c.Keys.Authenticate(r.Context(), key)
	switch {
	case fault.Code(err) == fault.Unauthenticated:
		c.renderLogin(w, r, v, http.StatusUnauthorized, "", v.T("login.bad_key"), next)
		return
	case err != nil:
		c.fail(w, r, v, http.StatusServiceUnavailable, v.T("error.unavailable"))
		return
	case homeOf(p.Role) == "":
		c.renderLogin(w, r, v, http.StatusForbidden, "", v.Tf("login.no_pages", string(p.Role)), next)
		return
	}
	now := c.Now().Unix()
	c.writeSession(w, r, session{Key: key, ID: randomToken(18), Issued: now, Seen: now})
	c.clearCookie(w, r, loginCookie)
	c.Log.Info("console: signed in", "key", p.Name, "role", string(p.Role))
	if next == "" {
		next = homeOf(p.Role)
	}
	http.Redirect(w, r, next, http.StatusSeeOther)
}

func (c *Console) logout(q *req) error {
	c.clearCookie(q.w, q.r, sessionCookie)
	c.Log.Info("console: signed out", "key", q.who.Name)
	http.Redirect(q.w, q.r, consolePath+"/login?why=signed_out", http.StatusSeeOther)
	return nil
}
