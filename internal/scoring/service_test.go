package scoring

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/credorisk/credo/internal/fault"
	"github.com/credorisk/credo/internal/ledger"
	"github.com/credorisk/credo/internal/receivables"
	"github.com/credorisk/credo/internal/solvency"
)

func TestFeaturesFrom(t *testing.T) {
	f64 := func(x float64) *float64 { return &x }
	i := func(n int) *int { return &n }
	b := func(v bool) *bool { return &v }
	asOf := time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC)
	tests := []struct {
		name  string
		m     receivables.Metrics
		view  solvency.View
		known bool
		want  map[string]string // feature -> value as JSON
	}{
		{"no invoice at all: everything missing", receivables.Metrics{}, solvency.View{}, false, map[string]string{
			FeatureWeightedDBT12m: "null", FeatureLateShare12m: "null", FeatureMaxDaysOverdue: "null", FeatureOverdueRate: "null",
			FeatureDBTTrend: "null", FeatureDisputeRate12m: "null", FeatureRelationshipMonths: "null", FeaturePaidCount12m: "null",
			FeatureBureauGrade: "null", FeatureCompanyAgeMonths: "null", FeatureOpenInsolvency: "null", FeatureNegativeEquity: "null"}},
		{"invoices, none paid, nothing overdue", receivables.Metrics{RelationshipMonths: i(2), OverdueRate: f64(0), DisputeRate12m: f64(0)},
			solvency.View{}, false, map[string]string{
				FeatureWeightedDBT12m: "null", FeatureLateShare12m: "null", FeatureMaxDaysOverdue: "0", FeatureOverdueRate: "0",
				FeatureDBTTrend: "null", FeatureDisputeRate12m: "0", FeatureRelationshipMonths: "2", FeaturePaidCount12m: "0"}},
		{"paid, nothing open", receivables.Metrics{RelationshipMonths: i(40), WeightedDBT12m: f64(12.5), LateShare12m: f64(0.25),
			DBTTrend: f64(-3), DisputeRate12m: f64(0.05), PaidCount12m: 9}, solvency.View{}, false, map[string]string{
			FeatureWeightedDBT12m: "12.5", FeatureLateShare12m: "0.25", FeatureMaxDaysOverdue: "0", FeatureOverdueRate: "null",
			FeatureDBTTrend: "-3", FeatureDisputeRate12m: "0.05", FeatureRelationshipMonths: "40", FeaturePaidCount12m: "9"}},
		{"overdue", receivables.Metrics{RelationshipMonths: i(14), OverdueRate: f64(0.6), MaxDaysOverdue: 45, PaidCount12m: 3},
			solvency.View{}, false, map[string]string{FeatureMaxDaysOverdue: "45", FeatureOverdueRate: "0.6", FeaturePaidCount12m: "3"}},
		{"solvency known", receivables.Metrics{}, solvency.View{Available: true, Grade: i(7), CompanyAgeMonths: i(30),
			NegativeEquity: b(true), Insolvency: solvency.Insolvency{Open: true}, AsOf: &asOf}, true, map[string]string{
			FeatureBureauGrade: "7", FeatureCompanyAgeMonths: "30", FeatureOpenInsolvency: "true", FeatureNegativeEquity: "true"}},
		{"solvency partly known: no proceeding, no accounts", receivables.Metrics{}, solvency.View{Available: true}, true, map[string]string{
			FeatureBureauGrade: "null", FeatureCompanyAgeMonths: "null", FeatureOpenInsolvency: "false", FeatureNegativeEquity: "null"}},
		{"a view nobody filled is no view", receivables.Metrics{}, solvency.View{Available: false, Grade: i(1)}, true, map[string]string{
			FeatureBureauGrade: "null", FeatureOpenInsolvency: "null"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := FeaturesFrom(tt.m, tt.view, tt.known)
			if len(f) != len(featureSpecs) {
				t.Errorf("%d features, want every one of the %d", len(f), len(featureSpecs))
			}
			if err := f.Validate(); err != nil {
				t.Error(err)
			}
			for name, want := range tt.want {
				if got := f[name].String(); got != want {
					t.Errorf("%s = %s, want %s", name, got, want)
				}
			}
		})
	}
}

func TestLang(t *testing.T) {
	for header, want := range map[string]string{
		"": "en", "*": "en", "en": "en", "fr": "fr", "fr-FR": "fr", "FR": "fr", "fr-CA": "fr", "de-DE,de;q=0.9": "en",
		"de,fr;q=0.8,en;q=0.5": "fr", "en-US,en;q=0.9,fr;q=0.8": "en", "fr;q=0.1,en;q=0.9": "en", "africa": "en",
	} {
		if got := Lang(header); got != want {
			t.Errorf("Lang(%q) = %s, want %s", header, got, want)
		}
	}
}

func TestCardRoundTrip(t *testing.T) {
	clk := newClock()
	facts := &fakeFacts{facts: map[string]receivables.Facts{"C1": payer("C1", 20, 300_000, 40)}}
	svc := MustService(t, facts, newFakeStore("C1"), nil, clk)
	sanctions := "ofac:3,eu:4"
	a, err := svc.assess("C1", facts.facts["C1"], solvency.View{}, false, &sanctions)
	if err != nil {
		t.Fatal(err)
	}
	b, err := a.encode()
	if err != nil {
		t.Fatal(err)
	}
	c, err := decodeCard(b)
	if err != nil {
		t.Fatal(err)
	}
	if c.Score() != a.Result.Score || c.RiskClass() != a.Result.RiskClass || c.PD() != a.Result.PD ||
		c.ModelVersion() != "2026.1" || c.AsOf() != testDay || !c.HasInvoices() {
		t.Errorf("header: %d %s %v %s %s %v", c.Score(), c.RiskClass(), c.PD(), c.ModelVersion(), c.AsOf(), c.HasInvoices())
	}
	for _, lang := range []string{"en", "fr"} {
		doc, err := c.Doc(lang)
		if err != nil {
			t.Fatal(err)
		}
		if want := a.ScoreDoc(lang); !reflect.DeepEqual(doc, want) {
			t.Errorf("%s document:\n got %+v\nwant %+v", lang, doc, want)
		}
	}
	if !bytes.Contains(c.ScoreJSON("fr"), []byte(`"language":"fr"`)) || !bytes.Contains(c.ScoreJSON("de"), []byte(`"language":"en"`)) {
		t.Errorf("languages: %s / %s", c.ScoreJSON("fr"), c.ScoreJSON("de"))
	}
	ex, err := c.Explanation()
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(ex, a.ExplanationDoc()) {
		t.Errorf("explanation:\n got %+v\nwant %+v", ex, a.ExplanationDoc())
	}
	m, err := c.Metrics()
	if err != nil || !reflect.DeepEqual(m, a.Metrics) {
		t.Errorf("metrics %+v, want %+v (%v)", m, a.Metrics, err)
	}
	// Every truncation and a foreign format are refused, never misread.
	for n := range len(b) {
		if _, err := decodeCard(b[:n]); err == nil {
			t.Fatalf("a card cut at %d of %d bytes was read", n, len(b))
		}
	}
	if _, err := decodeCard(append(append([]byte{}, b...), 0)); err == nil {
		t.Error("a card with trailing bytes was read")
	}
	if _, err := decodeCard(append([]byte{9}, b[1:]...)); err == nil {
		t.Error("a card of an unknown format was read")
	}
}

func TestServiceScoreCache(t *testing.T) {
	clk := newClock()
	facts := &fakeFacts{facts: map[string]receivables.Facts{"C1": payer("C1", 20, 300_000, 40), "C2": payer("C2", 0, 0, 0)}}
	store, c := newFakeStore("C1", "C2"), newStampCache()
	svc := MustService(t, facts, store, c, clk)
	ctx := context.Background()
	mustScore := func(id string, refresh bool) Card {
		t.Helper()
		card, err := svc.Score(ctx, id, refresh)
		if err != nil {
			t.Fatal(err)
		}
		return card
	}
	computes := func() int { c.mu.Lock(); defer c.mu.Unlock(); return c.computes }

	first := mustScore("C1", false)
	steps := []struct {
		name     string
		do       func()
		refresh  bool
		computed bool
	}{
		{"cached", func() {}, false, false},
		{"refresh", func() {}, true, true},
		{"cached again", func() {}, false, false},
		{"later the same day", func() { clk.add(11 * time.Hour) }, false, false},
		{"the next day: overdue days moved", func() { clk.add(time.Hour) }, false, true},
		{"invalidated", func() { svc.Invalidate(ctx, "C1") }, false, true},
		{"another client invalidated", func() { svc.Invalidate(ctx, "C2") }, false, false},
		{"all invalidated", func() { svc.InvalidateAll(ctx) }, false, true},
	}
	for _, st := range steps {
		before := computes()
		st.do()
		card := mustScore("C1", st.refresh)
		if got := computes() > before; got != st.computed {
			t.Errorf("%s: computed %v, want %v", st.name, got, st.computed)
		}
		if card.Score() != first.Score() {
			t.Errorf("%s: score %d, then %d from the same facts", st.name, first.Score(), card.Score())
		}
		if card.AsOf() != ledger.DateFromTime(clk.Now()) {
			t.Errorf("%s: card as of %s on %s", st.name, card.AsOf(), clk.Now())
		}
	}

	// A card of another model version (a rolling deploy, a rollback) is recomputed.
	other := *svc.model
	other.version = "2025.9"
	old := &Service{cfg: svc.cfg, model: &other, log: svc.log}
	if _, err := old.Score(ctx, "C2", true); err != nil {
		t.Fatal(err)
	}
	before := computes()
	if card := mustScore("C2", false); card.ModelVersion() != "2026.1" || computes() != before+1 {
		t.Errorf("a 2025.9 card was served by 2026.1: %s, %d computes", card.ModelVersion(), computes()-before)
	}

	// An unknown client is a NotFound, and nothing is cached or recorded for it.
	if _, err := svc.Score(ctx, "NOPE", false); fault.Code(err) != fault.NotFound {
		t.Errorf("unknown client: %v", err)
	}
	if _, ok := c.get("NOPE"); ok {
		t.Error("an unknown client was cached")
	}
	explained, err := svc.Explanation(ctx, "C1")
	if err != nil || !bytes.Equal(explained, mustScore("C1", false).ExplanationJSON()) {
		t.Errorf("explanation %s (%v)", explained, err)
	}
}

func TestServiceHistory(t *testing.T) {
	clk := newClock()
	facts := &fakeFacts{facts: map[string]receivables.Facts{"C1": payer("C1", 3, 0, 0)}}
	store := newFakeStore("C1")
	svc := MustService(t, facts, store, newStampCache(), clk)
	ctx := context.Background()
	var scores []int
	for _, f := range []receivables.Facts{payer("C1", 3, 0, 0), payer("C1", 3, 0, 0), payer("C1", 40, 0, 0), payer("C1", 40, 100_000, 95)} {
		facts.set("C1", f)
		card, err := svc.Score(ctx, "C1", true)
		if err != nil {
			t.Fatal(err)
		}
		scores = append(scores, card.Score())
	}
	h, err := svc.History(ctx, "C1", 10)
	if err != nil {
		t.Fatal(err)
	}
	var got []int
	for _, e := range h {
		got = append(got, e.Score)
		if e.ModelVersion != "2026.1" || e.InputsAsOf.Ledger != testDay || len(e.Features) != len(featureSpecs) {
			t.Errorf("entry %+v", e)
		}
	}
	// Four computations, the first two equal: three rows, newest first.
	if want := []int{scores[3], scores[2], scores[0]}; !reflect.DeepEqual(got, want) || scores[0] != scores[1] {
		t.Errorf("history %v from scores %v, want %v", got, scores, want)
	}
	for _, limit := range []int{0, MaxHistory + 1} {
		if _, err := svc.History(ctx, "C1", limit); fault.Code(err) != fault.BadRequest {
			t.Errorf("limit %d: %v", limit, err)
		}
	}
}

func TestRescoreAll(t *testing.T) {
	clk := newClock()
	ids := []string{"C1", "C2", "C3", "C4", "C5", "C6", "C7"}
	facts := &fakeFacts{facts: map[string]receivables.Facts{}}
	for i, id := range ids {
		facts.facts[id] = payer(id, 10*i, ledger.Money(100_000*i), 15*i)
	}
	store, c := newFakeStore(append(ids, "GONE")...), newStampCache()
	svc := MustService(t, facts, store, c, clk)
	ctx := context.Background()

	var progress []string
	sum, err := svc.RescoreAll(ctx, func(done, total int) { progress = append(progress, fmt.Sprint(done, "/", total)) })
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]int{"A": 0, "B": 0, "C": 0, "D": 0, "E": 0}
	for _, id := range ids {
		card, err := decodeCard(mustCached(t, c, id))
		if err != nil {
			t.Fatal(err)
		}
		want[card.RiskClass()]++
		// The refreshed card is what a fresh score gives.
		a, err := svc.assess(id, facts.facts[id], solvency.View{}, false, nil)
		if err != nil {
			t.Fatal(err)
		}
		if card.Score() != a.Result.Score || card.RiskClass() != a.Result.RiskClass {
			t.Errorf("%s cached %d %s, scored %d %s", id, card.Score(), card.RiskClass(), a.Result.Score, a.Result.RiskClass)
		}
	}
	// GONE is listed but has no facts (a client deleted meanwhile): not scored, not cached.
	if sum.Clients != 7 || sum.New != 7 || sum.Recorded != 7 || len(sum.ClassChanges) != 0 || !reflect.DeepEqual(sum.ByClass, want) ||
		sum.AsOf != testDay || sum.ModelVersion != "2026.1" {
		t.Errorf("first run: %+v, want by class %v", sum, want)
	}
	if _, ok := c.get("GONE"); ok {
		t.Error("a client without facts was cached")
	}
	// Chunks of 3 over 8 ids: 3 progress calls ending at the total, in whatever order chunks end.
	if len(progress) != 3 || progress[2] != "8/8" {
		t.Errorf("progress %v", progress)
	}

	// Second run: C1 becomes a late payer, C2 unchanged in class but not in score.
	c1, _ := decodeCard(mustCached(t, c, "C1"))
	facts.set("C1", payer("C1", 70, 500_000, 120))
	facts.set("C2", payer("C2", 20, 100_000, 15)) // dbt 10 -> 20: 18 points less, still D
	sum, err = svc.RescoreAll(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	c1new, _ := decodeCard(mustCached(t, c, "C1"))
	if sum.Recorded != 2 || sum.New != 0 || sum.ChangedClasses() != 1 ||
		!reflect.DeepEqual(sum.ClassChanges, []ClassChange{{From: c1.RiskClass(), To: c1new.RiskClass(), Count: 1}}) {
		t.Errorf("second run: %+v (C1 %s -> %s)", sum, c1.RiskClass(), c1new.RiskClass())
	}
}

func mustCached(t *testing.T, c *stampCache, id string) []byte {
	t.Helper()
	b, ok := c.get(id)
	if !ok {
		t.Fatalf("%s is not cached", id)
	}
	return b
}

// TestRescoreAllRacingInvalidation: a ledger write committed (and its client invalidated) after
// the run read the stamps but before it read the facts must not leave the run's stale card in
// the cache.
func TestRescoreAllRacingInvalidation(t *testing.T) {
	clk := newClock()
	facts := &fakeFacts{facts: map[string]receivables.Facts{"C1": payer("C1", 0, 0, 0), "C2": payer("C2", 0, 0, 0)}}
	c := newStampCache()
	svc := MustService(t, facts, newFakeStore("C1", "C2"), c, clk)
	ctx := context.Background()
	facts.before = func([]string) { svc.Invalidate(ctx, "C1") }
	if _, err := svc.RescoreAll(ctx, nil); err != nil {
		t.Fatal(err)
	}
	if _, ok := c.get("C1"); ok {
		t.Error("the card of C1, invalidated while the run read the facts, was stored")
	}
	if _, ok := c.get("C2"); !ok {
		t.Error("C2 was not cached")
	}
}

func TestWatchSanctions(t *testing.T) {
	facts := &fakeFacts{facts: map[string]receivables.Facts{"C1": payer("C1", 0, 0, 0)}}
	c := newStampCache()
	var version atomic.Value
	version.Store("")
	var asked atomic.Int64
	svc, err := NewService(Config{Model: MustDefaultModel(t), Facts: facts, Store: newFakeStore("C1"), Cache: c,
		SanctionsVersion: func() (string, bool) { asked.Add(1); v := version.Load().(string); return v, v != "" }})
	if err != nil {
		t.Fatal(err)
	}
	card, err := svc.Score(context.Background(), "C1", false)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	n := asked.Load()
	go func() { svc.WatchSanctions(ctx, time.Millisecond); close(done) }()
	defer func() { cancel(); <-done }()
	for asked.Load() == n { // the watcher took its baseline
		time.Sleep(time.Millisecond)
	}
	version.Store("ofac:1")
	deadline := time.Now().Add(5 * time.Second)
	for c.stamp("C1")[0] == 0 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	if c.stamp("C1")[0] != 1 {
		t.Fatal("a list change did not drop the cached scores")
	}
	card2, err := svc.Score(context.Background(), "C1", false)
	if err != nil {
		t.Fatal(err)
	}
	d1, _ := card.Doc("en")
	d2, _ := card2.Doc("en")
	if d1.InputsAsOf.SanctionsListVersion != nil || d2.InputsAsOf.SanctionsListVersion == nil || *d2.InputsAsOf.SanctionsListVersion != "ofac:1" {
		t.Errorf("sanctions versions: %v then %v", d1.InputsAsOf.SanctionsListVersion, d2.InputsAsOf.SanctionsListVersion)
	}
}

// TestScoreDocJSON pins the field names of the documents the API answers.
func TestScoreDocJSON(t *testing.T) {
	clk := newClock()
	facts := &fakeFacts{facts: map[string]receivables.Facts{"C1": payer("C1", 20, 300_000, 40)}}
	svc := MustService(t, facts, newFakeStore("C1"), nil, clk)
	card, err := svc.Score(context.Background(), "C1", false)
	if err != nil {
		t.Fatal(err)
	}
	for doc, fields := range map[string][]string{
		string(card.ScoreJSON("en")):   {"client_id", "score", "risk_class", "pd", "model_version", "computed_at", "inputs_as_of", "language", "reasons"},
		string(card.ExplanationJSON()): {"client_id", "score", "risk_class", "pd", "model_name", "model_version", "computed_at", "inputs_as_of", "characteristics", "scaling"},
	} {
		var m map[string]json.RawMessage
		if err := json.Unmarshal([]byte(doc), &m); err != nil {
			t.Fatal(err)
		}
		var keys []string
		for k := range m {
			keys = append(keys, k)
		}
		if len(keys) != len(fields) {
			t.Errorf("fields %v, want %v", keys, fields)
		}
		for _, f := range fields {
			if _, ok := m[f]; !ok {
				t.Errorf("no %s in %s", f, doc)
			}
		}
		if !strings.Contains(doc, `"inputs_as_of":{"ledger":"2026-03-31","solvency":null,"sanctions_list_version":null}`) {
			t.Errorf("inputs_as_of in %s", doc)
		}
	}
}
