package postgres_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/credorisk/credo/internal/fault"
	"github.com/credorisk/credo/internal/ledger"
	"github.com/credorisk/credo/internal/postgres"
	"github.com/credorisk/credo/internal/solvency"
)

// solvencyT0 is the solvency store tests' reference time.
var solvencyT0 = time.Date(2025, 3, 3, 10, 0, 0, 123456000, time.UTC)

// MustSolvencyClients creates clients "id:registration_id" (country FR) and returns the store.
func MustSolvencyClients(t *testing.T, specs ...string) (*postgres.Solvency, *ledger.Service, *postgres.DB) {
	t.Helper()
	svc, db := mustLedger(t)
	for _, s := range specs {
		MustSolvencyClient(t, svc, s, "FR")
	}
	return postgres.NewSolvency(db), svc, db
}

// MustSolvencyClient creates or updates a client "id:registration_id" in a country.
func MustSolvencyClient(t *testing.T, svc *ledger.Service, spec, country string) {
	t.Helper()
	id, reg, _ := strings.Cut(spec, ":")
	if _, _, err := svc.PutClient(context.Background(), ledger.Client{ClientID: id, Name: "Client " + id, RegistrationID: reg, Country: country}, "test"); err != nil {
		t.Fatal(err)
	}
}

func ptrTo[T any](v T) *T { return &v }

// fullSnapshot sets every field of a snapshot.
func fullSnapshot(clientID, provider string, at time.Time) solvency.Snapshot {
	day := func(s string) *ledger.Date { v := d(s); return &v }
	s := solvency.Snapshot{Provider: provider, ClientID: clientID, FetchedAt: at, NotFound: false, CompanyStatus: solvency.StatusActive,
		StatusDate: day("2020-01-02"),
		Insolvency: solvency.Insolvency{Open: true, Kind: solvency.KindLiquidation, JudgmentDate: day("2024-06-18"),
			Nature: "Jugement de conversion en liquidation judiciaire"},
		Grade: ptrTo(8), RawScore: "24", Scale: "creditsafe score 1-100, higher is better", RecommendedLimit: ptrTo(ledger.Money(2_000_50)),
		Revenue: ptrTo(ledger.Money(-1)), NegativeInformation: ptrTo(true), CreationDate: day("2011-05-16"), LegalCategory: "5710",
		NAF: "46.90Z", SizeBand: "NN", Warnings: []string{"an amount in USD was dropped", "élément ignoré"},
		Raw: json.RawMessage(`{"report": {"b": 1, "a": [1.50, "x"]}}`)}
	s.SetEquity(-167_924_00)
	return s
}

func MustSave(t *testing.T, st *postgres.Solvency, info solvency.SaveInfo, snaps ...solvency.Snapshot) []int {
	t.Helper()
	missing, err := st.SaveSnapshots(context.Background(), snaps, info)
	if err != nil {
		t.Fatal(err)
	}
	return missing
}

// MustStates reads a client's states by provider.
func MustStates(t *testing.T, st *postgres.Solvency, clientID string, withRaw bool) map[string]solvency.ProviderState {
	t.Helper()
	states, err := st.States(context.Background(), clientID, withRaw)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]solvency.ProviderState{}
	for _, s := range states {
		out[s.Provider] = s
	}
	return out
}

var fetchInfo = solvency.SaveInfo{Actor: "test", Source: solvency.SourceFetch}

func TestSolvencySnapshotRoundTrip(t *testing.T) {
	st, _, _ := MustSolvencyClients(t, "C-1:812345676")
	in := fullSnapshot("C-1", "bureau", solvencyT0)
	MustSave(t, st, fetchInfo, in)
	got := MustStates(t, st, "C-1", true)["bureau"]
	if got.Snapshot == nil || got.FailedAt != nil {
		t.Fatalf("state %+v", got)
	}
	want, _ := json.Marshal(in)
	have, _ := json.Marshal(got.Snapshot)
	if string(have) != string(want) {
		t.Errorf("read back\n%s\nwant\n%s", have, want)
	}
	if got := MustStates(t, st, "C-1", false)["bureau"]; got.Snapshot.Raw != nil {
		t.Errorf("raw payload read without asking: %s", got.Snapshot.Raw)
	}
	minimal := solvency.Snapshot{Provider: "sirene", ClientID: "C-1", FetchedAt: solvencyT0, NotFound: true, CompanyStatus: solvency.StatusUnknown}
	MustSave(t, st, fetchInfo, minimal)
	want, _ = json.Marshal(minimal)
	have, _ = json.Marshal(MustStates(t, st, "C-1", true)["sirene"].Snapshot)
	if string(have) != string(want) {
		t.Errorf("read back\n%s\nwant\n%s", have, want)
	}
	if _, err := st.States(context.Background(), "nobody", false); fault.Code(err) != fault.NotFound {
		t.Errorf("unknown client: %v", err)
	}
	bad := fullSnapshot("C-1", "bureau", solvencyT0)
	bad.Grade = ptrTo(11)
	if _, err := st.SaveSnapshots(context.Background(), []solvency.Snapshot{bad}, fetchInfo); fault.Code(err) != fault.Invalid {
		t.Errorf("an invalid snapshot: %v", err)
	}
}

// TestSolvencyLatestAndFailures walks one client and provider through saves and failures.
func TestSolvencyLatestAndFailures(t *testing.T) {
	st, _, _ := MustSolvencyClients(t, "C-1:812345676")
	at := func(h int) time.Time { return solvencyT0.Add(time.Duration(h) * time.Hour) }
	snap := func(h, grade int) solvency.Snapshot {
		return solvency.Snapshot{Provider: "bureau", ClientID: "C-1", FetchedAt: at(h), CompanyStatus: solvency.StatusActive, Grade: &grade}
	}
	steps := []struct {
		name     string
		do       func() error
		grade    int // grade of the latest snapshot
		failedAt *time.Time
	}{
		{"first snapshot", func() error {
			_, err := st.SaveSnapshots(context.Background(), []solvency.Snapshot{snap(0, 3)}, fetchInfo)
			return err
		}, 3, nil},
		{"an older import does not replace it", func() error {
			_, err := st.SaveSnapshots(context.Background(), []solvency.Snapshot{snap(-48, 9)}, solvency.SaveInfo{Actor: "t", Source: solvency.SourceImport})
			return err
		}, 3, nil},
		{"a failure keeps the snapshot", func() error {
			return st.RecordFailure(context.Background(), "C-1", "bureau", at(2), errors.New("HTTP 500"))
		}, 3, ptrTo(at(2))},
		{"an older failure does not replace a newer one", func() error {
			return st.RecordFailure(context.Background(), "C-1", "bureau", at(1), errors.New("older"))
		}, 3, ptrTo(at(2))},
		{"a newer snapshot clears the failure", func() error {
			_, err := st.SaveSnapshots(context.Background(), []solvency.Snapshot{snap(3, 5)}, fetchInfo)
			return err
		}, 5, nil},
		{"a failure older than the snapshot is kept but does not count", func() error {
			return st.RecordFailure(context.Background(), "C-1", "bureau", at(1), errors.New("late report"))
		}, 5, ptrTo(at(1))},
	}
	for _, s := range steps {
		if err := s.do(); err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
		got := MustStates(t, st, "C-1", false)["bureau"]
		if got.Snapshot == nil || *got.Snapshot.Grade != s.grade {
			t.Fatalf("%s: snapshot %+v", s.name, got.Snapshot)
		}
		if (got.FailedAt == nil) != (s.failedAt == nil) || got.FailedAt != nil && !got.FailedAt.Equal(*s.failedAt) {
			t.Errorf("%s: failed at %v, want %v", s.name, got.FailedAt, s.failedAt)
		}
	}
	if err := st.RecordFailure(context.Background(), "nobody", "bureau", at(1), errors.New("x")); fault.Code(err) != fault.NotFound {
		t.Errorf("failure of an unknown client: %v", err)
	}
}

// TestSolvencyCompanyKey: snapshots describe the company behind the registration id they were
// fetched for; once it changes they no longer count, and the client is due again.
func TestSolvencyCompanyKey(t *testing.T) {
	st, svc, _ := MustSolvencyClients(t, "C-1:812345676")
	MustSave(t, st, fetchInfo, fullSnapshot("C-1", "bodacc", solvencyT0))
	due := func() []solvency.FetchState {
		t.Helper()
		states, err := st.DueStates(context.Background(), solvency.DueQuery{Providers: []string{"bodacc"},
			StaleBefore: solvencyT0.Add(-time.Hour), FailedSince: solvencyT0.Add(-time.Hour), Limit: 10})
		if err != nil {
			t.Fatal(err)
		}
		return states
	}
	if len(MustStates(t, st, "C-1", false)) != 1 || len(due()) != 0 {
		t.Fatal("the snapshot does not count for its own company")
	}
	MustSolvencyClient(t, svc, "C-1:904123783", "FR")
	if got := MustStates(t, st, "C-1", false); len(got) != 0 {
		t.Errorf("another company's snapshot still counts: %+v", got)
	}
	if d := due(); len(d) != 1 || len(d[0].LastSnapshot) != 0 || d[0].Company.RegistrationID != "904123783" {
		t.Errorf("due %+v, want C-1 as never fetched", d)
	}
	if err := st.RecordFailure(context.Background(), "C-1", "bodacc", solvencyT0, errors.New("down")); err != nil {
		t.Fatal(err)
	}
	if got := MustStates(t, st, "C-1", false)["bodacc"]; got.Snapshot != nil || got.FailedAt == nil {
		t.Errorf("state after a failure for the new company: %+v", got)
	}
	MustSolvencyClient(t, svc, "C-1:812345676", "FR")
	if got := MustStates(t, st, "C-1", false); len(got) != 0 {
		t.Errorf("back to the first number: %+v, want nothing until it is fetched again", got)
	}
}

func TestSolvencyDueStates(t *testing.T) {
	st, svc, _ := MustSolvencyClients(t, "NEVER:833120454", "OLD:904123783", "OLDER:443061841", "FRESH:798456125",
		"FAILED:512349879", "FAILED-LONG-AGO:880012349", "NOREG:")
	MustSolvencyClient(t, svc, "GERMAN:DE811569869", "DE")
	MustSolvencyClient(t, svc, "GERMAN-SIREN:812345676", "DE")
	old := func(id string, days int) solvency.Snapshot {
		return solvency.Snapshot{Provider: "bureau", ClientID: id, FetchedAt: solvencyT0.Add(-time.Duration(days) * 24 * time.Hour), CompanyStatus: solvency.StatusActive}
	}
	MustSave(t, st, fetchInfo, old("OLD", 40), old("OLDER", 50), old("FRESH", 10), old("FAILED", 45), old("FAILED-LONG-AGO", 45))
	MustSave(t, st, fetchInfo, solvency.Snapshot{Provider: "bodacc", ClientID: "OLD", FetchedAt: solvencyT0, CompanyStatus: solvency.StatusUnknown})
	for id, h := range map[string]int{"FAILED": -1, "FAILED-LONG-AGO": -5} {
		if err := st.RecordFailure(context.Background(), id, "bureau", solvencyT0.Add(time.Duration(h)*time.Hour), errors.New("down")); err != nil {
			t.Fatal(err)
		}
	}
	q := solvency.DueQuery{Providers: []string{"bureau"}, StaleBefore: solvencyT0.Add(-30 * 24 * time.Hour),
		FailedSince: solvencyT0.Add(-2 * time.Hour), Limit: 10}
	ids := func(states []solvency.FetchState) string {
		var out []string
		for _, s := range states {
			out = append(out, s.Company.ClientID)
		}
		return strings.Join(out, ",")
	}
	got, err := st.DueStates(context.Background(), q)
	if err != nil {
		t.Fatal(err)
	}
	if want := "NEVER,OLDER,FAILED-LONG-AGO,OLD"; ids(got) != want {
		t.Errorf("due %s, want %s", ids(got), want)
	}
	// Each due client comes with every provider's state, not only the due ones.
	for _, s := range got {
		if s.Company.ClientID == "OLD" && (len(s.LastSnapshot) != 2 || !s.LastSnapshot["bodacc"].Equal(solvencyT0)) {
			t.Errorf("OLD's states %+v", s)
		}
		if s.Company.ClientID == "FAILED-LONG-AGO" && !s.LastFailure["bureau"].Equal(solvencyT0.Add(-5*time.Hour)) {
			t.Errorf("FAILED-LONG-AGO's states %+v", s)
		}
	}
	q.Limit = 2
	if got, _ := st.DueStates(context.Background(), q); ids(got) != "NEVER,OLDER" {
		t.Errorf("limited to 2: %s", ids(got))
	}
	q.Providers = nil
	if got, _ := st.DueStates(context.Background(), q); len(got) != 0 {
		t.Errorf("no provider: %s", ids(got))
	}
}

func TestSolvencyImportAndHistory(t *testing.T) {
	st, _, db := MustSolvencyClients(t, "C-1:812345676", "C-2:")
	imp := solvency.SaveInfo{Actor: "importer", Source: solvency.SourceImport}
	row := func(id string, day int) solvency.Snapshot {
		return solvency.Snapshot{Provider: "import", ClientID: id, FetchedAt: solvencyT0.AddDate(0, 0, day), CompanyStatus: solvency.StatusActive}
	}
	atomic := imp
	atomic.Atomic = true
	if missing := MustSave(t, st, atomic, row("C-1", 0), row("C-404", 0)); len(missing) != 1 || missing[0] != 1 {
		t.Errorf("missing %v, want [1]", missing)
	}
	if got := MustStates(t, st, "C-1", false); len(got) != 0 {
		t.Errorf("an atomic save with a missing client stored %+v", got)
	}
	var rows []solvency.Snapshot
	for day := range 12 {
		rows = append(rows, row("C-1", -day))
	}
	rows = append(rows, row("C-404", 0), row("C-2", -3))
	if missing := MustSave(t, st, imp, rows...); len(missing) != 1 || missing[0] != 12 {
		t.Errorf("missing %v, want [12]", missing)
	}
	if got := MustStates(t, st, "C-1", false)["import"]; got.Snapshot == nil || !got.Snapshot.FetchedAt.Equal(solvencyT0) {
		t.Errorf("latest import %+v, want the newest row", got.Snapshot)
	}
	var kept, audits int
	if err := db.Pool.QueryRow(context.Background(), `SELECT count(*) FROM solvency_snapshots WHERE client_id = 'C-1'`).Scan(&kept); err != nil {
		t.Fatal(err)
	}
	if err := db.Pool.QueryRow(context.Background(), `SELECT count(*) FROM audit_log WHERE action = 'solvency.import' AND actor = 'importer'`).Scan(&audits); err != nil {
		t.Fatal(err)
	}
	if kept != 10 || audits != 1 {
		t.Errorf("%d snapshots kept (want 10), %d import audits (want 1)", kept, audits)
	}
	if missing, err := st.MissingClients(context.Background(), []string{"C-2", "C-404", "C-1", "C-403"}); err != nil || strings.Join(missing, ",") != "C-403,C-404" {
		t.Errorf("missing clients %v, %v", missing, err)
	}
	byClient, err := st.StatesByClient(context.Background(), []string{"C-1", "C-2", "C-404"})
	if err != nil {
		t.Fatal(err)
	}
	if len(byClient) != 2 || len(byClient["C-1"]) != 1 || !byClient["C-2"][0].Snapshot.FetchedAt.Equal(solvencyT0.AddDate(0, 0, -3)) {
		t.Errorf("states by client %+v", byClient)
	}
}

func TestSolvencyStoresOddProviderText(t *testing.T) {
	st, _, _ := MustSolvencyClients(t, "C-1:812345676")
	s := solvency.Snapshot{Provider: "bureau", ClientID: "C-1", FetchedAt: solvencyT0, CompanyStatus: solvency.StatusActive,
		Scale: "a\x00b", Warnings: []string{"bad \xff byte"}, Raw: json.RawMessage(`<html>not json</html>`)}
	MustSave(t, st, fetchInfo, s)
	got := MustStates(t, st, "C-1", true)["bureau"].Snapshot
	if got.Scale != "ab" || got.Warnings[0] != "bad \uFFFD byte" || string(got.Raw) != `"\u003chtml\u003enot json\u003c/html\u003e"` {
		t.Errorf("scale %q warnings %q raw %s", got.Scale, got.Warnings, got.Raw)
	}
}

// TestSolvencyConsistency: without foreign keys, the store keeps every state row pointing to a
// snapshot of its own client and provider, even when pruning would reach it: here the latest
// snapshot of the client's new company is older than the ten kept of its former company.
func TestSolvencyConsistency(t *testing.T) {
	st, svc, db := MustSolvencyClients(t, "C-1:812345676")
	var old []solvency.Snapshot
	for day := range 12 {
		old = append(old, solvency.Snapshot{Provider: "bureau", ClientID: "C-1", FetchedAt: solvencyT0.AddDate(0, 0, -day), CompanyStatus: solvency.StatusActive})
	}
	MustSave(t, st, fetchInfo, old...)
	MustSolvencyClient(t, svc, "C-1:904123783", "FR")
	earlier := solvency.Snapshot{Provider: "bureau", ClientID: "C-1", FetchedAt: solvencyT0.AddDate(-1, 0, 0), CompanyStatus: solvency.StatusClosed}
	MustSave(t, st, solvency.SaveInfo{Actor: "t", Source: solvency.SourceImport}, earlier)
	if got := MustStates(t, st, "C-1", false)["bureau"]; got.Snapshot == nil || got.Snapshot.CompanyStatus != solvency.StatusClosed {
		t.Fatalf("state of the new company %+v", got.Snapshot)
	}
	var dangling, orphans, kept int
	err := db.Pool.QueryRow(context.Background(), `
		SELECT (SELECT count(*) FROM solvency_state st LEFT JOIN solvency_snapshots s ON s.snapshot_id = st.snapshot_id
				WHERE st.snapshot_id IS NOT NULL AND (s.snapshot_id IS NULL OR s.client_id <> st.client_id OR s.provider <> st.provider)),
			(SELECT count(*) FROM solvency_snapshots s WHERE NOT EXISTS (SELECT 1 FROM clients c WHERE c.client_id = s.client_id))
				+ (SELECT count(*) FROM solvency_state s WHERE NOT EXISTS (SELECT 1 FROM clients c WHERE c.client_id = s.client_id)),
			(SELECT count(*) FROM solvency_snapshots)`).Scan(&dangling, &orphans, &kept)
	if err != nil {
		t.Fatal(err)
	}
	if dangling != 0 || orphans != 0 || kept != keptSnapshotsPlusPointed {
		t.Errorf("%d dangling state rows, %d orphans, %d snapshots kept (want %d)", dangling, orphans, kept, keptSnapshotsPlusPointed)
	}
}

// keptSnapshotsPlusPointed: the ten newest, and the older one a state row points to.
const keptSnapshotsPlusPointed = 11
