package postgres_test

import (
	"context"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/credorisk/credo/internal/fault"
	"github.com/credorisk/credo/internal/ledger"
	"github.com/credorisk/credo/internal/postgres"
	"github.com/credorisk/credo/internal/postgres/pgtest"
	"github.com/credorisk/credo/internal/sanctions"
)

var sanctionsData = filepath.Join("..", "..", "..", "shared", "data", "sanctions")

// MustParseRealLists parses the real OFAC and UN files of the shared data.
func MustParseRealLists(t *testing.T) (ofac, un []sanctions.Entry) {
	t.Helper()
	open := func(p string) *os.File {
		f, err := os.Open(filepath.Join(sanctionsData, p))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { f.Close() })
		return f
	}
	ofac, err := sanctions.ParseOFAC(open("ofac/sdn.csv"), open("ofac/alt.csv"), open("ofac/add.csv"), open("ofac/sdn_comments.csv"))
	if err != nil {
		t.Fatal(err)
	}
	un, err = sanctions.ParseUN(open("un/consolidated.xml"))
	if err != nil {
		t.Fatal(err)
	}
	return ofac, un
}

// MustAddVersion stores a list version as the current one.
func MustAddVersion(t *testing.T, st *postgres.Sanctions, src sanctions.Source, hash string, entries []sanctions.Entry, expected int64) sanctions.ListVersion {
	t.Helper()
	v, err := st.AddListVersion(context.Background(), sanctions.ListVersion{Source: src, ContentHash: hash, EntryCount: len(entries),
		Origin: sanctions.OriginFile, Location: "test", LoadedBy: "test"}, entries, nil, expected, "test")
	if err != nil {
		t.Fatalf("add %s version: %v", src, err)
	}
	return v
}

func hash64(c byte) string {
	b := make([]byte, 64)
	for i := range b {
		b[i] = c
	}
	return string(b)
}

// The entries stored and read back are the parsed ones, in the same order, so the index built
// from Postgres at start is the index built from the files: same entries, names and results.
func TestSanctionsEntriesRoundTrip(t *testing.T) {
	ctx := context.Background()
	st := postgres.NewSanctions(pgtest.MustDB(t))
	ofac, un := MustParseRealLists(t)
	vo := MustAddVersion(t, st, sanctions.SourceOFAC, hash64('a'), ofac, 0)
	vu := MustAddVersion(t, st, sanctions.SourceUN, hash64('b'), un, 0)
	if vu.ID <= vo.ID || vo.LoadedAt.IsZero() {
		t.Fatalf("versions %+v %+v: ids must grow and loaded_at be set", vo, vu)
	}
	gotOFAC, err := st.ListEntries(ctx, vo.ID)
	if err != nil {
		t.Fatal(err)
	}
	gotUN, err := st.ListEntries(ctx, vu.ID)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name      string
		want, got []sanctions.Entry
	}{{"ofac", ofac, gotOFAC}, {"un", un, gotUN}} {
		if len(c.got) != len(c.want) {
			t.Fatalf("%s: %d entries read back, %d stored", c.name, len(c.got), len(c.want))
		}
		for i := range c.want {
			if !reflect.DeepEqual(c.got[i], c.want[i]) {
				t.Fatalf("%s entry %d differs after the round trip:\n got %+v\nwant %+v", c.name, i, c.got[i], c.want[i])
			}
		}
	}

	fromFiles := sanctions.NewIndex(append(append([]sanctions.Entry{}, ofac...), un...))
	fromDB := sanctions.NewIndex(append(gotOFAC, gotUN...))
	if fromDB.Len() != fromFiles.Len() || fromDB.NameCount() != fromFiles.NameCount() {
		t.Fatalf("index from postgres: %d entries %d names; from files: %d, %d", fromDB.Len(), fromDB.NameCount(), fromFiles.Len(), fromFiles.NameCount())
	}
	all := append(append([]sanctions.Entry{}, ofac...), un...)
	queries := []sanctions.Query{{Name: "George Bush"}, {Name: "Kim Jong Un", Type: sanctions.TypePerson}, {Name: "Banco Nacional de Cuba", Country: "CU"}}
	for i := 0; i < len(all); i += 97 {
		queries = append(queries, sanctions.Query{Name: all[i].PrimaryName(), Limit: 5, MinScore: 0.5})
	}
	for _, q := range queries {
		a, errA := fromFiles.Search(q)
		b, errB := fromDB.Search(q)
		if errA != nil || errB != nil {
			t.Fatalf("search %q: %v / %v", q.Name, errA, errB)
		}
		if !reflect.DeepEqual(a, b) {
			t.Fatalf("search %q: the index from postgres answers differently:\n%+v\n%+v", q.Name, b, a)
		}
	}
}

func TestSanctionsListVersions(t *testing.T) {
	ctx := context.Background()
	db := pgtest.MustDB(t)
	st := postgres.NewSanctions(db)
	entries := []sanctions.Entry{{Source: sanctions.SourceUN, SourceID: "1", Type: sanctions.TypeEntity, Names: []sanctions.Name{{Name: "ACME", Strength: sanctions.StrengthPrimary}}}}

	v1 := MustAddVersion(t, st, sanctions.SourceUN, hash64('1'), entries, 0)
	if _, err := st.AddListVersion(ctx, sanctions.ListVersion{Source: sanctions.SourceUN, ContentHash: hash64('x'), EntryCount: 1, Origin: sanctions.OriginFile, Location: "x", LoadedBy: "t"}, entries, nil, 0, "t"); fault.Code(err) != fault.Conflict {
		t.Fatalf("a version prepared against no version while %d is current: %v, want a conflict", v1.ID, err)
	}
	v2 := MustAddVersion(t, st, sanctions.SourceUN, hash64('2'), entries, v1.ID)
	v3 := MustAddVersion(t, st, sanctions.SourceUN, hash64('3'), entries, v2.ID)
	v4 := MustAddVersion(t, st, sanctions.SourceUN, hash64('4'), entries, v3.ID)
	if got, _ := st.ListEntries(ctx, v1.ID); len(got) != 0 {
		t.Errorf("version %d keeps %d entries; only the last 3 versions keep theirs", v1.ID, len(got))
	}
	if got, _ := st.ListEntries(ctx, v2.ID); len(got) != 1 {
		t.Errorf("version %d: %d entries, want 1", v2.ID, len(got))
	}

	validators := map[string]sanctions.Validator{"https://example.org/list.xml": {ETag: `"abc"`, LastModified: "Mon, 02 Mar 2026 10:00:00 GMT"}}
	at := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	if err := st.RecordRefresh(ctx, sanctions.SourceUN, sanctions.RefreshOutcome{At: at, Outcome: sanctions.OutcomeUnchanged, Message: "same"}, validators, "t"); err != nil {
		t.Fatal(err)
	}
	refused := sanctions.RefreshOutcome{At: at.Add(time.Hour), Outcome: sanctions.OutcomeRefused, Message: "the un list looks truncated"}
	if err := st.RecordRefresh(ctx, sanctions.SourceUN, refused, nil, "t"); err != nil {
		t.Fatal(err)
	}
	if err := st.RecordRefresh(ctx, sanctions.SourceEU, sanctions.RefreshOutcome{At: at, Outcome: sanctions.OutcomeFailed, Message: "down"}, nil, "t"); err != nil {
		t.Fatal(err)
	}
	states, err := st.ListStates(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(states) != 2 || states[0].Source != sanctions.SourceEU || states[1].Source != sanctions.SourceUN {
		t.Fatalf("states %+v, want eu and un", states)
	}
	eu, un := states[0], states[1]
	if eu.Current != nil || eu.LastSuccessAt != nil || eu.LastRefresh.Outcome != sanctions.OutcomeFailed {
		t.Errorf("eu state %+v: no version, never succeeded, last refresh failed", eu)
	}
	if un.Current == nil || un.Current.ID != v4.ID || un.Current.EntryCount != 1 || un.Current.ContentHash != hash64('4') {
		t.Errorf("un current %+v, want version %d", un.Current, v4.ID)
	}
	if *un.LastRefresh != refused {
		t.Errorf("un last refresh %+v, want %+v", un.LastRefresh, refused)
	}
	if un.LastSuccessAt == nil || !un.LastSuccessAt.Equal(at) {
		t.Errorf("un last success %v, want %v (a refusal is not a success)", un.LastSuccessAt, at)
	}
	if !reflect.DeepEqual(un.Validators, validators) {
		t.Errorf("validators %+v, want %+v kept through a refusal", un.Validators, validators)
	}
	var audited int
	if err := db.Pool.QueryRow(ctx, `SELECT count(*) FROM audit_log WHERE action LIKE 'sanctions.list.%'`).Scan(&audited); err != nil || audited != 7 {
		t.Errorf("%d list writes audited (%v), want 7", audited, err)
	}
}

// MustSanctionsClient creates or changes a client through the ledger store and returns it.
func MustSanctionsClient(t *testing.T, l *postgres.Ledger, c ledger.Client) ledger.Client {
	t.Helper()
	c.Normalize()
	_, out, err := l.PutClient(context.Background(), c, "test")
	if err != nil {
		t.Fatalf("put client %s: %v", c.ClientID, err)
	}
	return out
}

func screeningOf(sub sanctions.Subject, serial int64, status sanctions.Status, hits ...sanctions.Hit) sanctions.Screening {
	r := sanctions.Result{ClientID: sub.Party.ClientID, Status: status, Hits: hits}
	if r.Hits == nil {
		r.Hits = []sanctions.Hit{}
	}
	at := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	d := string(status)
	for _, h := range hits {
		d += h.ID + string(h.Status)
	}
	return sanctions.Screening{Result: r, ScreenedAt: &at, ListVersions: map[sanctions.Source]int64{sanctions.SourceOFAC: serial},
		ListsSerial: serial, ClientUpdatedAt: sub.UpdatedAt, Digest: d}
}

func TestSanctionsScreenings(t *testing.T) {
	ctx := context.Background()
	db := pgtest.MustDB(t)
	st, l := postgres.NewSanctions(db), postgres.NewLedger(db, "EUR")
	MustSanctionsClient(t, l, ledger.Client{ClientID: "c1", Name: "Northern Meridian", Country: "FR", Directors: []string{"Anatoly Krasnov", "Jean Dupont"}})
	MustSanctionsClient(t, l, ledger.Client{ClientID: "c2", Name: "Other", Country: "DE"})

	if _, _, err := st.Subject(ctx, "nobody"); fault.Code(err) != fault.NotFound {
		t.Fatalf("subject of an unknown client: %v, want not found", err)
	}
	sub, stored, err := st.Subject(ctx, "c1")
	if err != nil || stored != nil || sub.Screened != nil {
		t.Fatalf("never screened: %+v %+v %v", sub, stored, err)
	}
	wantParty := sanctions.Party{ClientID: "c1", Name: "Northern Meridian", Country: "FR", Directors: []sanctions.Director{{Name: "Anatoly Krasnov"}, {Name: "Jean Dupont"}}}
	if !reflect.DeepEqual(sub.Party, wantParty) {
		t.Fatalf("party %+v, want %+v", sub.Party, wantParty)
	}
	stale, err := st.StaleSubjects(ctx, sanctions.StaleFilter{ListsSerial: 5, Limit: 10})
	if err != nil || len(stale) != 2 {
		t.Fatalf("stale before any screening: %d (%v), want both clients", len(stale), err)
	}

	hit := sanctions.Hit{ID: "un-200", Entry: sanctions.EntryRef{Source: sanctions.SourceUN, SourceID: "200"}, EntryType: sanctions.TypePerson,
		EntryName: "KRASNOV, Anatoly", MatchedName: "KRASNOV, Anatoly", Subject: "director", SubjectName: "Anatoly Krasnov",
		Score: 0.97, ListVersion: hash64('a'), NamesHash: "n1", Status: sanctions.HitOpen}
	sc1 := screeningOf(sub, 5, sanctions.StatusPotentialMatch, hit)
	sub2, _, _ := st.Subject(ctx, "c2")
	changed, err := st.SaveScreenings(ctx, []sanctions.Screening{sc1, screeningOf(sub2, 5, sanctions.StatusClear)}, "test")
	if err != nil || !reflect.DeepEqual(changed, []string{"c1", "c2"}) {
		t.Fatalf("first screenings: changed %v (%v), want both", changed, err)
	}
	_, stored, err = st.Subject(ctx, "c1")
	if err != nil || stored == nil {
		t.Fatalf("stored screening: %v %v", stored, err)
	}
	if !reflect.DeepEqual(*stored, sc1) {
		t.Fatalf("screening read back:\n got %+v\nwant %+v", *stored, sc1)
	}
	if stale, _ := st.StaleSubjects(ctx, sanctions.StaleFilter{ListsSerial: 5, Limit: 10}); len(stale) != 0 {
		t.Fatalf("%d clients stale right after screening", len(stale))
	}
	if stale, _ := st.StaleSubjects(ctx, sanctions.StaleFilter{ListsSerial: 6, IDs: []string{"c2"}, Limit: 10}); len(stale) != 1 || stale[0].Party.ClientID != "c2" || stale[0].Screened == nil {
		t.Fatalf("newer lists, c2 only: %+v", stale)
	}

	// The same result again changes nothing; an older list version or an outdated client read is
	// not written over a newer screening.
	if changed, err := st.SaveScreenings(ctx, []sanctions.Screening{sc1}, "test"); err != nil || len(changed) != 0 {
		t.Fatalf("same screening again: changed %v (%v)", changed, err)
	}
	if changed, _ := st.SaveScreenings(ctx, []sanctions.Screening{screeningOf(sub, 4, sanctions.StatusClear)}, "test"); len(changed) != 0 {
		t.Fatalf("a screening against older lists was saved: %v", changed)
	}
	MustSanctionsClient(t, l, ledger.Client{ClientID: "c1", Name: "Northern Meridian Trading", Country: "FR"})
	if changed, _ := st.SaveScreenings(ctx, []sanctions.Screening{screeningOf(sub, 6, sanctions.StatusClear)}, "test"); len(changed) != 0 {
		t.Fatalf("a screening of the client before its change was saved: %v", changed)
	}
	stale, _ = st.StaleSubjects(ctx, sanctions.StaleFilter{ListsSerial: 5, Limit: 10})
	if len(stale) != 1 || stale[0].Party.Name != "Northern Meridian Trading" || len(stale[0].Party.Directors) != 0 {
		t.Fatalf("the changed client must be stale with its new data: %+v", stale)
	}
	cleared := hit
	cleared.Status = sanctions.HitCleared
	sc2 := screeningOf(stale[0], 6, sanctions.StatusClear)
	sc2.Cleared = []sanctions.Hit{cleared}
	if changed, err := st.SaveScreenings(ctx, []sanctions.Screening{sc2}, "test"); err != nil || !reflect.DeepEqual(changed, []string{"c1"}) {
		t.Fatalf("rescreen of the changed client: %v (%v)", changed, err)
	}
	var hits int
	var status string
	if err := db.Pool.QueryRow(ctx, `SELECT count(*), min(status) FROM sanctions_screening_hits WHERE client_id = 'c1'`).Scan(&hits, &status); err != nil || hits != 1 || status != "cleared" {
		t.Fatalf("hits of c1: %d %q (%v), want the one cleared hit", hits, status, err)
	}

	d := sanctions.Disposition{ClientID: "c1", Entry: hit.Entry, Verdict: sanctions.VerdictFalsePositive, NamesHash: "n1",
		Note: "different person: born 1990", DecidedBy: "cm", DecidedAt: time.Date(2026, 3, 2, 11, 0, 0, 0, time.UTC)}
	if err := st.AddDisposition(ctx, d, "cm"); err != nil {
		t.Fatal(err)
	}
	if err := st.AddDisposition(ctx, sanctions.Disposition{ClientID: "ghost", Entry: hit.Entry, Verdict: sanctions.VerdictConfirmed, NamesHash: "n", Note: "x", DecidedBy: "cm", DecidedAt: d.DecidedAt}, "cm"); fault.Code(err) != fault.NotFound {
		t.Fatalf("disposition for an unknown client: %v, want not found", err)
	}
	sub, _, err = st.Subject(ctx, "c1")
	if err != nil || len(sub.Dispositions) != 1 || !reflect.DeepEqual(sub.Dispositions[0], d) {
		t.Fatalf("dispositions %+v (%v), want %+v", sub.Dispositions, err, d)
	}
	var audited int
	if err := db.Pool.QueryRow(ctx, `SELECT count(*) FROM audit_log WHERE action IN ('screening.changed', 'screening.disposition')`).Scan(&audited); err != nil || audited != 4 {
		t.Fatalf("%d screening writes audited (%v), want 4 (two first screenings, one change, one disposition)", audited, err)
	}
}
