package solvency

import (
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

// world is the three providers as httptest servers speaking their real formats with the
// testdata fixtures, each of which can be switched to a failure mode.
type world struct {
	t      *testing.T
	mu     sync.Mutex
	mode   map[string]string // provider -> failure mode ("" answers normally)
	served map[string]int    // provider -> requests since its mode was set
	total  map[string]int    // provider -> every request received
	hits   map[string]*hits
	bureau map[string]string // SIREN -> bureau fixture

	bodaccURL, sireneURL, bureauURL string
}

// Failure modes of a world provider.
const (
	modeTimeout        = "timeout"         // never answers within the request timeout
	mode500ThenOK      = "500_then_ok"     // a 500, then the normal answer
	mode429RetryAfter  = "429_retry_after" // a 429 with Retry-After: 1, then the normal answer
	mode429TooLong     = "429_too_long"    // a 429 with a Retry-After beyond the cap, every time
	modeMalformed      = "malformed"       // 200 with JSON cut in the middle
	modeEndless        = "endless"         // 200 with a body that never ends
	modeWrongType      = "wrong_type"      // 200 with an HTML maintenance page
	modeServerDownHard = "500"             // 500 every time
)

const worldSireneKey = "sirene-key"

// MustWorld starts the three provider servers.
func MustWorld(t *testing.T) *world {
	t.Helper()
	w := &world{t: t, mode: map[string]string{}, served: map[string]int{}, total: map[string]int{},
		hits:   map[string]*hits{"bodacc": {}, "sirene": {}, "bureau": {}},
		bureau: map[string]string{"904123783": "bureau_B.json", "812345676": "bureau_E.json", "443061841": "bureau_C.json"}}
	bodacc := bodaccServer(t, w.hits["bodacc"])
	sirene := sireneServer(t, w.hits["sirene"], worldSireneKey)
	w.bodaccURL = MustServer(t, w.guard("bodacc", func(rw http.ResponseWriter, r *http.Request) {
		if m := whereRE.FindStringSubmatch(r.URL.Query().Get("where")); m != nil && bodaccFixtures[m[1]] == "" {
			writeJSON(rw, http.StatusOK, MustReadTestdata(t, "bodacc_none.json"))
			return
		}
		bodacc(rw, r)
	})).URL
	w.sireneURL = MustServer(t, w.guard("sirene", sirene)).URL + "/api-sirene/3.11"
	w.bureauURL = MustServer(t, w.guard("bureau", func(rw http.ResponseWriter, r *http.Request) {
		w.hits["bureau"].add()
		id, ok := strings.CutPrefix(r.URL.Path, "/v1/companies/FR-X-")
		w.mu.Lock()
		fixture := w.bureau[id[:min(len(id), 9)]]
		w.mu.Unlock()
		if !ok || fixture == "" || r.Header.Get("Authorization") != "Bearer bureau-key" {
			writeJSON(rw, http.StatusNotFound, []byte(`{"message":"Company not found","correlationId":"0f1e"}`))
			return
		}
		writeJSON(rw, http.StatusOK, MustReadTestdata(t, fixture))
	})).URL + "/v1"
	return w
}

// guard applies the provider's failure mode before its normal handler.
func (w *world) guard(provider string, next http.HandlerFunc) http.HandlerFunc {
	return func(rw http.ResponseWriter, r *http.Request) {
		w.mu.Lock()
		mode := w.mode[provider]
		w.served[provider]++
		w.total[provider]++
		n := w.served[provider]
		w.mu.Unlock()
		switch {
		case mode == modeTimeout:
			sleepOrGone(r, 10*time.Second)
		case mode == mode500ThenOK && n == 1, mode == modeServerDownHard:
			writeJSON(rw, http.StatusInternalServerError, []byte(`{"error":"internal error"}`))
		case mode == mode429RetryAfter && n == 1:
			rw.Header().Set("Retry-After", "1")
			rw.WriteHeader(http.StatusTooManyRequests)
		case mode == mode429TooLong:
			rw.Header().Set("Retry-After", "3600")
			rw.WriteHeader(http.StatusTooManyRequests)
		case mode == modeMalformed:
			writeJSON(rw, http.StatusOK, []byte(`{"total_count": 1, "results": [{"id": "A2024`))
		case mode == modeEndless:
			rw.Header().Set("Content-Type", "application/json")
			_, _ = rw.Write([]byte(`{"results": ["`))
			chunk := []byte(strings.Repeat("x", 8192))
			for r.Context().Err() == nil {
				if _, err := rw.Write(chunk); err != nil {
					return
				}
			}
		case mode == modeWrongType:
			rw.Header().Set("Content-Type", "text/html; charset=utf-8")
			_, _ = rw.Write([]byte(`<html><body>Maintenance en cours</body></html>`))
		default:
			next(rw, r)
		}
	}
}

// fail switches a provider to a failure mode ("" restores it).
func (w *world) fail(provider, mode string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.mode[provider], w.served[provider] = mode, 0
}

// setBureau makes the bureau answer a SIREN with a fixture.
func (w *world) setBureau(siren, fixture string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.bureau[siren] = fixture
}

// requests counts the requests a provider received (failures included).
func (w *world) requests(provider string) int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.total[provider]
}

// MustProviders builds the three adapters on the world with fast HTTP options and the clock that
// dates their snapshots.
func (w *world) MustProviders(t *testing.T, now func() time.Time) []Provider {
	t.Helper()
	opts := fastOptions()
	opts.MaxBody, opts.Now = 256<<10, now
	b, err := NewBODACC(w.bodaccURL, opts)
	if err != nil {
		t.Fatal(err)
	}
	s, err := NewSIRENE(w.sireneURL, worldSireneKey, 6000, opts)
	if err != nil {
		t.Fatal(err)
	}
	bu, err := NewBureau(w.bureauURL, "bureau-key", MustLoadExampleMapping(t), "EUR", opts)
	if err != nil {
		t.Fatal(err)
	}
	return []Provider{b, s, bu}
}
