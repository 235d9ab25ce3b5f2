package postgres_test

import (
	"context"
	"reflect"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/credorisk/credo/internal/fault"
	"github.com/credorisk/credo/internal/postgres"
	"github.com/credorisk/credo/internal/scoring"
)

func scoreEntry(client, version string, score int, class string, at time.Time) scoring.HistoryEntry {
	sanctions := "ofac:7"
	return scoring.HistoryEntry{ClientID: client, ModelVersion: version, Score: score, RiskClass: class, PD: 0.0125,
		ComputedAt: at, InputsAsOf: scoring.InputsAsOf{Ledger: d("2026-03-31"), SanctionsListVersion: &sanctions},
		Features: scoring.Features{scoring.FeatureWeightedDBT12m: scoring.Number(12.5), scoring.FeatureOverdueRate: scoring.Missing(),
			scoring.FeatureOpenInsolvency: scoring.Bool(false), scoring.FeaturePaidCount12m: scoring.Int(4)}}
}

// MustRecord records entries and returns the changes sorted by client.
func MustRecord(t *testing.T, st *postgres.Scores, es ...scoring.HistoryEntry) []scoring.Change {
	t.Helper()
	ch, err := st.Record(context.Background(), es)
	if err != nil {
		t.Fatal(err)
	}
	sort.Slice(ch, func(i, j int) bool { return ch[i].ClientID < ch[j].ClientID })
	return ch
}

func TestScoresRecordAndHistory(t *testing.T) {
	svc, db := mustLedger(t)
	for _, id := range []string{"C2", "C1", "C3"} {
		mustClient(t, svc, id)
	}
	st := postgres.NewScores(db)
	ctx := context.Background()
	t0 := time.Date(2026, 3, 31, 9, 0, 0, 123456000, time.UTC)
	at := func(h int) time.Time { return t0.Add(time.Duration(h) * time.Hour) }

	steps := []struct {
		name    string
		entries []scoring.HistoryEntry
		want    []scoring.Change
	}{
		{"first scores", []scoring.HistoryEntry{scoreEntry("C1", "2026.1", 600, "C", at(0)), scoreEntry("C2", "2026.1", 650, "A", at(0))},
			[]scoring.Change{{ClientID: "C1", From: "", To: "C"}, {ClientID: "C2", From: "", To: "A"}}},
		{"same again: nothing", []scoring.HistoryEntry{scoreEntry("C1", "2026.1", 600, "C", at(1)), scoreEntry("C2", "2026.1", 650, "A", at(1))}, nil},
		{"score within the class", []scoring.HistoryEntry{scoreEntry("C1", "2026.1", 605, "C", at(2))},
			[]scoring.Change{{ClientID: "C1", From: "C", To: "C"}}},
		{"class change", []scoring.HistoryEntry{scoreEntry("C1", "2026.1", 615, "B", at(3)), scoreEntry("C2", "2026.1", 650, "A", at(3))},
			[]scoring.Change{{ClientID: "C1", From: "C", To: "B"}}},
		{"another model version is another series", []scoring.HistoryEntry{scoreEntry("C1", "2026.2", 615, "B", at(4))},
			[]scoring.Change{{ClientID: "C1", From: "", To: "B"}}},
	}
	for _, s := range steps {
		if got := MustRecord(t, st, s.entries...); !reflect.DeepEqual(got, s.want) {
			t.Errorf("%s: changes %+v, want %+v", s.name, got, s.want)
		}
	}

	h, err := st.History(ctx, "C1", 10)
	if err != nil {
		t.Fatal(err)
	}
	var got []int
	for _, e := range h {
		got = append(got, e.Score)
	}
	if !reflect.DeepEqual(got, []int{615, 615, 605, 600}) || h[0].ModelVersion != "2026.2" || h[1].ModelVersion != "2026.1" {
		t.Errorf("history %v (%+v)", got, h)
	}
	// What was recorded comes back as it went in.
	want := scoreEntry("C1", "2026.1", 600, "C", at(0))
	if last := h[3]; !reflect.DeepEqual(last, want) {
		t.Errorf("read back:\n got %+v\nwant %+v", last, want)
	}
	if h, err := st.History(ctx, "C1", 2); err != nil || len(h) != 2 || h[0].Score != 615 {
		t.Errorf("limit 2: %+v %v", h, err)
	}
	if h, err := st.History(ctx, "C3", 10); err != nil || h == nil || len(h) != 0 {
		t.Errorf("a client without scores: %#v %v", h, err)
	}
	if _, err := st.History(ctx, "NOPE", 10); fault.Code(err) != fault.NotFound {
		t.Errorf("unknown client: %v", err)
	}
	ids, err := st.ClientIDs(ctx)
	if err != nil || !reflect.DeepEqual(ids, []string{"C1", "C2", "C3"}) {
		t.Errorf("client ids %v %v", ids, err)
	}
}

// TestScoresRecordConcurrent: replicas computing one client's new score at once record one
// history row, not one each.
func TestScoresRecordConcurrent(t *testing.T) {
	svc, db := mustLedger(t)
	mustClient(t, svc, "C1")
	st := postgres.NewScores(db)
	at := time.Date(2026, 3, 31, 9, 0, 0, 0, time.UTC)
	for round, score := range []int{600, 640, 580} {
		var wg sync.WaitGroup
		changes := make([][]scoring.Change, 8)
		for i := range changes {
			wg.Add(1)
			go func() {
				defer wg.Done()
				ch, err := st.Record(context.Background(), []scoring.HistoryEntry{scoreEntry("C1", "2026.1", score, "C", at.Add(time.Duration(i)*time.Second))})
				if err != nil {
					t.Error(err)
				}
				changes[i] = ch
			}()
		}
		wg.Wait()
		n := 0
		for _, ch := range changes {
			n += len(ch)
		}
		h, err := st.History(context.Background(), "C1", 100)
		if err != nil {
			t.Fatal(err)
		}
		if n != 1 || len(h) != round+1 {
			t.Errorf("round %d: %d changes reported, %d history rows, want 1 and %d", round, n, len(h), round+1)
		}
	}
}
