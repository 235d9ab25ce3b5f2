package web

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/credorisk/credo/internal/auth"
	"github.com/credorisk/credo/internal/decision"
	"github.com/credorisk/credo/internal/fault"
	"github.com/credorisk/credo/internal/ledger"
	"github.com/credorisk/credo/internal/sanctions"
)

// view is what every template gets: the page's data, and the language, the person and the
// helpers that format in their locale.
type view struct {
	Lang    string
	Title   string
	User    *auth.Principal
	CSRF    string
	Section pageID
	// Flash is a one-line outcome shown above the page ("Version 4 activated").
	Flash string
	// Path is the page's own address, where the language switch comes back to.
	Path string
	Data any
	loc  locale
}

// navItem is one entry of the menu.
type navItem struct {
	Path, Label string
	Current     bool
}

func (c *Console) newView(w http.ResponseWriter, r *http.Request, p *auth.Principal, csrf string) *view {
	lang := c.language(w, r)
	return &view{Lang: lang, User: p, CSRF: csrf, Section: -1, Path: backPath(r),
		loc: locale{lang: lang, currency: c.cfg.Currency}}
}

// backPath is the page a request shows, as an address to come back to (the language switch):
// itself for a page, the page a form was on for a form's answer.
func backPath(r *http.Request) string {
	if r.Method == http.MethodGet || r.Method == http.MethodHead {
		return r.URL.RequestURI()
	}
	p := r.URL.Path
	if i := strings.Index(p, "/hits/"); i > 0 {
		return p[:i] // a disposition: the client's screening
	}
	for _, action := range []string{"/test", "/replay", "/activate"} {
		if cut, ok := strings.CutSuffix(p, action); ok {
			return cut // a version's action: the version
		}
	}
	if p == consolePath+"/policies" {
		return consolePath + "/policies/new" // a draft refused: the editor
	}
	return p
}

// anonymousView is the view of a page shown without a session (sign-in, errors before one).
func (c *Console) anonymousView(w http.ResponseWriter, r *http.Request) *view {
	return c.newView(w, r, nil, "")
}

// Nav is the menu: only the sections the person's role may use.
func (v *view) Nav() []navItem {
	if v.User == nil {
		return nil
	}
	var out []navItem
	for _, id := range pageOrder {
		if allowed(v.User.Role, id) {
			d := pageDefs[id]
			out = append(out, navItem{Path: d.path, Label: v.T(d.label), Current: id == v.Section})
		}
	}
	return out
}

// Can reports whether the person may do what permission p allows (to show or hide an action).
func (v *view) Can(p string) bool { return v.User != nil && v.User.Role.Can(auth.Permission(p)) }

// T translates a message key.
func (v *view) T(key string) string { return translate(v.Lang, key) }

// Tf translates a message key holding fmt verbs and fills them.
func (v *view) Tf(key string, args ...any) string {
	return fmt.Sprintf(translate(v.Lang, key), args...)
}

// Money formats an amount in the deployment's currency.
func (v *view) Money(m ledger.Money) string { return v.loc.money(m) }

// MoneyPtr formats an optional amount.
func (v *view) MoneyPtr(m *ledger.Money) string {
	if m == nil {
		return dash
	}
	return v.loc.money(*m)
}

// Date formats a business date.
func (v *view) Date(d ledger.Date) string { return v.loc.date(d) }

// DatePtr formats an optional business date.
func (v *view) DatePtr(d *ledger.Date) string {
	if d == nil {
		return dash
	}
	return v.loc.date(*d)
}

// Time formats an instant (UTC).
func (v *view) Time(t time.Time) string {
	if t.IsZero() {
		return dash
	}
	return v.loc.timestamp(t)
}

// TimePtr formats an optional instant.
func (v *view) TimePtr(t *time.Time) string {
	if t == nil {
		return dash
	}
	return v.Time(*t)
}

// Num formats an optional number with decimals places.
func (v *view) Num(x *float64, decimals int) string {
	if x == nil {
		return dash
	}
	return v.loc.number(*x, decimals)
}

// Float formats a number with decimals places.
func (v *view) Float(x float64, decimals int) string { return v.loc.number(x, decimals) }

// Int formats a whole number, grouped.
func (v *view) Int(n int) string { return v.loc.number(float64(n), 0) }

// Pct formats an optional fraction of 1 as a percentage with one decimal.
func (v *view) Pct(x *float64) string {
	if x == nil {
		return dash
	}
	return v.loc.percent(*x, 1)
}

// PD formats a probability of default, finer than Pct: PDs of good clients are below 1%.
func (v *view) PD(x float64) string { return v.loc.percent(x, 2) }

// Static is the address of an embedded asset, with its content hash so a new build is fetched.
func (v *view) Static(name string) string { return staticURL(name) }

// LangURL is the address that switches to lang and comes back to this page.
func (v *view) LangURL(lang string) string {
	return consolePath + "/lang/" + lang + "?back=" + url.QueryEscape(v.Path)
}

// render executes a page's template and writes it with status.
func (c *Console) render(w http.ResponseWriter, r *http.Request, v *view, status int, page string) {
	var buf bytes.Buffer
	if err := c.pages.execute(&buf, page, v); err != nil {
		c.Log.Error("console: render", "page", page, "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Language", v.Lang)
	h.Set("Cache-Control", "no-store")
	h.Set("Vary", "Cookie, Accept-Language")
	w.WriteHeader(status)
	if r.Method != http.MethodHead {
		_, _ = w.Write(buf.Bytes())
	}
}

// errorView is the error page's data.
type errorView struct {
	Status  int
	Message string
	Fields  []fault.FieldError
}

// fail shows the error page.
func (c *Console) fail(w http.ResponseWriter, r *http.Request, v *view, status int, msg string, fields ...fault.FieldError) {
	v.Title = http.StatusText(status)
	v.Data = errorView{Status: status, Message: msg, Fields: fields}
	c.render(w, r, v, status, "error")
}

// failErr shows the error page for a handler's error: the domain's message for what the person
// can act on, a generic one (and a log line) for the rest.
func (c *Console) failErr(q *req, err error) {
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		c.fail(q.w, q.r, q.v, http.StatusRequestEntityTooLarge, q.v.T("error.too_large"))
		return
	}
	if errors.Is(err, context.DeadlineExceeded) {
		c.Log.Warn("console: a page ran out of time", "path", q.r.URL.Path, "err", err)
		c.fail(q.w, q.r, q.v, http.StatusServiceUnavailable, q.v.T("error.timeout"))
		return
	}
	code := fault.Code(err)
	status := fault.HTTPStatus(code)
	var fe *fault.Error
	switch {
	case code == fault.Internal || !errors.As(err, &fe):
		c.Log.Error("console: page failed", "path", q.r.URL.Path, "key", q.who.Name, "err", err)
		c.fail(q.w, q.r, q.v, http.StatusInternalServerError, q.v.T("error.internal"))
	case code == fault.Unavailable:
		c.Log.Warn("console: a service is unavailable", "path", q.r.URL.Path, "err", err)
		c.fail(q.w, q.r, q.v, status, q.v.T("error.unavailable")+" "+fe.Message)
	default:
		c.fail(q.w, q.r, q.v, status, fe.Message, fe.Fields...)
	}
}

// errNotConfigured answers a page whose service this server was built without.
func errNotConfigured(what string) error {
	return fault.Errorf(fault.Unavailable, "%s is not configured on this server", what)
}

// Days formats an optional number of days with one decimal: "23.2 days".
func (v *view) Days(x *float64) string {
	if x == nil {
		return dash
	}
	return v.Tf("unit.days", v.loc.number(*x, 1))
}

// Percent100 formats an optional figure already in percent (the CEI).
func (v *view) Percent100(x *float64) string {
	if x == nil {
		return dash
	}
	return v.loc.percent(*x/100, 1)
}

// YesNo formats an optional flag.
func (v *view) YesNo(b *bool) string {
	switch {
	case b == nil:
		return dash
	case *b:
		return v.T("yes")
	}
	return v.T("no")
}

// Terms formats payment terms: "net 30 days", "45 days end of month", with the deposit asked.
func (v *view) Terms(t decision.PaymentTerms) string {
	if t.DepositPercent >= 100 {
		return v.T("terms.advance")
	}
	s := v.Tf("terms.net", t.NetDays)
	if t.EndOfMonth {
		s = v.Tf("terms.eom", t.NetDays)
	}
	if t.DepositPercent > 0 {
		s += ", " + v.Tf("terms.deposit", t.DepositPercent)
	}
	return s
}

// EntryName is a listed entry's primary name.
func (v *view) EntryName(e sanctions.Entry) string { return e.PrimaryName() }
