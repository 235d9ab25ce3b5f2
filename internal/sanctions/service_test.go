package sanctions_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/credorisk/credo/internal/ledger"
	"github.com/credorisk/credo/internal/postgres"
	"github.com/credorisk/credo/internal/postgres/pgtest"
	"github.com/credorisk/credo/internal/sanctions"
)

var sharedData = filepath.Join("..", "..", "..", "shared", "data", "sanctions")

// MustReadShared reads a file of the shared sanctions data.
func MustReadShared(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(sharedData, path))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// listServer serves list files as the official sites do: ETag and Last-Modified, 304 to a
// matching conditional request, and scripted failures.
type listServer struct {
	mu       sync.Mutex
	files    map[string][]byte // by lower-case path
	fail     map[string]int    // answers of 500 still to give, by path
	salt     int               // changes every ETag: a server that lost its validators
	requests []seen
}

type seen struct {
	path, ifNoneMatch, ifModifiedSince string
}

func newListServer(t *testing.T) (*listServer, *httptest.Server) {
	ls := &listServer{files: map[string][]byte{}, fail: map[string]int{}}
	srv := httptest.NewServer(http.HandlerFunc(ls.serve))
	t.Cleanup(srv.Close)
	return ls, srv
}

func (ls *listServer) set(path string, b []byte) {
	ls.mu.Lock()
	defer ls.mu.Unlock()
	ls.files[strings.ToLower(path)] = b
}

func (ls *listServer) failNext(path string, n int) {
	ls.mu.Lock()
	defer ls.mu.Unlock()
	ls.fail[strings.ToLower(path)] = n
}

// take returns and forgets the requests seen so far.
func (ls *listServer) take() []seen {
	ls.mu.Lock()
	defer ls.mu.Unlock()
	out := ls.requests
	ls.requests = nil
	return out
}

func (ls *listServer) serve(w http.ResponseWriter, r *http.Request) {
	ls.mu.Lock()
	defer ls.mu.Unlock()
	p := strings.ToLower(r.URL.Path)
	ls.requests = append(ls.requests, seen{p, r.Header.Get("If-None-Match"), r.Header.Get("If-Modified-Since")})
	if ls.fail[p] > 0 {
		ls.fail[p]--
		http.Error(w, "temporarily down", http.StatusInternalServerError)
		return
	}
	b, ok := ls.files[p]
	if !ok {
		http.NotFound(w, r)
		return
	}
	etag := fmt.Sprintf(`"%x-%d"`, sha256.Sum256(b), ls.salt)
	w.Header().Set("ETag", etag)
	w.Header().Set("Last-Modified", "Mon, 02 Mar 2026 10:00:00 GMT")
	if r.Header.Get("If-None-Match") == etag {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	_, _ = w.Write(b)
}

// MustService makes a service on a fresh database, downloading from srv, with quick retries.
func MustService(t *testing.T, st sanctions.Store, srv *httptest.Server) *sanctions.Service {
	t.Helper()
	cfg := sanctions.DefaultConfig()
	cfg.URLs = map[sanctions.Source]string{sanctions.SourceOFAC: srv.URL + "/ofac", sanctions.SourceUN: srv.URL + "/un/consolidated.xml"}
	cfg.Attempts, cfg.BaseBackoff, cfg.MaxBackoff, cfg.RetryMaxTime, cfg.Timeout = 3, time.Millisecond, 5*time.Millisecond, 10*time.Second, 10*time.Second
	s := sanctions.NewService(st, cfg, nil)
	if err := s.Load(context.Background()); err != nil {
		t.Fatal(err)
	}
	return s
}

// MustRefresh refreshes a list and checks the outcome.
func MustRefresh(t *testing.T, s *sanctions.Service, src sanctions.Source, want sanctions.Outcome) sanctions.RefreshOutcome {
	t.Helper()
	out, err := s.Refresh(context.Background(), src)
	if err != nil {
		t.Fatalf("refresh %s: %v", src, err)
	}
	if out.Outcome != want {
		t.Fatalf("refresh %s: %s (%s), want %s", src, out.Outcome, out.Message, want)
	}
	return out
}

// firstIndividuals keeps the first n individuals of the UN list and no entity: a well-formed
// list far shorter than the real one.
func firstIndividuals(t *testing.T, un []byte, n int) []byte {
	t.Helper()
	end := 0
	for i := 0; i < n; i++ {
		j := bytes.Index(un[end:], []byte("</INDIVIDUAL>"))
		if j < 0 {
			t.Fatal("not enough individuals")
		}
		end += j + len("</INDIVIDUAL>")
	}
	return append(append([]byte{}, un[:end]...), "\n</INDIVIDUALS><ENTITIES></ENTITIES></CONSOLIDATED_LIST>\n"...)
}

func TestRefreshUN(t *testing.T) {
	ctx := context.Background()
	st := postgres.NewSanctions(pgtest.MustDB(t))
	ls, srv := newListServer(t)
	s := MustService(t, st, srv)
	un := MustReadShared(t, "un/consolidated.xml")
	const path = "/un/consolidated.xml"
	ls.set(path, un)

	// A first download: accepted and served, no conditional headers (nothing to compare with).
	MustRefresh(t, s, sanctions.SourceUN, sanctions.OutcomeLoaded)
	v1 := s.Versions()[sanctions.SourceUN]
	if s.Index() == nil || s.Index().Len() != v1.EntryCount || v1.Origin != sanctions.OriginDownload {
		t.Fatalf("after the first download: version %+v, index %v", v1, s.Index())
	}
	if r := ls.take(); len(r) != 1 || r[0].ifNoneMatch != "" || r[0].ifModifiedSince != "" {
		t.Fatalf("first request %+v: no conditional headers expected", r)
	}

	// Unchanged on the server: the conditional request gets a 304.
	MustRefresh(t, s, sanctions.SourceUN, sanctions.OutcomeNotModified)
	if r := ls.take(); len(r) != 1 || r[0].ifNoneMatch == "" || r[0].ifModifiedSince != "Mon, 02 Mar 2026 10:00:00 GMT" {
		t.Fatalf("second request %+v: If-None-Match and If-Modified-Since expected", r)
	}

	// A server down twice, then a new version: retried, then accepted.
	renamed := bytes.Replace(un, []byte("<FIRST_NAME>ERIC</FIRST_NAME>"), []byte("<FIRST_NAME>ERICK</FIRST_NAME>"), 1)
	if bytes.Equal(renamed, un) {
		t.Fatal("the edit did not apply")
	}
	ls.set(path, renamed)
	ls.failNext(path, 2)
	MustRefresh(t, s, sanctions.SourceUN, sanctions.OutcomeLoaded)
	if r := ls.take(); len(r) != 3 {
		t.Fatalf("%d requests, want 2 failures and a success", len(r))
	}
	v2 := s.Versions()[sanctions.SourceUN]
	if v2.ID <= v1.ID || v2.ContentHash == v1.ContentHash {
		t.Fatalf("new version %+v after %+v", v2, v1)
	}

	// Refused: a truncated file, a list of fewer than half the entries, a server that stays down.
	// Each keeps the last good version, says why, and is shown on the lists report.
	refusals := []struct {
		name    string
		body    []byte
		fail    int
		outcome sanctions.Outcome
		message string
	}{
		{"truncated", renamed[:len(renamed)*3/4], 0, sanctions.OutcomeRefused, "not usable"},
		{"fewer than half", firstIndividuals(t, renamed, 100), 0, sanctions.OutcomeRefused, "fewer than half"},
		{"empty", []byte{}, 0, sanctions.OutcomeRefused, "not usable"},
		{"down", renamed, 10, sanctions.OutcomeFailed, "500"},
	}
	for _, r := range refusals {
		ls.set(path, append(bytes.Clone(r.body), ' ')) // another ETag, so the server answers with the body
		ls.failNext(path, r.fail)
		out := MustRefresh(t, s, sanctions.SourceUN, r.outcome)
		if !strings.Contains(out.Message, r.message) || !strings.Contains(out.Message, fmt.Sprintf("keeping version %d", v2.ID)) {
			t.Errorf("%s: message %q, want %q and the version kept", r.name, out.Message, r.message)
		}
		if got := s.Versions()[sanctions.SourceUN]; got.ID != v2.ID || s.Index().Len() != v2.EntryCount {
			t.Fatalf("%s: serving version %d with %d entries, want %d kept", r.name, got.ID, s.Index().Len(), v2.ID)
		}
		rep, err := s.Lists(ctx)
		if err != nil {
			t.Fatal(err)
		}
		l := rep.Lists[1]
		if l.Source != sanctions.SourceUN || l.Version == nil || l.Version.ID != v2.ID || l.Refresh.Last == nil || l.Refresh.Last.Outcome != r.outcome {
			t.Errorf("%s: lists report %+v", r.name, l)
		}
		if l.Refresh.LastSuccessAt == nil || !l.Refresh.LastSuccessAt.Before(l.Refresh.Last.At) {
			t.Errorf("%s: last success %v should predate the refused attempt", r.name, l.Refresh.LastSuccessAt)
		}
		ls.failNext(path, 0)
		ls.take()
	}
	// The last good content again: the validators kept through the refusals get a 304.
	ls.set(path, renamed)
	MustRefresh(t, s, sanctions.SourceUN, sanctions.OutcomeNotModified)
	// The same content under another ETag: downloaded, recognised, nothing new stored, and the
	// new validators kept for the next request.
	ls.mu.Lock()
	ls.salt++
	ls.mu.Unlock()
	MustRefresh(t, s, sanctions.SourceUN, sanctions.OutcomeUnchanged)
	MustRefresh(t, s, sanctions.SourceUN, sanctions.OutcomeNotModified)
	if got := s.Versions()[sanctions.SourceUN]; got.ID != v2.ID {
		t.Fatalf("unchanged content made version %d", got.ID)
	}

	// A restart (or a new replica) serves the stored version without downloading, with the same
	// index and the same answers.
	ls.take()
	restarted := MustService(t, st, srv)
	if r := ls.take(); len(r) != 0 {
		t.Fatalf("a restart downloaded %d files", len(r))
	}
	if got := restarted.Versions()[sanctions.SourceUN]; got != v2 {
		t.Fatalf("restarted on %+v, want %+v", got, v2)
	}
	for _, q := range []string{"Erick Badege", "Eric Badege", "Al-Qaida", "Taliban"} {
		a, errA := s.Search(sanctions.Query{Name: q, MinScore: 0.5})
		b, errB := restarted.Search(sanctions.Query{Name: q, MinScore: 0.5})
		if errA != nil || errB != nil || !reflect.DeepEqual(a, b) || len(a) == 0 {
			t.Fatalf("search %q before and after the restart differ or are empty: %d / %d (%v %v)", q, len(a), len(b), errA, errB)
		}
	}
}

func TestRefreshOFACFourFiles(t *testing.T) {
	st := postgres.NewSanctions(pgtest.MustDB(t))
	ls, srv := newListServer(t)
	s := MustService(t, st, srv)
	files := map[string][]byte{}
	for _, f := range []string{"sdn.csv", "alt.csv", "add.csv"} {
		files[f] = MustReadShared(t, "ofac/"+f)
		ls.set("/ofac/"+f, files[f])
	}
	// No SDN_COMMENTS.CSV on this server: the list loads without the continuation remarks.
	MustRefresh(t, s, sanctions.SourceOFAC, sanctions.OutcomeLoaded)
	if r := ls.take(); len(r) != 4 {
		t.Fatalf("%d requests, want the four files", len(r))
	}
	MustRefresh(t, s, sanctions.SourceOFAC, sanctions.OutcomeNotModified)
	for _, r := range ls.take() {
		if r.path != "/ofac/sdn_comments.csv" && r.ifNoneMatch == "" {
			t.Errorf("%s requested without If-None-Match", r.path)
		}
	}
	// One file changed: the others are fetched again in full, and a version is made of all four.
	ls.set("/ofac/sdn_comments.csv", MustReadShared(t, "ofac/sdn_comments.csv"))
	before := s.Versions()[sanctions.SourceOFAC]
	MustRefresh(t, s, sanctions.SourceOFAC, sanctions.OutcomeLoaded)
	after := s.Versions()[sanctions.SourceOFAC]
	if after.ID == before.ID || after.EntryCount != before.EntryCount {
		t.Fatalf("with comments: %+v after %+v", after, before)
	}
	// An alt.csv cut inside a quoted name fails the parse: refused.
	alt := files["alt.csv"]
	ls.set("/ofac/alt.csv", alt[:bytes.Index(alt, []byte(`"aka","`))+10])
	MustRefresh(t, s, sanctions.SourceOFAC, sanctions.OutcomeRefused)
	if s.Versions()[sanctions.SourceOFAC].ID != after.ID {
		t.Fatal("a refused download replaced the list")
	}
}

func TestConfigFromEnv(t *testing.T) {
	env := func(kv map[string]string) func(string) string { return func(k string) string { return kv[k] } }
	def, err := sanctions.ConfigFromEnv(env(nil))
	if err != nil || len(def.URLs) != 5 || def.Refresh != 24*time.Hour || def.URLs[sanctions.SourceUN] != sanctions.OfficialURLs[sanctions.SourceUN] {
		t.Fatalf("defaults: %+v %v", def, err)
	}
	c, err := sanctions.ConfigFromEnv(env(map[string]string{"CREDO_SANCTIONS_EU_URL": "off", "CREDO_SANCTIONS_UN_URL": "https://mirror.example/un.xml",
		"CREDO_SANCTIONS_REFRESH": "6h", "CREDO_SANCTIONS_SYNC": "off", "CREDO_SANCTIONS_RETRY_ATTEMPTS": "3"}))
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := c.URLs[sanctions.SourceEU]; ok || c.URLs[sanctions.SourceUN] != "https://mirror.example/un.xml" || c.Refresh != 6*time.Hour || c.Sync != 0 || c.Attempts != 3 {
		t.Fatalf("config %+v", c)
	}
	if c, err := sanctions.ConfigFromEnv(env(map[string]string{"CREDO_SANCTIONS_REFRESH": "off"})); err != nil || c.Refresh != 0 {
		t.Fatalf("refresh off: %+v %v", c.Refresh, err)
	}
	bad := []map[string]string{
		{"CREDO_SANCTIONS_OFAC_URL": "ftp://x/"},
		{"CREDO_SANCTIONS_OFAC_URL": "not a url"},
		{"CREDO_SANCTIONS_REFRESH": "daily"},
		{"CREDO_SANCTIONS_REFRESH_DELAY": "off"},
		{"CREDO_SANCTIONS_RETRY_ATTEMPTS": "0"},
		{"CREDO_SANCTIONS_RETRY_FAILED": "0s"},
	}
	for _, b := range bad {
		if _, err := sanctions.ConfigFromEnv(env(b)); err == nil {
			t.Errorf("%v: accepted", b)
		}
	}
	// A URL with a secret is not repeated in the error.
	_, err = sanctions.ConfigFromEnv(env(map[string]string{"CREDO_SANCTIONS_EU_URL": "ftp://user:secret@x/?token=abc"}))
	if err == nil || strings.Contains(err.Error(), "secret") || strings.Contains(err.Error(), "abc") {
		t.Errorf("error %v shows the secret", err)
	}
}

// hookCalls records the clients ScreeningChanged was called with.
type hookCalls struct {
	mu  sync.Mutex
	ids map[string]int
}

func (h *hookCalls) record(_ context.Context, ids []string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, id := range ids {
		h.ids[id]++
	}
}

func (h *hookCalls) count(id string) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.ids[id]
}

// MustEventually polls cond until it holds, for the service's background work.
func MustEventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not done after 20s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// MustLoadOFAC loads the real OFAC files, with edit applied to alt.csv (nil: unchanged).
func MustLoadOFAC(t *testing.T, s *sanctions.Service, editAlt func([]byte) []byte, want sanctions.Outcome) sanctions.ListVersion {
	t.Helper()
	files, location, err := sanctions.ReadListFiles(sanctions.SourceOFAC, filepath.Join(sharedData, "ofac"))
	if err != nil {
		t.Fatal(err)
	}
	if editAlt != nil {
		files[1] = editAlt(bytes.Clone(files[1]))
	}
	v, outcome, err := s.LoadFiles(context.Background(), sanctions.SourceOFAC, files, location, "test", false)
	if err != nil || outcome != want {
		t.Fatalf("load ofac: %s %v", outcome, err)
	}
	return v
}

func TestScreeningFollowsClientsAndLists(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	db := pgtest.MustDB(t)
	st := postgres.NewSanctions(db)
	cfg := sanctions.DefaultConfig()
	cfg.URLs, cfg.Sync, cfg.Catchup = nil, 20*time.Millisecond, 0
	svc := sanctions.NewService(st, cfg, nil)
	hook := &hookCalls{ids: map[string]int{}}
	svc.ScreeningChanged = hook.record
	led := &ledger.Service{Store: postgres.NewLedger(db, "EUR"), Currency: "EUR",
		ClientIdentityChanged: svc.ClientIdentityChanged, ClientsChanged: svc.ClientsChanged}
	if err := svc.Load(ctx); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { svc.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })

	put := func(c ledger.Client) {
		t.Helper()
		if _, _, err := led.PutClient(ctx, c, "test"); err != nil {
			t.Fatal(err)
		}
	}
	status := func(id string) sanctions.Result {
		t.Helper()
		r, err := svc.Status(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	put(ledger.Client{ClientID: "c1", Name: "Transportes del Valle SAS", Country: "CO", Directors: []string{"Juan Carlos Ramirez Abadia"}})
	put(ledger.Client{ClientID: "c2", Name: "Boulangerie Martin", Country: "FR"})
	put(ledger.Client{ClientID: "c3", Name: "---", Country: "FR", Directors: []string{"Juan Carlos\tRamirez  Abadia", "-"}})
	if r := status("c1"); r.Status != sanctions.StatusNotScreened {
		t.Fatalf("before any list: %s, want not_screened", r.Status)
	}

	// Loading a list rescreens every client in the background and reports each change.
	MustLoadOFAC(t, svc, nil, sanctions.OutcomeLoaded)
	MustEventually(t, "first screenings", func() bool { return hook.count("c1") == 1 && hook.count("c2") == 1 })
	_, stored, err := st.Subject(ctx, "c1")
	if err != nil || stored == nil || stored.Status != sanctions.StatusPotentialMatch || stored.Hits[0].ID != "ofac-6718" {
		t.Fatalf("c1 stored screening %+v (%v)", stored, err)
	}
	if r := status("c2"); r.Status != sanctions.StatusClear {
		t.Fatalf("c2: %s", r.Status)
	}
	// "---" holds nothing to screen: the client is not_screened (the policy reviews it), never
	// clear. Renamed, it is screened, its director's tab read as a space.
	if r := status("c3"); r.Status != sanctions.StatusNotScreened {
		t.Fatalf("c3 (no name to screen): %s, want not_screened", r.Status)
	}
	put(ledger.Client{ClientID: "c3", Name: "Agro Valle", Country: "CO", Directors: []string{"Juan Carlos\tRamirez  Abadia", "-"}})
	if r := status("c3"); r.Status != sanctions.StatusPotentialMatch || len(r.Hits) != 1 || r.Hits[0].SubjectName != "Juan Carlos Ramirez  Abadia" {
		t.Fatalf("c3 with a tab in a director's name: %+v", r)
	}

	// A client import screens the clients it changed, in the background.
	csv := "client_id,name,country,directors\nc4,Agro Export Ltda,CO,Juan Carlos Ramirez Abadia\n"
	opts, err := ledger.ParseImportOptions(ledger.ImportParams{Kind: "clients", Format: "csv"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := led.Import(ctx, strings.NewReader(csv), opts, "test", nil); err != nil {
		t.Fatal(err)
	}
	MustEventually(t, "imported client screened", func() bool { return hook.count("c4") == 1 })

	// A cleared false positive is raised again when a new list version changes the entry's names,
	// and each change reaches the hook.
	if _, sc, err := svc.Dispose(ctx, "c1", "ofac-6718", sanctions.VerdictFalsePositive, "born 1990, not him", "cm"); err != nil || sc.Status != sanctions.StatusClear {
		t.Fatalf("dispose: %+v %v", sc, err)
	}
	if n := hook.count("c1"); n != 2 {
		t.Fatalf("hook calls for c1 after the disposition: %d, want 2", n)
	}
	MustLoadOFAC(t, svc, nil, sanctions.OutcomeUnchanged) // the same content: nothing changes
	MustLoadOFAC(t, svc, func(b []byte) []byte {
		return append(append(b, '\n'), "6718,99999,\"aka\",\"RAMIREZ ABADIA, Chupeta\",-0- \n"...)
	}, sanctions.OutcomeLoaded)
	MustEventually(t, "c1 raised again", func() bool { return hook.count("c1") == 3 })
	r := status("c1")
	if r.Status != sanctions.StatusPotentialMatch || r.Hits[0].Disposition == nil || r.Hits[0].Disposition.Verdict != sanctions.VerdictFalsePositive {
		t.Fatalf("c1 after the names changed: %+v", r)
	}
	if hook.count("c2") != 1 {
		t.Fatalf("c2's screening did not change but the hook was called %d times", hook.count("c2"))
	}
}

// BenchmarkStatus reads a client's current screening, as a quote decision does: one round trip
// to Postgres, no rescreen. Run with -cpu 1.
func BenchmarkStatus(b *testing.B) {
	ctx := context.Background()
	db := pgtest.MustDB(b)
	st := postgres.NewSanctions(db)
	cfg := sanctions.DefaultConfig()
	cfg.URLs = nil
	svc := sanctions.NewService(st, cfg, nil)
	if err := svc.Load(ctx); err != nil {
		b.Fatal(err)
	}
	un, err := os.ReadFile(filepath.Join(sharedData, "un", "consolidated.xml"))
	if err != nil {
		b.Fatal(err)
	}
	if _, _, err := svc.LoadFiles(ctx, sanctions.SourceUN, [][]byte{un}, "consolidated.xml", "bench", false); err != nil {
		b.Fatal(err)
	}
	led := &ledger.Service{Store: postgres.NewLedger(db, "EUR"), Currency: "EUR", ClientIdentityChanged: svc.ClientIdentityChanged}
	if _, _, err := led.PutClient(ctx, ledger.Client{ClientID: "c1", Name: "Al-Qaida Trading", Country: "FR", Directors: []string{"Eric Badege", "Anne Martin"}}, "bench"); err != nil {
		b.Fatal(err)
	}
	durations := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		t0 := time.Now()
		r, err := svc.Status(ctx, "c1")
		if err != nil || r.Status != sanctions.StatusPotentialMatch {
			b.Fatalf("status %s: %v", r.Status, err)
		}
		durations = append(durations, time.Since(t0))
	}
	b.StopTimer()
	slices.Sort(durations)
	b.ReportMetric(float64(durations[len(durations)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(durations[len(durations)*99/100].Microseconds())/1000, "p99-ms")
}
