package web

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/credorisk/credo/internal/auth"
	"github.com/credorisk/credo/internal/decision"
	"github.com/credorisk/credo/internal/fault"
	"github.com/credorisk/credo/internal/ledger"
	"github.com/credorisk/credo/internal/policy"
	"github.com/credorisk/credo/internal/receivables"
	"github.com/credorisk/credo/internal/sanctions"
	"github.com/credorisk/credo/internal/scoring"
	"github.com/credorisk/credo/internal/solvency"
)

// In-memory stand-ins for the services, holding a small world: two clients, their invoices and
// decisions, a scored client, a policy with two versions and a screening with one open hit. The
// keys go through the real auth.Keys on an in-memory store, so revocation is the real one.

// keyStore implements auth.Store in memory.
type keyStore struct {
	mu   sync.Mutex
	keys map[string]auth.Key // by hash
}

func (s *keyStore) CreateKey(_ context.Context, k auth.Key, hash []byte) (auth.Key, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	k.ID = int64(len(s.keys) + 1)
	s.keys[string(hash)] = k
	return k, nil
}

func (s *keyStore) ListKeys(context.Context) ([]auth.Key, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Collect(maps.Values(s.keys)), nil
}

func (s *keyStore) RevokeKey(_ context.Context, name, actor string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for h, k := range s.keys {
		if k.Name == name && k.RevokedAt == nil {
			now := time.Now()
			k.RevokedAt, k.RevokedBy = &now, actor
			s.keys[h] = k
			return nil
		}
	}
	return fault.Errorf(fault.NotFound, "no key %q", name)
}

func (s *keyStore) KeyByHash(_ context.Context, hash []byte) (auth.Key, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	k, ok := s.keys[string(hash)]
	if !ok {
		return auth.Key{}, fault.Errorf(fault.NotFound, "no such key")
	}
	return k, nil
}

// The world's dates: "today" is 2026-11-23.
var (
	testToday = ledger.DateOf(2026, time.November, 23)
	testNow   = time.Date(2026, time.November, 23, 10, 0, 0, 0, time.UTC)
)

type fakeLedger struct {
	clients  map[string]ledger.Client
	invoices []ledger.InvoiceView
}

func (f *fakeLedger) GetClient(_ context.Context, id string) (ledger.Client, error) {
	c, ok := f.clients[id]
	if !ok {
		return ledger.Client{}, fault.Errorf(fault.NotFound, "client %q not found", id)
	}
	return c, nil
}

func (f *fakeLedger) ListClients(_ context.Context, flt ledger.ClientFilter) ([]ledger.Client, string, error) {
	var out []ledger.Client
	for _, id := range slices.Sorted(maps.Keys(f.clients)) {
		c := f.clients[id]
		if strings.HasPrefix(strings.ToLower(c.Name), strings.ToLower(flt.NamePrefix)) && id > flt.After {
			out = append(out, c)
		}
	}
	return out, "", nil
}

func (f *fakeLedger) ListClientInvoices(_ context.Context, flt ledger.InvoiceFilter) ([]ledger.InvoiceView, string, error) {
	var out []ledger.InvoiceView
	for _, inv := range f.invoices {
		if inv.ClientID == flt.ClientID && (flt.Status != "open" || receivables.BalanceAt(asReceivable(inv), flt.AsOf) > 0) {
			v := inv
			v.Balance = receivables.BalanceAt(asReceivable(inv), flt.AsOf)
			out = append(out, v)
		}
	}
	return out, "", nil
}

func asReceivable(v ledger.InvoiceView) receivables.Invoice {
	inv := receivables.Invoice{ClientID: v.ClientID, InvoiceID: v.InvoiceID, Kind: v.Kind, IssueDate: v.IssueDate, DueDate: v.DueDate, Amount: v.Amount}
	for _, m := range v.Movements {
		inv.Movements = append(inv.Movements, receivables.Movement{Date: m.Date, Amount: m.Amount, Kind: m.Kind})
	}
	return inv
}

// fakeFacts builds facts from the fake ledger's invoices with the receivables package itself.
type fakeFacts struct{ l *fakeLedger }

func (f fakeFacts) facts(asOf ledger.Date, client string) receivables.Facts {
	var invs []receivables.Invoice
	for _, v := range f.l.invoices {
		if client == "" || v.ClientID == client {
			invs = append(invs, asReceivable(v))
		}
	}
	return receivables.BuildFacts(asOf, invs, nil)
}

func (f fakeFacts) ClientFacts(_ context.Context, id string, asOf ledger.Date, _ bool) (receivables.Facts, error) {
	if _, ok := f.l.clients[id]; !ok {
		return receivables.Facts{}, fault.Errorf(fault.NotFound, "client %q not found", id)
	}
	return f.facts(asOf, id), nil
}

func (f fakeFacts) PortfolioFacts(_ context.Context, asOf ledger.Date, _, _ string, _ bool) (receivables.Facts, error) {
	return f.facts(asOf, ""), nil
}

type fakeScores struct{ l *fakeLedger }

// testLines is the explanation of every fake score: its points add up to 555.
var testLines = []scoring.Line{
	{Feature: "weighted_dbt_12m", Value: scoring.Number(12.5), Bin: "10 to 20 days late", Points: 180, MaxPoints: 220},
	{Feature: "late_share_12m", Value: scoring.Number(0.25), Bin: "20% to 40%", Points: 150, MaxPoints: 180},
	{Feature: "open_insolvency", Value: scoring.Bool(false), Bin: "none", Points: 125, MaxPoints: 125},
	{Feature: "bureau_grade", Value: scoring.Missing(), Bin: "no grade", Points: 100, MaxPoints: 140},
}

func (f fakeScores) Current(_ context.Context, id, lang string) (scoring.ScoreDoc, scoring.ExplanationDoc, error) {
	if _, ok := f.l.clients[id]; !ok {
		return scoring.ScoreDoc{}, scoring.ExplanationDoc{}, fault.Errorf(fault.NotFound, "client %q not found", id)
	}
	text := "pays 12.5 days beyond terms on average over 12 months"
	if lang == "fr" {
		text = "paie en moyenne 12,5 jours après l'échéance sur 12 mois"
	}
	doc := scoring.ScoreDoc{ClientID: id, Score: 555, RiskClass: "C", PD: 0.0412, ModelVersion: "2026.1", ComputedAt: testNow,
		InputsAsOf: scoring.InputsAsOf{Ledger: testToday}, Language: lang,
		Reasons: []scoring.ReasonText{{Code: "PAYMENT_DELAY", Text: text, PointsLost: 40}}}
	ex := scoring.ExplanationDoc{ClientID: id, Score: 555, RiskClass: "C", PD: 0.0412, ModelName: "test card", ModelVersion: "2026.1",
		ComputedAt: testNow, Characteristics: testLines, Scaling: scoring.Scaling{BaseScore: 600, BaseOdds: 50, PDO: 20}}
	return doc, ex, nil
}

func (f fakeScores) History(_ context.Context, id string, _ int) ([]scoring.HistoryEntry, error) {
	return []scoring.HistoryEntry{
		{ClientID: id, ModelVersion: "2026.1", Score: 555, RiskClass: "C", PD: 0.0412, ComputedAt: testNow},
		{ClientID: id, ModelVersion: "2026.1", Score: 610, RiskClass: "B", PD: 0.02, ComputedAt: testNow.AddDate(0, 0, -10)},
	}, nil
}

func (f fakeScores) ModelVersion() string { return "2026.1" }

type fakeDecisions struct{ list []decision.LogEntry }

func (f *fakeDecisions) Get(_ context.Context, id string) (decision.LogEntry, error) {
	for _, e := range f.list {
		if e.DecisionID == id {
			return e, nil
		}
	}
	return decision.LogEntry{}, fault.Errorf(fault.NotFound, "decision %q not found", id)
}

// List pages by position: the cursor is the index of the next entry.
func (f *fakeDecisions) List(_ context.Context, flt decision.Filter) ([]decision.LogEntry, string, error) {
	var match []decision.LogEntry
	for _, e := range f.list {
		if (flt.ClientID == "" || e.ClientID == flt.ClientID) && (flt.Outcome == "" || e.Outcome == flt.Outcome) &&
			(flt.From == nil || !e.DecidedAt.Before(*flt.From)) && (flt.To == nil || e.DecidedAt.Before(*flt.To)) {
			match = append(match, e)
		}
	}
	start, _ := strconv.Atoi(flt.After)
	if start > len(match) {
		start = len(match)
	}
	end := min(start+flt.Limit, len(match))
	next := ""
	if end < len(match) {
		next = strconv.Itoa(end)
	}
	return match[start:end], next, nil
}

// replayTooLong is the replay limit at which the fake replay runs out of time.
const replayTooLong = 999

// fakePolicies keeps versions in memory: a module holding the word SYNTAX does not compile (a
// diagnostic at that line), and activation follows the real rules (four-eyes, one active).
type fakePolicies struct {
	mu       sync.Mutex
	versions []policy.Version
	tested   []int
}

func (f *fakePolicies) List(context.Context, policy.ListFilter) ([]policy.Version, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := slices.Clone(f.versions)
	slices.Reverse(out)
	return out, nil
}

func (f *fakePolicies) Get(_ context.Context, n int) (policy.Version, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if n < 1 || n > len(f.versions) {
		return policy.Version{}, fault.Errorf(fault.NotFound, "no policy version %d", n)
	}
	return f.versions[n-1], nil
}

func (f *fakePolicies) Active(context.Context) (policy.Version, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, v := range f.versions {
		if v.Status == policy.StatusActive {
			return v, nil
		}
	}
	return policy.Version{}, fault.Errorf(fault.NotFound, "no policy version is active")
}

func (f *fakePolicies) Create(ctx context.Context, d policy.Draft, actor string) (policy.Version, error) {
	modules := map[string]string{}
	data := json.RawMessage(`{}`)
	if d.Parent != nil {
		p, err := f.Get(ctx, *d.Parent)
		if err != nil {
			return policy.Version{}, err
		}
		modules, data = maps.Clone(p.Modules), p.Data
	}
	var diags []decision.Diagnostic
	for name, src := range d.Modules {
		if src == nil {
			delete(modules, name)
			continue
		}
		modules[name] = *src
		for i, l := range strings.Split(*src, "\n") {
			if c := strings.Index(l, "SYNTAX"); c >= 0 {
				diags = append(diags, decision.Diagnostic{File: name, Line: i + 1, Column: c + 1, Code: "rego_parse_error", Message: "unexpected SYNTAX token"})
			}
		}
	}
	if d.Data != nil {
		data = d.Data
	}
	if len(diags) > 0 {
		return policy.Version{}, &decision.CompileError{Diagnostics: diags}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	v := policy.Version{Version: len(f.versions) + 1, Parent: d.Parent, Status: policy.StatusDraft, Author: actor, CreatedAt: testNow,
		Comment: d.Comment, Hash: "sha256:test", Files: slices.Sorted(maps.Keys(modules)), Modules: modules, Data: data}
	f.versions = append(f.versions, v)
	return v, nil
}

func (f *fakePolicies) Test(ctx context.Context, n int, _ string) (policy.TestReport, error) {
	if _, err := f.Get(ctx, n); err != nil {
		return policy.TestReport{}, err
	}
	f.mu.Lock()
	f.tested = append(f.tested, n)
	f.mu.Unlock()
	return policy.TestReport{Version: n, Passed: false, Counts: policy.TestCounts{Pass: 1, Fail: 1},
		Tests: []policy.TestResultView{{Name: "data.credo.test_ok", Result: "pass", DurationMS: 0.5},
			{Name: "data.credo.test_limit", Result: "fail", DurationMS: 0.7, Message: "limit 100 != 200", File: "credit_test.rego", Line: 12}}}, nil
}

func (f *fakePolicies) Replay(_ context.Context, n int, req policy.ReplayRequest, _ string) (policy.ReplayReport, error) {
	if req.Limit == replayTooLong {
		return policy.ReplayReport{}, fmt.Errorf("replay version %d: %w", n, context.DeadlineExceeded)
	}
	rep := policy.ReplayReport{Version: n, From: req.From, To: req.To, Evaluated: 7, Changed: 2,
		Transitions: map[string]int{"approve->review": 2}, LimitDelta: -150000}
	rep.Outcomes.Logged = map[string]int{"approve": 5, "review": 2}
	rep.Outcomes.Replayed = map[string]int{"approve": 3, "review": 4}
	rep.Sample = []policy.ReplayChange{{DecisionID: "d-1", QuoteID: "Q-1", ClientID: "C-1", DecidedAt: testNow, LoggedVersion: 1,
		Logged:   policy.ReplayAnswer{Outcome: "approve", CreditLimit: 500000, Reasons: []decision.Reason{}},
		Replayed: policy.ReplayAnswer{Outcome: "review", CreditLimit: 350000, Reasons: []decision.Reason{{Code: "TERMS_ABOVE_CLASS_MAX"}}}}}
	return rep, nil
}

func (f *fakePolicies) Diff(ctx context.Context, n, against int) (policy.DiffReport, error) {
	return policy.DiffReport{Version: n, Against: against, Files: []policy.FileDiff{{File: "credit.rego", Change: "modified", Added: 1, Removed: 1}},
		Diff: "--- v1/credit.rego\n+++ v2/credit.rego\n@@ -1,1 +1,1 @@\n-a := 1\n+a := 2\n"}, nil
}

func (f *fakePolicies) Activate(_ context.Context, n int, _, actor string) (policy.ActivationResult, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	v := &f.versions[n-1]
	switch {
	case v.Status == policy.StatusActive:
		return policy.ActivationResult{}, fault.Errorf(fault.Conflict, "policy version %d is already active", n)
	case v.Author == actor:
		return policy.ActivationResult{}, fault.Errorf(fault.Forbidden, "four-eyes: version %d was written by %s, so another key must activate it", n, actor)
	}
	rollback := v.Status == policy.StatusRetired
	for i := range f.versions {
		if f.versions[i].Status == policy.StatusActive {
			f.versions[i].Status = policy.StatusRetired
		}
	}
	v.Status = policy.StatusActive
	return policy.ActivationResult{Version: *v, Rollback: rollback}, nil
}

// fakeSanctions holds one screening per client; dispositions go through sanctions.NewDisposition.
type fakeSanctions struct {
	mu      sync.Mutex
	screens map[string]sanctions.Screening
	entries map[sanctions.EntryRef]sanctions.Entry
}

func (f *fakeSanctions) Screening(_ context.Context, id string) (sanctions.Screening, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	sc, ok := f.screens[id]
	if !ok {
		return sanctions.Screening{Result: sanctions.Result{ClientID: id, Status: sanctions.StatusClear, Hits: []sanctions.Hit{}}}, nil
	}
	return sc, nil
}

func (f *fakeSanctions) Dispose(_ context.Context, id, hitID string, verdict sanctions.Verdict, note, actor string) (sanctions.Disposition, sanctions.Screening, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	sc := f.screens[id]
	i := slices.IndexFunc(sc.Hits, func(h sanctions.Hit) bool { return h.ID == hitID })
	if i < 0 {
		return sanctions.Disposition{}, sanctions.Screening{}, fault.Errorf(fault.NotFound, "client %q has no hit %q", id, hitID)
	}
	d, err := sanctions.NewDisposition(id, sc.Hits[i], verdict, note, actor, testNow)
	if err != nil {
		return sanctions.Disposition{}, sanctions.Screening{}, err
	}
	h := sc.Hits[i]
	h.Disposition = &d
	sc.Hits = slices.Delete(slices.Clone(sc.Hits), i, i+1)
	if verdict == sanctions.VerdictFalsePositive {
		h.Status = sanctions.HitCleared
		sc.Cleared = append(sc.Cleared, h)
		if len(sc.Hits) == 0 {
			sc.Status = sanctions.StatusClear
		}
	} else {
		h.Status = sanctions.HitConfirmed
		sc.Hits = append(sc.Hits, h)
		sc.Status = sanctions.StatusConfirmed
	}
	f.screens[id] = sc
	return d, sc, nil
}

func (f *fakeSanctions) Search(q sanctions.Query) ([]sanctions.Match, error) {
	if strings.TrimSpace(q.Name) == "" {
		return nil, fault.Validation("invalid query", fault.Field("name", "must not be empty"))
	}
	var out []sanctions.Match
	for _, e := range f.entries {
		if strings.Contains(strings.ToLower(e.PrimaryName()), strings.ToLower(strings.Fields(q.Name)[0])) {
			out = append(out, sanctions.Match{Entry: e, MatchedName: e.PrimaryName(), NameStrength: sanctions.StrengthPrimary, Score: 0.91,
				Explanation: sanctions.Explanation{Tokens: []sanctions.TokenMatch{{Query: "fictive", Name: "fictive", Similarity: 1, How: "exact"}}}})
		}
	}
	return out, nil
}

func (f *fakeSanctions) Entry(ref sanctions.EntryRef) (sanctions.Entry, bool) {
	e, ok := f.entries[ref]
	return e, ok
}

type fakeSolvency struct{}

func (fakeSolvency) Report(_ context.Context, id string, _ bool) (solvency.Report, error) {
	grade := 3
	fetched := testNow.Add(-48 * time.Hour)
	return solvency.Report{ClientID: id, CheckedAt: testNow, Providers: []solvency.ProviderReport{
		{Provider: "bureau", Enabled: true, Snapshot: &solvency.Snapshot{Provider: "bureau", FetchedAt: fetched, CompanyStatus: "active", Grade: &grade}},
		{Provider: "bodacc", Enabled: true, Stale: true, LastFailure: &solvency.Failure{At: testNow, Error: "timeout"}},
	}, View: solvency.View{Available: true, CompanyStatus: "active", Grade: &grade, AsOf: &fetched, Sources: []string{"bureau"}}}, nil
}

type fakeBoard struct {
	worsened []Worsening
}

func (fakeBoard) RiskClasses(context.Context, string, ledger.Date) ([]ClassExposure, error) {
	return []ClassExposure{{Class: "A", Clients: 1, Exposure: 100000}, {Class: "B"}, {Class: "C", Clients: 1, Exposure: 250050},
		{Class: "D"}, {Class: "E"}, {Class: "", Clients: 1}}, nil
}

func (b fakeBoard) Worsened(context.Context, string, time.Time, time.Time, int) ([]Worsening, error) {
	return b.worsened, nil
}

func (fakeBoard) ReviewQueue(context.Context, int) ([]ReviewItem, error) {
	return []ReviewItem{{ClientID: "C-2", Name: "Fictive Trading SAS", OpenHits: 1, BestScore: 0.93, ScreenedAt: testNow}}, nil
}

// testWorld builds the fakes.
func testWorld() Deps {
	l := &fakeLedger{clients: map[string]ledger.Client{
		"C-1": {ClientID: "C-1", Name: "Ateliers Dupont SAS", Country: "FR", Sector: "25.62", RegistrationID: "552100554", Directors: []string{"Marie Dupont"}, CreatedAt: testNow},
		"C-2": {ClientID: "C-2", Name: "Fictive Trading SAS", Country: "FR", Directors: []string{}, CreatedAt: testNow},
	}}
	day := func(n int) ledger.Date { return testToday.AddDays(n) }
	l.invoices = []ledger.InvoiceView{
		{Invoice: ledger.Invoice{InvoiceID: "I-1", ClientID: "C-1", Number: "F-001", Kind: "invoice", IssueDate: day(-100), DueDate: day(-70), Amount: 123456}},
		{Invoice: ledger.Invoice{InvoiceID: "I-2", ClientID: "C-1", Number: "F-002", Kind: "invoice", IssueDate: day(-20), DueDate: day(10), Amount: 100000},
			Movements: []ledger.Movement{{Kind: "payment", SourceID: "P-1", Date: day(-5), Amount: 25000}}},
		{Invoice: ledger.Invoice{InvoiceID: "I-3", ClientID: "C-2", Number: "F-003", Kind: "invoice", IssueDate: day(-60), DueDate: day(-30), Amount: 50000},
			Movements: []ledger.Movement{{Kind: "payment", SourceID: "P-2", Date: day(-28), Amount: 50000}}},
	}
	decisions := &fakeDecisions{}
	for i := range 60 {
		outcome := decision.OutcomeApprove
		if i%3 == 0 {
			outcome = decision.OutcomeReview
		}
		client := "C-1"
		if i%2 == 1 {
			client = "C-2"
		}
		decisions.list = append(decisions.list, decision.LogEntry{Decision: decision.Decision{DecisionID: fmt.Sprintf("d-%02d", i), QuoteID: fmt.Sprintf("Q-%02d", i),
			ClientID: client, Outcome: outcome, Amount: ledger.Money(100000 + i), CreditLimit: 5000000, PaymentTerms: decision.PaymentTerms{NetDays: 30},
			Reasons:   []decision.Reason{{Code: "TERMS_OK", Message: "terms within the class maximum"}},
			Score:     decision.ScoreSummary{Value: 555, RiskClass: decision.ClassC, PD: 0.04, ModelVersion: "2026.1"},
			DecidedAt: testNow.Add(-time.Duration(i) * time.Hour), PolicyVersion: 1, PolicyHash: "sha256:p1", RequestedBy: "crm"},
			Input: json.RawMessage(`{"quote":{"quote_id":"Q","amount_cents":100000},"client":{"client_id":"` + client + `"}}`)})
	}
	p1 := policy.Version{Version: 1, Status: policy.StatusActive, Author: "credo", CreatedAt: testNow, Hash: "sha256:p1",
		Modules: map[string]string{"credit.rego": "package credo.credit\n\n# limits\ndefault allow := false\n", "credit_test.rego": "package credo.credit_test\n"},
		Data:    json.RawMessage(`{"tables":{"limit":1}}`)}
	p1.Files = slices.Sorted(maps.Keys(p1.Modules))
	parent := 1
	p2 := p1
	p2.Version, p2.Status, p2.Author, p2.Parent = 2, policy.StatusDraft, "test-cm", &parent
	entry := sanctions.Entry{Source: "fr", SourceID: "90002", Type: sanctions.TypeEntity, Countries: []string{"RU"},
		Names: []sanctions.Name{{Name: "Société Fictive de Négoce SARL", Strength: sanctions.StrengthPrimary}}, Programs: []string{"(UE) 2022/332"}}
	hit := sanctions.Hit{ID: "fr-90002", Entry: entry.Ref(), EntryType: sanctions.TypeEntity, EntryName: entry.PrimaryName(), MatchedName: entry.PrimaryName(),
		Subject: "client", SubjectName: "Fictive Trading SAS", Score: 0.93, Status: sanctions.HitOpen,
		Explanation: &sanctions.Explanation{Tokens: []sanctions.TokenMatch{{Query: "fictive", Name: "fictive", Similarity: 1, How: "exact"}}}}
	sc := &fakeSanctions{entries: map[sanctions.EntryRef]sanctions.Entry{entry.Ref(): entry}, screens: map[string]sanctions.Screening{
		"C-2": {Result: sanctions.Result{ClientID: "C-2", Status: sanctions.StatusPotentialMatch, Hits: []sanctions.Hit{hit}}, ScreenedAt: &testNow},
	}}
	return Deps{Ledger: l, Metrics: fakeFacts{l}, Scores: fakeScores{l}, Decisions: decisions,
		Policies: &fakePolicies{versions: []policy.Version{p1, p2}}, Sanctions: sc, Solvency: fakeSolvency{},
		Board: fakeBoard{worsened: []Worsening{{ClientID: "C-1", Name: "Ateliers Dupont SAS", FromClass: "B", ToClass: "C", FromScore: 610, ToScore: 555, At: testNow}}}}
}
