package solvency

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/time/rate"
)

// sireneServer answers /siren/{siren} like INSEE: the fixture for known SIRENs, a 404 with
// INSEE's header for others, a 401 without the integration key.
func sireneServer(t *testing.T, h *hits, key string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		h.add()
		if r.Header.Get("X-INSEE-Api-Key-Integration") != key {
			writeJSON(w, http.StatusUnauthorized, []byte(`{"httpCode":"401","httpMessage":"Unauthorized","moreInformation":"Invalid API Key"}`))
			return
		}
		switch strings.TrimPrefix(r.URL.Path, "/api-sirene/3.11/siren/") {
		case "904123783":
			writeJSON(w, http.StatusOK, MustReadTestdata(t, "sirene_active.json"))
		case "443061841":
			writeJSON(w, http.StatusOK, MustReadTestdata(t, "sirene_closed.json"))
		default:
			writeJSON(w, http.StatusNotFound, []byte(`{"header":{"statut":404,"message":"Aucun élément trouvé pour le siren 812345676"}}`))
		}
	}
}

func TestSIRENEFetch(t *testing.T) {
	tests := []struct {
		name                     string
		regID                    string
		status, statusDate       string
		created, legal, naf, tef string
		notFound                 bool
	}{
		{name: "active company", regID: "904123783", status: StatusActive, created: "2016-09-01", legal: "5710", naf: "62.01Z", tef: "12"},
		{name: "closed company, asked by SIRET", regID: "44306184100013", status: StatusClosed, statusDate: "2023-12-31",
			created: "1994-10-10", legal: "5499", naf: "46.90Z", tef: "NN"},
		{name: "unknown SIREN is an answer", regID: "812345676", status: StatusUnknown, notFound: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var h hits
			srv := MustServer(t, sireneServer(t, &h, "k-123"))
			s, err := NewSIRENE(srv.URL+"/api-sirene/3.11", "k-123", 0, fastOptions())
			if err != nil {
				t.Fatal(err)
			}
			snap, err := s.Fetch(context.Background(), Company{ClientID: "C-7", RegistrationID: tt.regID})
			if err != nil {
				t.Fatal(err)
			}
			if snap.CompanyStatus != tt.status || snap.NotFound != tt.notFound {
				t.Errorf("status %q not_found %v, want %q %v", snap.CompanyStatus, snap.NotFound, tt.status, tt.notFound)
			}
			checkDate(t, "status_date", snap.StatusDate, tt.statusDate)
			checkDate(t, "creation_date", snap.CreationDate, tt.created)
			if snap.LegalCategory != tt.legal || snap.NAF != tt.naf || snap.SizeBand != tt.tef {
				t.Errorf("legal %q naf %q size %q, want %q %q %q", snap.LegalCategory, snap.NAF, snap.SizeBand, tt.legal, tt.naf, tt.tef)
			}
			if snap.Provider != "sirene" || snap.Grade != nil || snap.Insolvency.Known() {
				t.Errorf("unexpected fields: %+v", snap)
			}
			if !tt.notFound && len(snap.Raw) == 0 {
				t.Error("raw payload not kept")
			}
			if h.count() != 1 {
				t.Errorf("%d requests, want 1 (404 is not retried)", h.count())
			}
			if err := snap.Validate(); err != nil {
				t.Error(err)
			}
		})
	}
}

func TestSIRENEWrongKeyIsNotRetried(t *testing.T) {
	var h hits
	srv := MustServer(t, sireneServer(t, &h, "right"))
	s, _ := NewSIRENE(srv.URL+"/api-sirene/3.11", "wrong", 0, fastOptions())
	_, err := s.Fetch(context.Background(), Company{ClientID: "C-7", RegistrationID: "904123783"})
	var fe *FetchError
	if !errors.As(err, &fe) || fe.Status != http.StatusUnauthorized || fe.Attempts != 1 {
		t.Fatalf("err = %v, want a single 401 attempt", err)
	}
	if strings.Contains(err.Error(), "wrong") {
		t.Errorf("the key leaked into the error: %v", err)
	}
}

func TestSIRENERejectsMalformedAnswers(t *testing.T) {
	for name, body := range map[string]string{
		"no uniteLegale":      `{"header":{"statut":200,"message":"OK"}}`,
		"another SIREN":       strings.Replace(string(MustReadTestdata(t, "sirene_active.json")), `"siren": "904123783"`, `"siren": "443061841"`, 1),
		"periods not a list":  `{"uniteLegale":{"siren":"904123783","periodesUniteLegale":{}}}`,
		"truncated":           `{"uniteLegale":{"siren":"904123783"`,
		"uniteLegale is text": `{"uniteLegale":"904123783"}`,
	} {
		t.Run(name, func(t *testing.T) {
			srv := MustServer(t, func(w http.ResponseWriter, r *http.Request) { writeJSON(w, http.StatusOK, []byte(body)) })
			s, _ := NewSIRENE(srv.URL, "k", 0, fastOptions())
			if _, err := s.Fetch(context.Background(), Company{ClientID: "C-7", RegistrationID: "904123783"}); !errors.Is(err, ErrMalformed) {
				t.Fatalf("err = %v, want ErrMalformed", err)
			}
		})
	}
}

func TestSIRENEWithheldFields(t *testing.T) {
	body := `{"uniteLegale":{"siren":"904123783","statutDiffusionUniteLegale":"P","dateCreationUniteLegale":"[ND]",` +
		`"trancheEffectifsUniteLegale":"[ND]","periodesUniteLegale":[{"dateFin":null,"dateDebut":"2016-09-01",` +
		`"etatAdministratifUniteLegale":"A","categorieJuridiqueUniteLegale":"1000","activitePrincipaleUniteLegale":"[ND]"}]}}`
	srv := MustServer(t, func(w http.ResponseWriter, r *http.Request) { writeJSON(w, http.StatusOK, []byte(body)) })
	s, _ := NewSIRENE(srv.URL, "k", 0, fastOptions())
	snap, err := s.Fetch(context.Background(), Company{ClientID: "C-7", RegistrationID: "904123783"})
	if err != nil {
		t.Fatal(err)
	}
	if snap.CompanyStatus != StatusActive || snap.CreationDate != nil || snap.NAF != "" || snap.SizeBand != "" || snap.LegalCategory != "1000" {
		t.Errorf("snapshot = %+v", snap)
	}
	if len(snap.Warnings) != 1 || !strings.Contains(snap.Warnings[0], "non-diffusible") {
		t.Errorf("warnings = %q", snap.Warnings)
	}
}

func TestSIRENERateLimit(t *testing.T) {
	tests := []struct {
		perMinute int
		want      rate.Limit
	}{
		{0, rate.Every(2 * time.Second)},
		{30, rate.Every(2 * time.Second)},
		{120, rate.Every(500 * time.Millisecond)},
	}
	for _, tt := range tests {
		s, err := NewSIRENE("https://api.insee.fr/api-sirene/3.11", "k", tt.perMinute, HTTPOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if got := s.f.limiter.Limit(); got != tt.want || s.f.limiter.Burst() != 1 {
			t.Errorf("%d/min: limit %v burst %d, want %v burst 1", tt.perMinute, got, s.f.limiter.Burst(), tt.want)
		}
	}
	if _, err := NewSIRENE("https://api.insee.fr/api-sirene/3.11", " ", 0, HTTPOptions{}); err == nil {
		t.Error("NewSIRENE accepted an empty key")
	}
}

func TestSIRENERateLimiterHoldsRequests(t *testing.T) {
	// With a limiter that has spent its only token, a fetch waits; a short context proves it
	// waits rather than sends.
	var h hits
	srv := MustServer(t, sireneServer(t, &h, "k"))
	s, _ := NewSIRENE(srv.URL+"/api-sirene/3.11", "k", 1, fastOptions())
	c := Company{ClientID: "C-7", RegistrationID: "904123783"}
	if _, err := s.Fetch(context.Background(), c); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if _, err := s.Fetch(ctx, c); err == nil {
		t.Fatal("second fetch within the minute was not held")
	}
	if h.count() != 1 {
		t.Errorf("%d requests reached INSEE, want 1", h.count())
	}
}

func TestSIRENEFollowsDuplicateRedirect(t *testing.T) {
	var h hits
	var srv *httptest.Server
	srv = MustServer(t, func(w http.ResponseWriter, r *http.Request) {
		h.add()
		if r.Header.Get("X-INSEE-Api-Key-Integration") != "k" {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		switch r.URL.Path {
		case "/siren/812345676":
			http.Redirect(w, r, srv.URL+"/siren/904123783", http.StatusMovedPermanently)
		case "/siren/904123783":
			writeJSON(w, http.StatusOK, MustReadTestdata(t, "sirene_active.json"))
		}
	})
	s, _ := NewSIRENE(srv.URL, "k", 6000, fastOptions())
	snap, err := s.Fetch(context.Background(), Company{ClientID: "C-7", RegistrationID: "812345676"})
	if err != nil {
		t.Fatal(err)
	}
	if snap.CompanyStatus != StatusActive || len(snap.Warnings) != 1 || !strings.Contains(snap.Warnings[0], "duplicate") || h.count() != 2 {
		t.Errorf("snapshot %+v after %d requests", snap, h.count())
	}
}

func TestRedirectToAnotherHostIsRefused(t *testing.T) {
	var leaked atomic.Bool
	other := MustServer(t, func(w http.ResponseWriter, r *http.Request) {
		leaked.Store(r.Header.Get("X-INSEE-Api-Key-Integration") != "")
		writeJSON(w, http.StatusOK, MustReadTestdata(t, "sirene_active.json"))
	})
	srv := MustServer(t, func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, strings.Replace(other.URL, "127.0.0.1", "localhost", 1)+"/siren/904123783", http.StatusFound)
	})
	s, _ := NewSIRENE(srv.URL, "k", 6000, fastOptions())
	_, err := s.Fetch(context.Background(), Company{ClientID: "C-7", RegistrationID: "904123783"})
	var fe *FetchError
	if !errors.As(err, &fe) || !errors.Is(err, errRedirect) || fe.Attempts != 1 {
		t.Errorf("err = %v, want one refused redirect", err)
	}
	if leaked.Load() {
		t.Error("the key reached another host")
	}
}
