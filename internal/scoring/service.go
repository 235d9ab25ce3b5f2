package scoring

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"strings"
	"time"

	"github.com/credorisk/credo/internal/fault"
	"github.com/credorisk/credo/internal/ledger"
	"github.com/credorisk/credo/internal/receivables"
	"github.com/credorisk/credo/internal/solvency"
)

// The Service is the scorer the rest of Credo calls: it gathers a client's inputs (receivables
// facts from the ledger, the solvency view, the sanctions list versions), scores them with the
// active model, records the score history, and serves scores from a cache. It does no I/O of its
// own: every source is one of the small interfaces below, which cmd/credo wires to Postgres,
// Redis and the other services.

// FactsSource builds receivables facts from the ledger; postgres.Metrics implements it. An
// unknown client is a fault.NotFound from ClientFacts.
type FactsSource interface {
	ClientFacts(ctx context.Context, clientID string, asOf ledger.Date, forecast bool) (receivables.Facts, error)
	// FactsByClient builds the facts of the listed clients in one pass; ids that are no client are
	// absent from the map.
	FactsByClient(ctx context.Context, asOf ledger.Date, clientIDs []string) (map[string]receivables.Facts, error)
}

// SolvencySource gives a client's merged solvency view; ok is false when nothing is known. A nil
// SolvencySource leaves every solvency feature missing (they take their missing bin).
type SolvencySource interface {
	View(ctx context.Context, clientID string) (v solvency.View, ok bool, err error)
}

// SolvencyBatchSource is a SolvencySource that can also answer many clients in one call;
// RescoreAll uses it when the source implements it. Clients absent from the map have no view.
type SolvencyBatchSource interface {
	SolvencySource
	Views(ctx context.Context, clientIDs []string) (map[string]solvency.View, error)
}

// Store keeps the score history; postgres.Scores implements it.
type Store interface {
	// Record stores scores: each becomes its client's latest score under its model version and,
	// when its score or risk class differs from the latest one recorded (or there is none), a
	// history row. It returns those changes, in no particular order.
	Record(ctx context.Context, entries []HistoryEntry) ([]Change, error)
	// History lists a client's recorded scores, newest first, at most limit; an unknown client
	// is a fault.NotFound.
	History(ctx context.Context, clientID string, limit int) ([]HistoryEntry, error)
	// ClientIDs lists every client, in id order.
	ClientIDs(ctx context.Context) ([]string, error)
}

// Cache holds encoded scores by client id; *cache.Namespace implements it. Its GetOrCompute must
// run one compute per id at a time, and a value computed before an invalidation of its id must
// never be served after it.
type Cache interface {
	GetOrCompute(ctx context.Context, id string, compute func(context.Context) ([]byte, error)) ([]byte, error)
	Refresh(ctx context.Context, id string, compute func(context.Context) ([]byte, error)) ([]byte, error)
	Invalidate(ctx context.Context, ids ...string)
	InvalidateAll(ctx context.Context)
}

// Config is what NewService needs.
type Config struct {
	// Models are every model loaded (GET /v1/models lists them); Model is the active one.
	Models []*Model
	Model  *Model
	Facts  FactsSource
	Store  Store
	// Cache may be nil: every call then computes.
	Cache Cache
	// Solvency may be nil: the solvency features are then missing for every client.
	Solvency SolvencySource
	// SanctionsVersion names the sanctions list versions in use (ok false when none is loaded);
	// nil means none.
	SanctionsVersion func() (version string, ok bool)
	// Now is the clock (default time.Now): computed_at and the ledger date (its UTC day).
	Now func() time.Time
	// Workers score in parallel in RescoreAll (default GOMAXPROCS).
	Workers int
	// ChunkSize is how many clients RescoreAll reads per batch of facts (default 1000).
	ChunkSize int
	Log       *slog.Logger
}

// Service scores clients. Its methods are safe for concurrent use.
type Service struct {
	cfg   Config
	model *Model
	log   *slog.Logger
}

// NewService checks cfg and returns the service.
func NewService(cfg Config) (*Service, error) {
	switch {
	case cfg.Model == nil:
		return nil, errors.New("scoring service: no active model")
	case cfg.Facts == nil:
		return nil, errors.New("scoring service: no facts source")
	case cfg.Store == nil:
		return nil, errors.New("scoring service: no score store")
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Workers <= 0 {
		cfg.Workers = runtime.GOMAXPROCS(0)
	}
	if cfg.ChunkSize <= 0 {
		cfg.ChunkSize = 1000
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if len(cfg.Models) == 0 {
		cfg.Models = []*Model{cfg.Model}
	}
	return &Service{cfg: cfg, model: cfg.Model, log: cfg.Log}, nil
}

// Model is the active model.
func (s *Service) Model() *Model { return s.model }

// Models lists every loaded model, by ascending version.
func (s *Service) Models() []*Model { return s.cfg.Models }

// today is the ledger date scores are computed as of: the UTC day of the clock.
func (s *Service) today() ledger.Date { return ledger.DateFromTime(s.cfg.Now()) }

// Score answers the client's score card: from the cache when it holds one computed with the
// active model as of today, else computed (and recorded, and cached). refresh recomputes
// whatever is cached. An unknown client is a fault.NotFound.
func (s *Service) Score(ctx context.Context, clientID string, refresh bool) (Card, error) {
	today := s.today()
	compute := func(ctx context.Context) ([]byte, error) { return s.computeCard(ctx, clientID, today) }
	if s.cfg.Cache == nil {
		return decodeBytes(compute(ctx))
	}
	if !refresh {
		b, err := s.cfg.Cache.GetOrCompute(ctx, clientID, compute)
		if err != nil {
			return Card{}, err
		}
		c, err := decodeCard(b)
		// A card from another model (a rolling deploy, a rollback) or from an earlier day (its
		// overdue days have moved since) is recomputed, as is one this version cannot read.
		if err == nil && c.current(s.model.version, today) {
			return c, nil
		}
	}
	return decodeBytes(s.cfg.Cache.Refresh(ctx, clientID, compute))
}

func decodeBytes(b []byte, err error) (Card, error) {
	if err != nil {
		return Card{}, err
	}
	return decodeCard(b)
}

// Explanation answers the explanation document of the client's current score (the cached one
// when there is one), as JSON.
func (s *Service) Explanation(ctx context.Context, clientID string) ([]byte, error) {
	c, err := s.Score(ctx, clientID, false)
	if err != nil {
		return nil, err
	}
	return c.ExplanationJSON(), nil
}

// MaxHistory is the most history entries History answers.
const MaxHistory = 1000

// History lists the client's recorded scores, newest first: a row each time the score or the
// risk class changed. limit is 1 to MaxHistory.
func (s *Service) History(ctx context.Context, clientID string, limit int) ([]HistoryEntry, error) {
	if limit < 1 || limit > MaxHistory {
		return nil, &fault.Error{Code: fault.BadRequest, Message: "bad query parameter",
			Fields: []fault.FieldError{fault.Field("limit", "must be between 1 and %d", MaxHistory)}}
	}
	return s.cfg.Store.History(ctx, clientID, limit)
}

// Invalidate drops the cached scores of these clients, here and on every replica; call it after
// the commit that changed their inputs (ledger writes and imports, screenings, solvency
// snapshots).
func (s *Service) Invalidate(ctx context.Context, clientIDs ...string) {
	if s.cfg.Cache != nil && len(clientIDs) > 0 {
		s.cfg.Cache.Invalidate(ctx, clientIDs...)
	}
}

// InvalidateAll drops every cached score (a sanctions list change, a model change) by bumping
// the cache's generation: no scan.
func (s *Service) InvalidateAll(ctx context.Context) {
	if s.cfg.Cache != nil {
		s.cfg.Cache.InvalidateAll(ctx)
	}
}

// WatchSanctions checks the sanctions list versions every interval until ctx ends, and drops
// every cached score when they change: a score names the list versions it was computed with.
// The versions seen at the start are the baseline.
func (s *Service) WatchSanctions(ctx context.Context, interval time.Duration) {
	if s.cfg.SanctionsVersion == nil || interval <= 0 {
		return
	}
	last := s.sanctionsVersion()
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			v := s.sanctionsVersion()
			if equalOpt(v, last) {
				continue
			}
			s.log.Info("scores: sanctions lists changed; every cached score is dropped",
				"from", optString(last), "to", optString(v))
			last = v
			s.InvalidateAll(ctx)
		}
	}
}

func (s *Service) sanctionsVersion() *string {
	if s.cfg.SanctionsVersion == nil {
		return nil
	}
	v, ok := s.cfg.SanctionsVersion()
	if !ok {
		return nil
	}
	return &v
}

func equalOpt(a, b *string) bool { return (a == nil) == (b == nil) && (a == nil || *a == *b) }

func optString(p *string) string {
	if p == nil {
		return "none"
	}
	return *p
}

// computeCard scores one client now, records it and encodes its card.
func (s *Service) computeCard(ctx context.Context, clientID string, today ledger.Date) ([]byte, error) {
	// The solvency view is read while the facts are: the two are independent round trips.
	var view solvency.View
	var known bool
	var solvencyErr error
	done := make(chan struct{})
	go func() {
		defer close(done)
		if s.cfg.Solvency != nil {
			view, known, solvencyErr = s.cfg.Solvency.View(ctx, clientID)
		}
	}()
	f, err := s.cfg.Facts.ClientFacts(ctx, clientID, today, false)
	<-done
	if err != nil {
		return nil, err
	}
	if solvencyErr != nil {
		return nil, fmt.Errorf("solvency of %s: %w", clientID, solvencyErr)
	}
	a, err := s.assess(clientID, f, view, known, s.sanctionsVersion())
	if err != nil {
		return nil, err
	}
	if _, err := s.cfg.Store.Record(ctx, []HistoryEntry{a.historyEntry()}); err != nil {
		return nil, fmt.Errorf("record the score of %s: %w", clientID, err)
	}
	return a.encode()
}

// Lang picks the reasons' language from an Accept-Language header: "fr" or "en". Headers that
// cannot select French (most of them) skip the full matcher.
func Lang(acceptLanguage string) string {
	switch acceptLanguage {
	case "", "*", "en", "en-US", "en-GB":
		return "en"
	case "fr", "fr-FR":
		return "fr"
	}
	if !strings.Contains(strings.ToLower(acceptLanguage), "fr") {
		return "en"
	}
	return MatchLanguage(acceptLanguage)
}
