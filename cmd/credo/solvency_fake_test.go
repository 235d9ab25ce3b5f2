package main

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

var solvencyTestdata = filepath.Join("..", "..", "internal", "solvency", "testdata")

// fakeProviders are BODACC, SIRENE and a bureau as httptest servers answering in their real
// formats with the adapters' fixtures (internal/solvency/testdata), each switchable to a failure.
type fakeProviders struct {
	t      testing.TB
	mu     sync.Mutex
	bodacc map[string]string // SIREN -> fixture; others get bodacc_none.json
	bureau map[string]string // SIREN -> fixture; others get a 404
	mode   map[string]string // provider -> failure mode
	served map[string]int    // provider -> requests since the mode was set
	total  map[string]int    // provider -> every request
	// arrived is signalled (without blocking) when a request reaches a hanging provider.
	arrived chan string
	// release ends every hanging request.
	release chan struct{}

	bodaccURL, sireneURL, bureauURL string
}

// Failure modes of a fake provider.
const (
	fakeHang         = "hang"            // holds the request until release or the client gives up
	fake500ThenOK    = "500_then_ok"     // a 500, then the normal answer
	fake429ThenOK    = "429_then_ok"     // a 429 with Retry-After: 1, then the normal answer
	fake429TooLong   = "429_too_long"    // a 429 with a Retry-After of an hour, every time
	fakeMalformed    = "malformed"       // 200 with JSON cut in the middle
	fakeEndless      = "endless"         // 200 with a body that never ends
	fakeWrongType    = "wrong_type"      // 200 with an HTML maintenance page
	fakeUnauthorized = "401"             // the key is refused: not retried
	fakeSireneKey    = "test-sirene-key" // what the fake SIRENE expects
	fakeBureauKey    = "test-bureau-key"
)

var fakeWhereRE = regexp.MustCompile(`^registre like "(\d{9})" and familleavis="collective"$`)

// MustFakeProviders starts the three fake providers.
func MustFakeProviders(t testing.TB) *fakeProviders {
	t.Helper()
	f := &fakeProviders{t: t, bodacc: map[string]string{}, bureau: map[string]string{},
		mode: map[string]string{}, served: map[string]int{}, total: map[string]int{},
		arrived: make(chan string, 16), release: make(chan struct{})}
	start := func(name string, h http.HandlerFunc) string {
		srv := httptest.NewServer(f.guard(name, h))
		t.Cleanup(srv.Close)
		return srv.URL
	}
	f.bodaccURL = start("bodacc", f.serveBODACC)
	f.sireneURL = start("sirene", f.serveSIRENE) + "/api-sirene/3.11"
	f.bureauURL = start("bureau", f.serveBureau) + "/v1"
	// Cleanups run last first: hanging handlers end before the servers close, which waits for them.
	t.Cleanup(f.releaseAll)
	return f
}

// env is the server environment that points Credo at the fakes, with short timeouts.
func (f *fakeProviders) env(extra map[string]string) map[string]string {
	env := map[string]string{
		"CREDO_BODACC_URL": f.bodaccURL, "CREDO_SIRENE_URL": f.sireneURL, "CREDO_SIRENE_KEY": fakeSireneKey,
		"CREDO_BUREAU_URL": f.bureauURL, "CREDO_BUREAU_KEY": fakeBureauKey,
		"CREDO_BUREAU_MAPPING":    filepath.Join("..", "..", "deploy", "bureau-mapping.example.yaml"),
		"CREDO_SIRENE_RATE":       "6000", // INSEE's 30 a minute would space the refreshes 2s apart
		"CREDO_SOLVENCY_TIMEOUT":  "300ms",
		"CREDO_SOLVENCY_BACKOFF":  "5ms",
		"CREDO_SOLVENCY_INTERVAL": "1h",
	}
	for k, v := range sanctionsEnvExtra {
		env[k] = v
	}
	for k, v := range extra {
		env[k] = v
	}
	return env
}

func (f *fakeProviders) releaseAll() {
	f.mu.Lock()
	defer f.mu.Unlock()
	select {
	case <-f.release:
	default:
		close(f.release)
	}
}

func (f *fakeProviders) fixture(name string) []byte {
	b, err := os.ReadFile(filepath.Join(solvencyTestdata, name))
	if err != nil {
		f.t.Error(err)
	}
	return b
}

func writeProviderJSON(w http.ResponseWriter, status int, b []byte) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// set makes a provider answer a SIREN with a fixture ("" for its default answer).
func (f *fakeProviders) set(provider, siren, fixture string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	m := f.bodacc
	if provider == "bureau" {
		m = f.bureau
	}
	m[siren] = fixture
}

// fail switches a provider to a failure mode ("" restores it).
func (f *fakeProviders) fail(provider, mode string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.mode[provider], f.served[provider] = mode, 0
}

func (f *fakeProviders) requests(provider string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.total[provider]
}

func (f *fakeProviders) guard(provider string, next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		mode := f.mode[provider]
		f.served[provider]++
		f.total[provider]++
		n := f.served[provider]
		f.mu.Unlock()
		switch {
		case mode == fakeHang:
			select {
			case f.arrived <- provider:
			default:
			}
			select {
			case <-f.release:
			case <-r.Context().Done():
			}
		case mode == fake500ThenOK && n == 1:
			writeProviderJSON(w, http.StatusInternalServerError, []byte(`{"error":"internal"}`))
		case mode == fake429ThenOK && n == 1:
			w.Header().Set("Retry-After", "1")
			w.WriteHeader(http.StatusTooManyRequests)
		case mode == fake429TooLong:
			w.Header().Set("Retry-After", "3600")
			w.WriteHeader(http.StatusTooManyRequests)
		case mode == fakeMalformed:
			writeProviderJSON(w, http.StatusOK, []byte(`{"total_count": 3, "results": [{"id": "A2024`))
		case mode == fakeEndless:
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write([]byte(`{"results": ["`))
			chunk := []byte(strings.Repeat("x", 32<<10))
			for r.Context().Err() == nil {
				if _, err := w.Write(chunk); err != nil {
					return
				}
			}
		case mode == fakeWrongType:
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			_, _ = w.Write([]byte(`<html><body>Maintenance en cours</body></html>`))
		case mode == fakeUnauthorized:
			writeProviderJSON(w, http.StatusUnauthorized, []byte(`{"message":"Invalid API Key"}`))
		default:
			next(w, r)
		}
	}
}

// serveBODACC answers the Explore API v2.1 records query, page by page.
func (f *fakeProviders) serveBODACC(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	m := fakeWhereRE.FindStringSubmatch(q.Get("where"))
	if r.URL.Path != "/api/explore/v2.1/catalog/datasets/annonces-commerciales/records" || m == nil || q.Get("order_by") != "dateparution desc" {
		writeProviderJSON(w, http.StatusBadRequest, []byte(`{"error_code":"ODSQLError","message":"bad query"}`))
		return
	}
	f.mu.Lock()
	name := f.bodacc[m[1]]
	f.mu.Unlock()
	if name == "" {
		name = "bodacc_none.json"
	}
	var page struct {
		TotalCount int               `json:"total_count"`
		Results    []json.RawMessage `json:"results"`
	}
	if err := json.Unmarshal(f.fixture(name), &page); err != nil {
		f.t.Error(err)
	}
	limit, _ := strconv.Atoi(q.Get("limit"))
	offset, _ := strconv.Atoi(q.Get("offset"))
	end := min(offset+limit, len(page.Results))
	page.Results = page.Results[min(offset, end):end]
	b, _ := json.Marshal(page)
	writeProviderJSON(w, http.StatusOK, b)
}

// serveSIRENE answers /siren/{siren} like INSEE: an active and a closed unit, 404 for others.
func (f *fakeProviders) serveSIRENE(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("X-INSEE-Api-Key-Integration") != fakeSireneKey {
		writeProviderJSON(w, http.StatusUnauthorized, []byte(`{"httpCode":"401","httpMessage":"Unauthorized"}`))
		return
	}
	switch strings.TrimPrefix(r.URL.Path, "/api-sirene/3.11/siren/") {
	case "904123783":
		writeProviderJSON(w, http.StatusOK, f.fixture("sirene_active.json"))
	case "443061841":
		writeProviderJSON(w, http.StatusOK, f.fixture("sirene_closed.json"))
	default:
		writeProviderJSON(w, http.StatusNotFound, []byte(`{"header":{"statut":404,"message":"Aucun élément trouvé"}}`))
	}
}

// serveBureau answers Creditsafe-style company reports at /companies/FR-X-{registration_id}.
func (f *fakeProviders) serveBureau(w http.ResponseWriter, r *http.Request) {
	id, ok := strings.CutPrefix(r.URL.Path, "/v1/companies/FR-X-")
	f.mu.Lock()
	name := f.bureau[id[:min(len(id), 9)]]
	f.mu.Unlock()
	if !ok || name == "" || r.Header.Get("Authorization") != "Bearer "+fakeBureauKey {
		writeProviderJSON(w, http.StatusNotFound, []byte(`{"message":"Company not found"}`))
		return
	}
	writeProviderJSON(w, http.StatusOK, f.fixture(name))
}

// solvencyProviderDoc is one provider of GET /v1/clients/{id}/solvency, as the tests read it.
type solvencyProviderDoc struct {
	Provider string `json:"provider"`
	Enabled  bool   `json:"enabled"`
	Snapshot *struct {
		FetchedAt     time.Time       `json:"fetched_at"`
		CompanyStatus string          `json:"company_status"`
		Grade         *int            `json:"grade"`
		NotFound      bool            `json:"not_found"`
		Raw           json.RawMessage `json:"raw"`
		Insolvency    struct {
			Open bool   `json:"open"`
			Kind string `json:"kind"`
		} `json:"insolvency"`
	} `json:"snapshot"`
	AgeSeconds  *int64 `json:"age_seconds"`
	Stale       bool   `json:"stale"`
	LastFailure *struct {
		At    time.Time `json:"at"`
		Error string    `json:"error"`
	} `json:"last_failure"`
}

// solvencyReport is the part of GET /v1/clients/{id}/solvency the tests read.
type solvencyReport struct {
	Providers []solvencyProviderDoc `json:"providers"`
	View      struct {
		Available     bool   `json:"available"`
		Stale         bool   `json:"stale"`
		CompanyStatus string `json:"company_status"`
		Grade         *int   `json:"grade"`
		Insolvency    struct {
			Open         bool   `json:"open"`
			Kind         string `json:"kind"`
			JudgmentDate string `json:"judgment_date"`
		} `json:"insolvency"`
		Sources []string `json:"sources"`
	} `json:"view"`
}

// provider returns a provider's entry (an empty one when it is not listed).
func (r solvencyReport) provider(name string) solvencyProviderDoc {
	for _, p := range r.Providers {
		if p.Provider == name {
			return p
		}
	}
	return solvencyProviderDoc{}
}

// solvencyRefresh is the answer of POST /v1/clients/{id}/solvency/refresh.
type solvencyRefresh struct {
	Results []struct {
		Provider string `json:"provider"`
		Outcome  string `json:"outcome"`
		Error    string `json:"error"`
	} `json:"results"`
	Solvency solvencyReport `json:"solvency"`
}

func (r solvencyRefresh) outcome(provider string) string {
	for _, o := range r.Results {
		if o.Provider == provider {
			return o.Outcome
		}
	}
	return ""
}
