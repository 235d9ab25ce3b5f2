// Package policytest makes realistic decision histories for the tests and benchmarks of the
// policy lifecycle: quote inputs drawn from a portfolio of client profiles, decided by a real
// policy version and logged through the decision store, as the decision service logs them.
package policytest

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"slices"
	"sync"
	"time"

	"github.com/credorisk/credo/internal/decision"
	"github.com/credorisk/credo/internal/ledger"
)

// Clients is the size of the generated portfolio.
const Clients = 2000

// profile is what stays the same across a client's quotes.
type profile struct {
	id, name      string
	class         decision.RiskClass
	score, pd     float64
	openAR        ledger.Money
	overdueShare  float64
	maxOverdue    int
	solvency      decision.Solvency
	sanctions     decision.SanctionsStatus
	typicalAmount float64
}

var classes = []struct {
	class        decision.RiskClass
	share        float64
	score, pd    float64
	typicalOrder float64
}{
	{decision.ClassA, 0.15, 780, 0.004, 40000},
	{decision.ClassB, 0.35, 700, 0.015, 20000},
	{decision.ClassC, 0.30, 620, 0.045, 12000},
	{decision.ClassD, 0.15, 540, 0.12, 6000},
	{decision.ClassE, 0.05, 450, 0.30, 3000},
}

func newProfile(r *rand.Rand, i int) profile {
	p := profile{id: fmt.Sprintf("C-%05d", i), name: fmt.Sprintf("Client %05d SAS", i)}
	u, acc := r.Float64(), 0.0
	c := classes[len(classes)-1]
	for _, k := range classes {
		if acc += k.share; u < acc {
			c = k
			break
		}
	}
	p.class, p.score, p.pd, p.typicalAmount = c.class, c.score+r.NormFloat64()*20, c.pd*(0.7+0.6*r.Float64()), c.typicalOrder
	p.openAR = money(c.typicalOrder * (0.5 + 3*r.Float64()))
	p.overdueShare = math.Min(1, r.ExpFloat64()*c.pd*3)
	p.maxOverdue = int(r.ExpFloat64() * 400 * c.pd)
	p.solvency = decision.Solvency{Available: r.Float64() < 0.92, CompanyStatus: decision.CompanyActive}
	if p.solvency.Available {
		p.solvency.Stale = r.Float64() < 0.1
		g := 1 + r.IntN(10)
		p.solvency.Grade = &g
		if r.Float64() < 0.4 {
			rl := money(c.typicalOrder * (1 + 8*r.Float64()))
			p.solvency.RecommendedLimit = &rl
		}
		neg := r.Float64() < 0.05
		p.solvency.NegativeEquity = &neg
	} else {
		p.solvency.Stale, p.solvency.CompanyStatus = true, decision.CompanyUnknown
	}
	switch u := r.Float64(); {
	case u < 0.01:
		p.solvency.CompanyStatus = decision.CompanyClosed
	case u < 0.02:
		kind := "redressement judiciaire"
		p.solvency.Insolvency = decision.Insolvency{Open: true, Kind: &kind}
	}
	switch u := r.Float64(); {
	case u < 0.005:
		p.sanctions = decision.SanctionsConfirmed
	case u < 0.035:
		p.sanctions = decision.SanctionsPotentialMatch
	case u < 0.05:
		p.sanctions = decision.SanctionsNotScreened
	default:
		p.sanctions = decision.SanctionsClear
	}
	return p
}

func money(f float64) ledger.Money { return ledger.Money(math.Round(f * 100)) }

// Portfolio is a deterministic set of client profiles and the quotes they ask for. Clients
// quote unevenly (the n-th most active about 1/n as often as the first, as sales concentrate on
// key accounts), and what Credo knows of a client (metrics, score, solvency, screening) changes
// from week to week, not from quote to quote: the logged inputs of one client in one week differ
// only in the quote and the exposure, as in a real decision log.
type Portfolio struct {
	seed    uint64
	clients []profile
	cumul   []float64 // cumulative quote shares of the clients, by activity rank
}

// NewPortfolio makes the portfolio of a seed.
func NewPortfolio(seed uint64) *Portfolio {
	r := rand.New(rand.NewPCG(seed, 1))
	p := &Portfolio{seed: seed, clients: make([]profile, Clients), cumul: make([]float64, Clients)}
	total := 0.0
	for i := range p.clients {
		p.clients[i] = newProfile(r, i)
		total += 1 / float64(i+1)
		p.cumul[i] = total
	}
	for i := range p.cumul {
		p.cumul[i] /= total
	}
	return p
}

// Input is the i-th quote's input document, decided at: the same (seed, i, at) always gives the
// same document.
func (p *Portfolio) Input(i int, at time.Time) decision.Input {
	r := rand.New(rand.NewPCG(p.seed, uint64(i)+2))
	ci, _ := slices.BinarySearch(p.cumul, r.Float64())
	c := p.clients[min(ci, len(p.clients)-1)]
	at = at.UTC().Truncate(time.Microsecond)
	today := ledger.DateFromTime(at)
	// What is known of the client this week.
	week := int64(today) / 7
	w := rand.New(rand.NewPCG(p.seed^uint64(week)<<20, uint64(ci)))
	openAR := money(float64(c.openAR) / 100 * (0.6 + 0.8*w.Float64()))
	rate := math.Min(1, c.overdueShare*(0.5+w.Float64()))
	overdue := money(float64(openAR) / 100 * rate)
	maxOverdue := max(0, c.maxOverdue+w.IntN(15)-7)
	dbt := c.pd * 200 * (0.8 + 0.4*w.Float64())
	dso := 30 + c.pd*300
	score := math.Round(c.score + w.NormFloat64()*5)
	sv := c.solvency
	if sv.Available {
		asOf := ledger.Date(int64(today)/30*30) - ledger.Date(c.score)%60 // refreshed monthly
		sv.AsOf = &asOf
	}
	// The quote and the exposure.
	amount := money(c.typicalAmount * math.Exp(r.NormFloat64()*0.8))
	if amount < 10000 {
		amount += 10000 // at least 100.00
	}
	terms := []int{0, 30, 30, 45, 45, 60, 60, 90}[r.IntN(8)]
	openOrders := ledger.Money(0)
	if r.Float64() < 0.3 {
		openOrders = money(c.typicalAmount * r.Float64())
	}
	reserved := ledger.Money(0)
	if r.Float64() < 0.2 {
		reserved = money(c.typicalAmount * r.Float64())
	}
	in := decision.Input{
		Now: at, Today: today,
		Quote: decision.Quote{QuoteID: fmt.Sprintf("Q-%d-%08d", p.seed, i), Amount: amount, Currency: "EUR",
			RequestedTermsDays: terms, EndOfMonth: r.Float64() < 0.3, OpenOrdersAmount: openOrders},
		Client: decision.Client{ClientID: c.id, Name: c.name, IsNew: c.maxOverdue == 0 && c.openAR < 100000},
		Score: decision.Score{Value: score, RiskClass: c.class, PD: c.pd, ModelVersion: "scorecard-2026.1",
			Reasons: []decision.ScoreReason{{Code: "DBT_12M", Text: fmt.Sprintf("Pays %.0f days late on average over 12 months", dbt), PointsLost: math.Round(dbt)}}},
		Metrics: decision.Metrics{OpenAR: openAR, Overdue: overdue, OverdueRate: &rate, MaxDaysOverdue: maxOverdue,
			WeightedDBT12m: &dbt, PaidCount12m: 5 + int(c.score)%60, DSO: &dso},
		Solvency:  sv,
		Sanctions: decision.Sanctions{Status: c.sanctions},
		Exposure: decision.Exposure{OpenAR: openAR, Overdue: overdue, Reserved: reserved, OpenOrders: openOrders,
			Total: openAR + reserved + openOrders},
	}
	country := "FR"
	in.Client.Country = &country
	if c.sanctions == decision.SanctionsPotentialMatch || c.sanctions == decision.SanctionsConfirmed {
		in.Sanctions.Hits = []decision.SanctionsHit{{EntryID: "ofac-1234", List: "ofac", MatchedName: c.name, Score: 0.91}}
	}
	return in
}

// Committer writes decisions to the log: postgres.Decisions.
type Committer interface {
	CommitBatch(ctx context.Context, batch []*decision.Pending, decide func(*decision.Pending, decision.ExposureBase) ledger.Money) error
}

// Seed decides quotes first..first+n-1 of the portfolio with pol, one every step from start, and
// logs them through store in batches, as the decision service would (no reservations are held:
// replay reads only the answers and the inputs).
func (p *Portfolio) Seed(ctx context.Context, store Committer, pol *decision.Policy, first, n int, start time.Time, step time.Duration) error {
	const batch = 2000
	for lo := 0; lo < n; lo += batch {
		hi := min(lo+batch, n)
		pending := make([]*decision.Pending, hi-lo)
		var wg sync.WaitGroup
		workers := runtime.GOMAXPROCS(0)
		for w := range workers {
			wg.Go(func() {
				for j := w; j < len(pending); j += workers {
					i := first + lo + j
					pending[j] = p.decide(ctx, pol, i, start.Add(time.Duration(i-first)*step))
				}
			})
		}
		wg.Wait()
		err := store.CommitBatch(ctx, pending, func(pd *decision.Pending, _ decision.ExposureBase) ledger.Money {
			pd.Entry.Reservation = nil
			return 0
		})
		if err != nil {
			return fmt.Errorf("seed decisions %d to %d: %w", first+lo, first+hi, err)
		}
	}
	return nil
}

func (p *Portfolio) decide(ctx context.Context, pol *decision.Policy, i int, at time.Time) *decision.Pending {
	in := p.Input(i, at)
	r := pol.Engine.Evaluate(ctx, &in)
	e := decision.LogEntry{RequestHash: fmt.Sprintf("seed-%d", i), Decision: decision.Decision{
		DecisionID: fmt.Sprintf("dec_seed_%d_%08d", p.seed, i), QuoteID: in.Quote.QuoteID, ClientID: in.Client.ClientID,
		Outcome: r.Outcome, Amount: in.Quote.Amount, CreditLimit: r.CreditLimit, Exposure: in.Exposure,
		PaymentTerms: r.PaymentTerms, Reasons: r.Reasons, PolicyVersion: pol.Version, PolicyHash: pol.Engine.Hash(),
		DecidedAt: in.Now, ExpiresAt: in.Now.Add(30 * 24 * time.Hour), RequestedBy: "seed",
		Score: decision.ScoreSummary{Value: in.Score.Value, RiskClass: in.Score.RiskClass, PD: in.Score.PD, ModelVersion: in.Score.ModelVersion},
	}}
	if r.Err != nil {
		e.Failure = r.Err.Error()
	}
	return &decision.Pending{Entry: e, Input: in}
}
