package scoring

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/credorisk/credo/internal/receivables"
	"github.com/credorisk/credo/internal/solvency"
)

// fakeSolvency knows one view per client; with batch it also answers Views.
type fakeSolvency struct {
	views map[string]solvency.View
	calls atomic.Int64
}

func (f *fakeSolvency) View(_ context.Context, id string) (solvency.View, bool, error) {
	f.calls.Add(1)
	v, ok := f.views[id]
	return v, ok, nil
}

type fakeBatchSolvency struct{ fakeSolvency }

func (f *fakeBatchSolvency) Views(_ context.Context, ids []string) (map[string]solvency.View, error) {
	f.calls.Add(1)
	out := map[string]solvency.View{}
	for _, id := range ids {
		if v, ok := f.views[id]; ok {
			out[id] = v
		}
	}
	return out, nil
}

func TestServiceSolvency(t *testing.T) {
	grade, asOf := 9, time.Date(2026, 3, 30, 6, 0, 0, 0, time.FixedZone("CET", 3600))
	views := map[string]solvency.View{"C1": {Available: true, Grade: &grade, Insolvency: solvency.Insolvency{Open: true}, AsOf: &asOf}}
	single := &fakeSolvency{views: views}
	batch := &fakeBatchSolvency{fakeSolvency{views: views}}
	for name, src := range map[string]SolvencySource{"one by one": single, "batch": batch} {
		t.Run(name, func(t *testing.T) {
			facts := &fakeFacts{facts: map[string]receivables.Facts{"C1": payer("C1", 0, 0, 0), "C2": payer("C2", 0, 0, 0)}}
			c := newStampCache()
			svc, err := NewService(Config{Model: MustDefaultModel(t), Facts: facts, Store: newFakeStore("C1", "C2"), Cache: c,
				Solvency: src, Now: newClock().Now, ChunkSize: 10})
			if err != nil {
				t.Fatal(err)
			}
			check := func(how string) {
				t.Helper()
				for id, want := range map[string]string{"C1": "9|true|2026-03-30T05:00:00Z", "C2": "null|null|<nil>"} {
					ex, err := decodeBytes(mustCached(t, c, id), nil)
					if err != nil {
						t.Fatal(err)
					}
					doc, _ := ex.Explanation()
					var got [2]string
					for _, l := range doc.Characteristics {
						switch l.Feature {
						case FeatureBureauGrade:
							got[0] = l.Value.String()
						case FeatureOpenInsolvency:
							got[1] = l.Value.String()
						}
					}
					at := "<nil>"
					if doc.InputsAsOf.Solvency != nil {
						at = doc.InputsAsOf.Solvency.Format(time.RFC3339)
					}
					if g := got[0] + "|" + got[1] + "|" + at; g != want {
						t.Errorf("%s, %s: %s, want %s", how, id, g, want)
					}
				}
			}
			for _, id := range []string{"C1", "C2"} {
				if _, err := svc.Score(context.Background(), id, false); err != nil {
					t.Fatal(err)
				}
			}
			check("score")
			svc.InvalidateAll(context.Background())
			if _, err := svc.RescoreAll(context.Background(), nil); err != nil {
				t.Fatal(err)
			}
			check("rescore all")
		})
	}
	// Score reads one view per client; RescoreAll one batch per chunk when it can.
	if single.calls.Load() != 4 || batch.calls.Load() != 3 {
		t.Errorf("solvency reads: %d one by one, %d with a batch source; want 4 and 3", single.calls.Load(), batch.calls.Load())
	}
}
