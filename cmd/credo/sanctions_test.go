package main

import (
	"bytes"
	"context"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/credorisk/credo/internal/sanctions"
)

var sanctionsData = filepath.Join("..", "..", "..", "shared", "data", "sanctions")

// sanctionsTestEnv is a test environment for screening: no download from the official sites,
// versions stored by the CLI picked up within 100 ms.
func sanctionsTestEnv(t *testing.T) map[string]string {
	t.Helper()
	return testEnv(t, sanctionsEnvExtra)
}

var sanctionsEnvExtra = map[string]string{"CREDO_SANCTIONS_REFRESH": "off", "CREDO_SANCTIONS_SYNC": "100ms", "CREDO_SANCTIONS_CATCHUP": "200ms"}

// realListCounts parses the real files to know how many entries a load must report.
func realListCounts(t *testing.T) (ofac, un int) {
	t.Helper()
	for _, src := range []sanctions.Source{sanctions.SourceOFAC, sanctions.SourceUN} {
		path := filepath.Join(sanctionsData, "un", "consolidated.xml")
		if src == sanctions.SourceOFAC {
			path = filepath.Join(sanctionsData, "ofac")
		}
		files, _, err := sanctions.ReadListFiles(src, path)
		if err != nil {
			t.Fatal(err)
		}
		var entries []sanctions.Entry
		if src == sanctions.SourceOFAC {
			entries, err = sanctions.ParseOFAC(bytes.NewReader(files[0]), bytes.NewReader(files[1]), bytes.NewReader(files[2]), bytes.NewReader(files[3]))
			ofac = len(entries)
		} else {
			entries, err = sanctions.ParseUN(bytes.NewReader(files[0]))
			un = len(entries)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	return ofac, un
}

// MustLoadRealLists loads the real OFAC and UN files through `credo sanctions load`.
func MustLoadRealLists(t *testing.T, env map[string]string) {
	t.Helper()
	ofacCount, _ := realListCounts(t)
	mustCredo(t, env, "migrate")
	out := mustCredo(t, env, "sanctions", "load", "--source", "ofac", "--dir", filepath.Join(sanctionsData, "ofac"))
	if !strings.Contains(out, "ofac: version") || !strings.Contains(out, "loaded, "+strconv.Itoa(ofacCount)+" entries") {
		t.Fatalf("load ofac: %q", out)
	}
	out = mustCredo(t, env, "sanctions", "load", "--source", "un", "--file", filepath.Join(sanctionsData, "un", "consolidated.xml"))
	if !strings.Contains(out, "un: version") {
		t.Fatalf("load un: %q", out)
	}
}

// MustCopyOFAC copies the real OFAC files to a temporary directory, with edit applied to each
// file's content (nil: unchanged).
func MustCopyOFAC(t *testing.T, edit func(name string, b []byte) []byte) string {
	t.Helper()
	dir := t.TempDir()
	for _, n := range []string{"sdn.csv", "alt.csv", "add.csv", "sdn_comments.csv"} {
		b, err := os.ReadFile(filepath.Join(sanctionsData, "ofac", n))
		if err != nil {
			t.Fatal(err)
		}
		if edit != nil {
			b = edit(n, b)
		}
		if err := os.WriteFile(filepath.Join(dir, n), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

type listsBody struct {
	Loaded  bool `json:"loaded"`
	Entries int  `json:"entries"`
	Lists   []struct {
		Source  string `json:"source"`
		Version *struct {
			ID         int64  `json:"version_id"`
			EntryCount int    `json:"entry_count"`
			Origin     string `json:"origin"`
		} `json:"version"`
	} `json:"lists"`
}

func (l listsBody) version(src string) (id int64, count int) {
	for _, x := range l.Lists {
		if x.Source == src && x.Version != nil {
			return x.Version.ID, x.Version.EntryCount
		}
	}
	return 0, 0
}

type screeningBody struct {
	Status string `json:"status"`
	Hits   []struct {
		ID          string `json:"id"`
		Status      string `json:"status"`
		Subject     string `json:"subject"`
		Disposition *struct {
			Verdict string `json:"verdict"`
		} `json:"disposition"`
	} `json:"hits"`
	Cleared []struct {
		ID string `json:"id"`
	} `json:"cleared"`
	ListVersions map[string]int64 `json:"list_versions"`
}

func (s *testServer) screening(t *testing.T, clientID string) screeningBody {
	t.Helper()
	var b screeningBody
	s.expect(http.StatusOK, req{Method: "GET", Path: "/v1/clients/" + clientID + "/screening", Key: s.Keys["credit_manager"]}).JSON(t, &b)
	return b
}

func TestSanctionsFreshInstallServesWithoutLists(t *testing.T) {
	s := startServer(t, sanctionsEnvExtra)
	cm := s.Keys["credit_manager"]
	p := s.expect(http.StatusServiceUnavailable, req{Method: "POST", Path: "/v1/screenings", Key: cm, Body: map[string]any{"name": "Banco Nacional de Cuba"}}).problem(t)
	if !strings.Contains(p["detail"].(string), "not loaded") {
		t.Errorf("503 detail %q should say the lists are not loaded", p["detail"])
	}
	var lists listsBody
	s.expect(http.StatusOK, req{Method: "GET", Path: "/v1/sanctions/lists", Key: cm}).JSON(t, &lists)
	if lists.Loaded || len(lists.Lists) != 5 {
		t.Fatalf("lists on a fresh install: %+v, want 5 sources, none loaded", lists)
	}
	s.expect(http.StatusCreated, req{Method: "PUT", Path: "/v1/clients/c1", Key: s.Keys["ingest"], Body: map[string]any{"name": "Acme", "country": "FR"}})
	if sc := s.screening(t, "c1"); sc.Status != "not_screened" || len(sc.Hits) != 0 {
		t.Fatalf("screening without lists: %+v, want not_screened", sc)
	}
	s.expect(http.StatusServiceUnavailable, req{Method: "POST", Path: "/v1/clients/c1/screening/hits/ofac-306/disposition", Key: cm,
		Body: map[string]any{"verdict": "false_positive", "note": "n"}})
	s.expect(http.StatusNotFound, req{Method: "GET", Path: "/v1/clients/nobody/screening", Key: cm})
}

func TestSanctionsLoadSearchAndBadInput(t *testing.T) {
	env := sanctionsTestEnv(t)
	MustLoadRealLists(t, env)
	s := startServerEnv(t, env, true)

	var lists listsBody
	s.expect(http.StatusOK, req{Method: "GET", Path: "/v1/sanctions/lists", Key: s.Keys["finance"]}).JSON(t, &lists)
	ofacID, ofacCount := lists.version("ofac")
	unID, unCount := lists.version("un")
	wantOFAC, wantUN := realListCounts(t)
	if !lists.Loaded || ofacCount != wantOFAC || unCount != wantUN || lists.Entries != ofacCount+unCount || unID <= ofacID {
		t.Fatalf("lists after loading: %+v", lists)
	}

	type cand struct {
		ID          string  `json:"id"`
		List        string  `json:"list"`
		MatchedName string  `json:"matched_name"`
		Score       float64 `json:"score"`
	}
	var res struct{ Candidates []cand }
	search := func(key string, body map[string]any) []cand {
		t.Helper()
		s.expect(http.StatusOK, req{Method: "POST", Path: "/v1/screenings", Key: key, Body: body}).JSON(t, &res)
		return res.Candidates
	}
	tests := []struct {
		body   map[string]any
		wantID string
	}{
		{map[string]any{"name": "Banco Nacional de Cuba"}, "ofac-306"},
		{map[string]any{"name": "NATIONAL BANK OF CUBA", "type": "entity", "country": "cu"}, "ofac-306"},
		{map[string]any{"name": "Juan Carlos Ramirez Abadia", "type": "person", "birth_year": 1963}, "ofac-6718"},
		{map[string]any{"name": "Ramírez Abadía, Juan Carlos", "limit": 3, "min_score": 0.8}, "ofac-6718"},
	}
	for _, tt := range tests {
		cs := search(s.Keys["credit_manager"], tt.body)
		if len(cs) == 0 || cs[0].ID != tt.wantID || cs[0].Score < 0.9 {
			t.Errorf("search %v: %+v, want %s first with a high score", tt.body, cs, tt.wantID)
		}
	}
	// A UN entry is found too, through the same index.
	if cs := search(s.Keys["admin"], map[string]any{"name": "Al-Qaida"}); len(cs) == 0 {
		t.Errorf("Al-Qaida: no candidate")
	}
	if cs := search(s.Keys["finance"], map[string]any{"name": "Jean-Pierre Moulinier Logistique"}); len(cs) != 0 {
		t.Errorf("an unlisted name: %+v", cs)
	}

	for _, role := range []string{"sales", "ingest"} {
		s.expect(http.StatusForbidden, req{Method: "POST", Path: "/v1/screenings", Key: s.Keys[role], Body: map[string]any{"name": "x"}})
		s.expect(http.StatusForbidden, req{Method: "GET", Path: "/v1/sanctions/lists", Key: s.Keys[role]})
	}
	s.expect(http.StatusUnauthorized, req{Method: "POST", Path: "/v1/screenings", Body: map[string]any{"name": "x"}})

	bad := []struct {
		name   string
		body   any
		status int
		field  string
	}{
		{"empty name", map[string]any{"name": ""}, 422, "name"},
		{"blank name", map[string]any{"name": "   "}, 422, "name"},
		{"no name", map[string]any{"country": "FR"}, 422, "name"},
		{"10,000 characters", map[string]any{"name": strings.Repeat("a", 10000)}, 422, "name"},
		{"control characters", map[string]any{"name": "ACME\x00\x07 LTD"}, 422, "name"},
		{"punctuation only", map[string]any{"name": "--- !!"}, 422, "name"},
		{"bad type", map[string]any{"name": "x", "type": "ship"}, 422, "type"},
		{"bad country", map[string]any{"name": "x", "country": "Cuba"}, 422, "country"},
		{"bad birth year", map[string]any{"name": "x", "birth_year": 3000}, 422, "birth_year"},
		{"bad limit", map[string]any{"name": "x", "limit": 1000}, 422, "limit"},
		{"bad min_score", map[string]any{"name": "x", "min_score": 2}, 422, "min_score"},
		{"unknown field", map[string]any{"name": "x", "fuzzy": true}, 400, "fuzzy"},
		{"name not a string", map[string]any{"name": 12}, 400, "name"},
	}
	for _, tt := range bad {
		p := s.expect(tt.status, req{Method: "POST", Path: "/v1/screenings", Key: s.Keys["credit_manager"], Body: tt.body}).problem(t)
		if f := fieldsOf(t, p); len(f) == 0 || f[0] != tt.field {
			t.Errorf("%s: fields %v, want %s", tt.name, f, tt.field)
		}
	}

	// The CLI searches the lists stored in Postgres, and lists them.
	out := mustCredo(t, env, "sanctions", "search", "Banco Nacional de Cuba", "--type", "entity")
	if !strings.Contains(out, "ofac-306") {
		t.Errorf("credo sanctions search: %s", out)
	}
	if _, err := credoCmd(t, env, "sanctions", "search", strings.Repeat("x", 10000)); err == nil || !strings.Contains(err.Error(), "name") {
		t.Errorf("credo sanctions search of a 10,000-character name: %v", err)
	}
	out = mustCredo(t, env, "sanctions", "lists")
	if !strings.Contains(out, "ofac") || !strings.Contains(out, strconv.Itoa(wantOFAC)) || !strings.Contains(out, strconv.Itoa(wantUN)) {
		t.Errorf("credo sanctions lists:\n%s", out)
	}

	// Truncated or emptied files are refused with the cause, and the loaded lists stay.
	un, err := os.ReadFile(filepath.Join(sanctionsData, "un", "consolidated.xml"))
	if err != nil {
		t.Fatal(err)
	}
	cut := filepath.Join(t.TempDir(), "consolidated.xml")
	if err := os.WriteFile(cut, un[:len(un)*2/3], 0o600); err != nil {
		t.Fatal(err)
	}
	half := MustCopyOFAC(t, func(name string, b []byte) []byte {
		if name != "sdn.csv" {
			return b
		}
		return b[:len(b)/2+strings.IndexByte(string(b[len(b)/2:]), '\n')+40] // cut inside a row
	})
	refusals := []struct {
		args []string
		want string
	}{
		{[]string{"--source", "un", "--file", cut}, "XML"},
		{[]string{"--source", "ofac", "--dir", half}, "sdn.csv"},
		{[]string{"--source", "ofac", "--dir", t.TempDir()}, "holds no sdn.csv"},
		{[]string{"--source", "un", "--dir", filepath.Join(sanctionsData, "ofac")}, "--file"},
	}
	for _, r := range refusals {
		_, err := credoCmd(t, env, append([]string{"sanctions", "load"}, r.args...)...)
		if err == nil || !strings.Contains(err.Error(), r.want) {
			t.Errorf("load %v: %v, want an error naming %q", r.args, err, r.want)
		}
	}
	s.expect(http.StatusOK, req{Method: "GET", Path: "/v1/sanctions/lists", Key: s.Keys["finance"]}).JSON(t, &lists)
	if id, n := lists.version("ofac"); id != ofacID || n != ofacCount {
		t.Errorf("ofac after refused loads: version %d (%d entries), want %d", id, n, ofacID)
	}
	if id, n := lists.version("un"); id != unID || n != unCount {
		t.Errorf("un after refused loads: version %d (%d entries), want %d", id, n, unID)
	}
	// Loading the same content again changes nothing.
	if out := mustCredo(t, env, "sanctions", "load", "--source", "un", "--file", filepath.Join(sanctionsData, "un", "consolidated.xml")); !strings.Contains(out, "nothing changed") {
		t.Errorf("same content again: %q", out)
	}
}

// The director is a real OFAC individual (RAMIREZ ABADIA, Juan Carlos, ent_num 6718).
const listedDirector = "Juan Carlos Ramirez Abadia"

func TestSanctionsClientScreeningAndReview(t *testing.T) {
	env := sanctionsTestEnv(t)
	MustLoadRealLists(t, env)
	s := startServerEnv(t, env, true)
	ingest, cm := s.Keys["ingest"], s.Keys["credit_manager"]

	s.expect(http.StatusCreated, req{Method: "PUT", Path: "/v1/clients/c1", Key: ingest,
		Body: map[string]any{"name": "Transportes del Valle SAS", "country": "CO", "directors": []string{"Sophie Laurent", listedDirector}}})
	s.expect(http.StatusCreated, req{Method: "PUT", Path: "/v1/clients/c2", Key: ingest, Body: map[string]any{"name": "Boulangerie Martin", "country": "FR"}})
	if sc := s.screening(t, "c2"); sc.Status != "clear" || len(sc.Hits) != 0 || sc.ListVersions["ofac"] == 0 {
		t.Fatalf("an unlisted client: %+v", sc)
	}
	sc := s.screening(t, "c1")
	if sc.Status != "potential_match" || len(sc.Hits) == 0 || sc.Hits[0].ID != "ofac-6718" || sc.Hits[0].Subject != "director" {
		t.Fatalf("a client with a listed director: %+v", sc)
	}

	for _, role := range []string{"sales", "ingest"} {
		s.expect(http.StatusForbidden, req{Method: "GET", Path: "/v1/clients/c1/screening", Key: s.Keys[role]})
	}
	for _, role := range []string{"sales", "ingest", "finance"} {
		s.expect(http.StatusForbidden, req{Method: "POST", Path: "/v1/clients/c1/screening/hits/ofac-6718/disposition", Key: s.Keys[role],
			Body: map[string]any{"verdict": "false_positive", "note": "n"}})
	}
	dispose := func(status int, hit string, body any) *response {
		t.Helper()
		return s.expect(status, req{Method: "POST", Path: "/v1/clients/c1/screening/hits/" + hit + "/disposition", Key: cm, Body: body})
	}
	badDispositions := []struct {
		body  any
		field string
	}{
		{map[string]any{"verdict": "false_positive", "note": "  "}, "note"},
		{map[string]any{"verdict": "false_positive"}, "note"},
		{map[string]any{"verdict": "maybe", "note": "n"}, "verdict"},
		{map[string]any{"verdict": "false_positive", "note": strings.Repeat("n", 2001)}, "note"},
	}
	for _, tt := range badDispositions {
		if f := fieldsOf(t, dispose(http.StatusUnprocessableEntity, "ofac-6718", tt.body).problem(t)); len(f) == 0 || f[0] != tt.field {
			t.Errorf("disposition %v: fields %v, want %s", tt.body, f, tt.field)
		}
	}
	dispose(http.StatusNotFound, "ofac-306", map[string]any{"verdict": "false_positive", "note": "n"})
	s.expect(http.StatusNotFound, req{Method: "POST", Path: "/v1/clients/nobody/screening/hits/ofac-6718/disposition", Key: cm,
		Body: map[string]any{"verdict": "false_positive", "note": "n"}})

	// A false positive is remembered: the client's changes and rescreens keep it cleared.
	type dispositionResult struct {
		Disposition struct {
			Verdict   string `json:"verdict"`
			DecidedBy string `json:"decided_by"`
		} `json:"disposition"`
		Screening screeningBody `json:"screening"`
	}
	var dr dispositionResult
	dispose(http.StatusCreated, "ofac-6718", map[string]any{"verdict": "false_positive", "note": "Our director was born in 1988 in Bogota; passport checked."}).JSON(t, &dr)
	if dr.Screening.Status != "clear" || len(dr.Screening.Cleared) != 1 || dr.Screening.Cleared[0].ID != "ofac-6718" {
		t.Fatalf("after false_positive: %+v", dr.Screening)
	}
	s.expect(http.StatusOK, req{Method: "PUT", Path: "/v1/clients/c1", Key: ingest,
		Body: map[string]any{"name": "Transportes del Valle S.A.S.", "country": "CO", "directors": []string{listedDirector, "Sophie Laurent", "Pedro Ruiz"}}})
	if sc := s.screening(t, "c1"); sc.Status != "clear" || len(sc.Cleared) != 1 {
		t.Fatalf("after the client changed: %+v, want the false positive still cleared", sc)
	}

	// A new OFAC version that changes the entry's names raises the hit again, with the old
	// disposition attached; the server picks the version up from Postgres and rescreens.
	renamed := MustCopyOFAC(t, func(name string, b []byte) []byte {
		if name != "alt.csv" {
			return b
		}
		if len(b) > 0 && b[len(b)-1] != '\n' {
			b = append(b, '\n')
		}
		return append(b, []byte("6718,99999,\"aka\",\"RAMIREZ ABADIA, Chupeta\",-0- \n")...)
	})
	mustCredo(t, env, "sanctions", "load", "--source", "ofac", "--dir", renamed)
	sc = MustEventually(t, func() (screeningBody, bool) {
		sc := s.screening(t, "c1")
		return sc, sc.Status == "potential_match"
	})
	if len(sc.Hits) == 0 || sc.Hits[0].ID != "ofac-6718" || sc.Hits[0].Status != "open" || sc.Hits[0].Disposition == nil || sc.Hits[0].Disposition.Verdict != "false_positive" {
		t.Fatalf("after the entry's names changed: %+v", sc)
	}

	dr = dispositionResult{}
	dispose(http.StatusCreated, "ofac-6718", map[string]any{"verdict": "confirmed", "note": "Same person: date of birth and cedula match."}).JSON(t, &dr)
	if dr.Disposition.Verdict != "confirmed" || dr.Disposition.DecidedBy != "test-credit_manager" || dr.Screening.Status != "confirmed" || len(dr.Screening.Cleared) != 0 {
		t.Fatalf("after confirmed: %+v", dr)
	}
	if sc := s.screening(t, "c1"); sc.Status != "confirmed" || sc.Hits[0].Status != "confirmed" {
		t.Fatalf("confirmed screening read back: %+v", sc)
	}

	// Every disposition and every change of a screening is in the audit log.
	conn := MustConn(t, env)
	var dispositions, changes int
	if err := conn.QueryRow(context.Background(), `SELECT count(*) FILTER (WHERE action = 'screening.disposition'),
		count(*) FILTER (WHERE action = 'screening.changed' AND target_id = 'c1') FROM audit_log`).Scan(&dispositions, &changes); err != nil {
		t.Fatal(err)
	}
	if dispositions != 2 || changes < 4 {
		t.Errorf("audit: %d dispositions (want 2), %d screening changes of c1 (want 4: first, cleared, raised again, confirmed)", dispositions, changes)
	}
}

// A client import screens the clients it changed in the background, without anyone asking.
func TestSanctionsClientImportScreened(t *testing.T) {
	env := sanctionsTestEnv(t)
	MustLoadRealLists(t, env)
	s := startServerEnv(t, env, true)
	csv := "client_id,name,country,directors\nimp1,Agro Export Ltda,CO," + listedDirector + ";Ana Ruiz\nimp2,Boulangerie Petit,FR,\n"
	s.expect(http.StatusOK, req{Method: "POST", Path: "/v1/imports/clients", Key: s.Keys["ingest"], Body: csv, ContentType: "text/csv"})
	conn := MustConn(t, env)
	status := MustEventually(t, func() (map[string]string, bool) {
		rows, err := conn.Query(context.Background(), `SELECT client_id, status FROM sanctions_screenings`)
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]string{}
		for rows.Next() {
			var id, st string
			if err := rows.Scan(&id, &st); err != nil {
				t.Fatal(err)
			}
			got[id] = st
		}
		return got, len(got) == 2
	})
	if status["imp1"] != "potential_match" || status["imp2"] != "clear" {
		t.Fatalf("screenings stored after the import: %v", status)
	}
}

// MustConn connects to the test's database.
func MustConn(t *testing.T, env map[string]string) *pgx.Conn {
	t.Helper()
	conn, err := pgx.Connect(context.Background(), env["DATABASE_URL"])
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}

// MustEventually polls f until it reports done, for work the server does in the background.
func MustEventually[T any](t *testing.T, f func() (T, bool)) T {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		v, ok := f()
		if ok {
			return v
		}
		if time.Now().After(deadline) {
			t.Fatalf("not done after 20s; last: %+v", v)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
