package web

import (
	"net/http"
	"net/url"
	"testing"

	"github.com/credorisk/credo/internal/sanctions"
)

func TestScreeningPages(t *testing.T) {
	tc := MustConsole(t)
	sess := tc.MustSignIn("test-credit_manager")
	q := tc.get("/console/screening", sess)
	q.MustContain(t, `<a href="/console/screening/C-2">Fictive Trading SAS</a>`, "0.93")

	s := tc.get("/console/screening?name=Fictive+Negoce&type=entity&country=fr", sess)
	s.MustContain(t, `id="search-results"`, "Société Fictive de Négoce SARL", "fr-90002", `<option value="entity" selected>`, `value="FR"`,
		`<span class="tq">fictive</span>`, "(UE) 2022/332")
	tc.get("/console/screening?name=Nobody", sess).MustContain(t, "No listed entry matches.")

	c := tc.get("/console/screening/C-2", sess)
	c.MustContain(t, `id="screening-status">potential match<`, `<article class="hit" id="hit-fr-90002"`, "Listed entry", "RU",
		"Société Fictive de Négoce SARL", `action="/console/screening/C-2/hits/fr-90002/disposition"`, `value="false_positive"`)

	noNote := tc.post("/console/screening/C-2/hits/fr-90002/disposition", sess, url.Values{"verdict": {"false_positive"}, "note": {"  "}})
	if noNote.Status != http.StatusUnprocessableEntity {
		t.Fatalf("a disposition without a note: %d", noNote.Status)
	}
	noNote.MustContain(t, "<code>note</code>", "must explain the decision", `id="screening-status">potential match<`)

	badVerdict := tc.post("/console/screening/C-2/hits/fr-90002/disposition", sess, url.Values{"verdict": {"maybe"}, "note": {"kept note"}})
	if badVerdict.Status != http.StatusUnprocessableEntity {
		t.Fatalf("an unknown verdict: %d", badVerdict.Status)
	}
	badVerdict.MustContain(t, "<code>verdict</code>", ">kept note</textarea>")

	if p := tc.post("/console/screening/C-2/hits/ofac-1/disposition", sess, url.Values{"verdict": {"false_positive"}, "note": {"x"}}); p.Status != http.StatusNotFound {
		t.Errorf("a hit the client does not have: %d", p.Status)
	}

	ok := tc.post("/console/screening/C-2/hits/fr-90002/disposition", sess, url.Values{"verdict": {"false_positive"}, "note": {"Registered in France; not the Moscow trader."}})
	if ok.Status != http.StatusSeeOther || ok.Location() != "/console/screening/C-2?done=1" {
		t.Fatalf("a disposition: %d to %q", ok.Status, ok.Location())
	}
	after := tc.get(ok.Location(), sess)
	after.MustContain(t, "The decision was recorded", `id="screening-status">clear<`, `id="cleared-hits"`, "Registered in France; not the Moscow trader.", "test-credit_manager")
	sc, _ := tc.world.Sanctions.Screening(t.Context(), "C-2")
	if sc.Status != sanctions.StatusClear || len(sc.Cleared) != 1 || sc.Cleared[0].Disposition.DecidedBy != "test-credit_manager" {
		t.Errorf("screening after the disposition: %+v", sc)
	}
}

func TestFinanceCannotDispose(t *testing.T) {
	tc := MustConsole(t)
	sess := tc.MustSignIn("test-finance")
	p := tc.post("/console/screening/C-2/hits/fr-90002/disposition", sess, url.Values{"verdict": {"confirmed"}, "note": {"sure"}})
	if p.Status != http.StatusForbidden {
		t.Fatalf("finance disposing a hit: %d", p.Status)
	}
	if sc, _ := tc.world.Sanctions.Screening(t.Context(), "C-2"); sc.Status != sanctions.StatusPotentialMatch {
		t.Errorf("the refused disposition changed the screening: %s", sc.Status)
	}
}
