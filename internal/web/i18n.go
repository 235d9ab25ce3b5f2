package web

import (
	"net/http"
	"time"

	"github.com/credorisk/credo/internal/scoring"
)

// Languages of the console; English is the fallback.
var languages = []string{"en", "fr"}

// language picks the page's language: the person's choice (a cookie set by the switch), else
// their browser's Accept-Language.
func (c *Console) language(_ http.ResponseWriter, r *http.Request) string {
	if ck, err := r.Cookie(langCookie); err == nil && (ck.Value == "en" || ck.Value == "fr") {
		return ck.Value
	}
	return scoring.Lang(r.Header.Get("Accept-Language"))
}

// switchLanguage remembers a language choice for a year and goes back to the page.
func (c *Console) switchLanguage(w http.ResponseWriter, r *http.Request) {
	lang := r.PathValue("lang")
	if lang != "en" && lang != "fr" {
		c.notFound(w, r)
		return
	}
	c.setCookie(w, r, langCookie, lang, 365*24*time.Hour)
	back := safeNext(r.URL.Query().Get("back"))
	if back == "" {
		back = consolePath + "/"
	}
	http.Redirect(w, r, back, http.StatusSeeOther)
}

// translate looks a key up; a missing key shows itself (a test checks none is missing).
func translate(lang, key string) string {
	m, ok := messages[key]
	if !ok {
		return key
	}
	if lang == "fr" {
		return m[1]
	}
	return m[0]
}
