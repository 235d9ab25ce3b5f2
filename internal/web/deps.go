package web

import (
	"context"
	"time"

	"github.com/credorisk/credo/internal/decision"
	"github.com/credorisk/credo/internal/ledger"
	"github.com/credorisk/credo/internal/policy"
	"github.com/credorisk/credo/internal/receivables"
	"github.com/credorisk/credo/internal/sanctions"
	"github.com/credorisk/credo/internal/scoring"
	"github.com/credorisk/credo/internal/solvency"
)

// The services the console reads and drives, each declared as the little it needs; cmd/credo
// passes the real ones (the adapters below cover those whose shape differs).
type (
	// Ledger reads clients and their invoices; *ledger.Service implements it.
	Ledger interface {
		GetClient(ctx context.Context, id string) (ledger.Client, error)
		ListClients(ctx context.Context, f ledger.ClientFilter) ([]ledger.Client, string, error)
		ListClientInvoices(ctx context.Context, f ledger.InvoiceFilter) ([]ledger.InvoiceView, string, error)
	}
	// Facts builds receivables facts; *postgres.Metrics implements it.
	Facts interface {
		ClientFacts(ctx context.Context, clientID string, asOf ledger.Date, forecast bool) (receivables.Facts, error)
		PortfolioFacts(ctx context.Context, asOf ledger.Date, country, sector string, forecast bool) (receivables.Facts, error)
	}
	// Scores gives a client's current score documents and history; ScoresOf adapts
	// *scoring.Service.
	Scores interface {
		// Current is the client's current score in lang with its explanation (one computation).
		Current(ctx context.Context, clientID, lang string) (scoring.ScoreDoc, scoring.ExplanationDoc, error)
		History(ctx context.Context, clientID string, limit int) ([]scoring.HistoryEntry, error)
		// ModelVersion is the active model's version.
		ModelVersion() string
	}
	// DecisionLog reads the decision log; decision.Store (postgres.Decisions) implements it.
	DecisionLog interface {
		Get(ctx context.Context, decisionID string) (decision.LogEntry, error)
		List(ctx context.Context, f decision.Filter) ([]decision.LogEntry, string, error)
	}
	// Policies is the policy lifecycle; *policy.Service implements it.
	Policies interface {
		List(ctx context.Context, f policy.ListFilter) ([]policy.Version, error)
		Get(ctx context.Context, version int) (policy.Version, error)
		Active(ctx context.Context) (policy.Version, error)
		Create(ctx context.Context, d policy.Draft, actor string) (policy.Version, error)
		Test(ctx context.Context, version int, actor string) (policy.TestReport, error)
		Replay(ctx context.Context, version int, req policy.ReplayRequest, actor string) (policy.ReplayReport, error)
		Diff(ctx context.Context, version, against int) (policy.DiffReport, error)
		Activate(ctx context.Context, version int, comment, actor string) (policy.ActivationResult, error)
	}
	// Sanctions screens clients and names and records dispositions; SanctionsOf adapts
	// *sanctions.Service.
	Sanctions interface {
		Screening(ctx context.Context, clientID string) (sanctions.Screening, error)
		Dispose(ctx context.Context, clientID, hitID string, verdict sanctions.Verdict, note, actor string) (sanctions.Disposition, sanctions.Screening, error)
		Search(q sanctions.Query) ([]sanctions.Match, error)
		// Entry is a listed entry of the loaded lists.
		Entry(ref sanctions.EntryRef) (sanctions.Entry, bool)
	}
	// Solvency reads a client's solvency snapshots; *solvency.Service implements it.
	Solvency interface {
		Report(ctx context.Context, clientID string, withRaw bool) (solvency.Report, error)
	}
	// Board answers the portfolio-wide questions no service asks: the portfolio by risk class,
	// the clients whose class worsened, the screenings waiting for review. postgres.ConsoleBoard implements it.
	Board interface {
		RiskClasses(ctx context.Context, modelVersion string, asOf ledger.Date) ([]ClassExposure, error)
		Worsened(ctx context.Context, modelVersion string, from, to time.Time, limit int) ([]Worsening, error)
		ReviewQueue(ctx context.Context, limit int) ([]ReviewItem, error)
	}
)

// ClassExposure is one risk class of the portfolio: its clients' latest scores under the active
// model put them there, and Exposure is their receivables open at the as-of date. Class "" holds
// the clients without a score.
type ClassExposure struct {
	Class    string
	Clients  int
	Exposure ledger.Money
}

// Worsening is a client whose risk class got worse over a period of the score history.
type Worsening struct {
	ClientID, Name     string
	FromClass, ToClass string
	FromScore, ToScore int
	// At is when the latest class was recorded.
	At time.Time
}

// ReviewItem is a client whose screening waits for a credit manager: its open hits and the best
// score among them.
type ReviewItem struct {
	ClientID, Name string
	OpenHits       int
	BestScore      float64
	ScreenedAt     time.Time
}

// ScoresOf adapts the scoring service to Scores.
func ScoresOf(s *scoring.Service) Scores { return scoresAdapter{s} }

type scoresAdapter struct{ s *scoring.Service }

func (a scoresAdapter) Current(ctx context.Context, clientID, lang string) (scoring.ScoreDoc, scoring.ExplanationDoc, error) {
	card, err := a.s.Score(ctx, clientID, false)
	if err != nil {
		return scoring.ScoreDoc{}, scoring.ExplanationDoc{}, err
	}
	doc, err := card.Doc(lang)
	if err != nil {
		return scoring.ScoreDoc{}, scoring.ExplanationDoc{}, err
	}
	ex, err := card.Explanation()
	return doc, ex, err
}

func (a scoresAdapter) History(ctx context.Context, clientID string, limit int) ([]scoring.HistoryEntry, error) {
	return a.s.History(ctx, clientID, limit)
}

func (a scoresAdapter) ModelVersion() string { return a.s.Model().Version() }

// SanctionsOf adapts the sanctions service to Sanctions.
func SanctionsOf(s *sanctions.Service) Sanctions { return sanctionsAdapter{s} }

type sanctionsAdapter struct{ *sanctions.Service }

func (a sanctionsAdapter) Entry(ref sanctions.EntryRef) (sanctions.Entry, bool) {
	ix := a.Index()
	if ix == nil {
		return sanctions.Entry{}, false
	}
	return ix.Entry(ref)
}
