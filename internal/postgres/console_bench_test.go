package postgres_test

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/credorisk/credo/internal/auth"
	"github.com/credorisk/credo/internal/fault"
	"github.com/credorisk/credo/internal/ledger"
	"github.com/credorisk/credo/internal/postgres"
	"github.com/credorisk/credo/internal/postgres/pgtest"
	"github.com/credorisk/credo/internal/scoring"
	"github.com/credorisk/credo/internal/web"
)

// mustBenchDB opens the database `make bench-import` builds (10,000 clients, 1,000,000 invoices,
// scored by `make bench-score`): CREDO_BENCH_DATABASE_URL, else credo_bench on DATABASE_URL's
// server. It skips when that database is absent or small.
func mustBenchDB(b *testing.B) *postgres.DB {
	b.Helper()
	ctx := context.Background()
	dsn := os.Getenv("CREDO_BENCH_DATABASE_URL")
	if dsn == "" {
		u, err := url.Parse(pgtest.AdminURL())
		if err != nil {
			b.Skipf("DATABASE_URL is not a URL; set CREDO_BENCH_DATABASE_URL: %v", err)
		}
		u.Path = "/credo_bench"
		dsn = u.String()
	}
	db, err := postgres.Open(ctx, dsn)
	if err != nil {
		b.Skipf("no benchmark database (make bench-import builds it): %v", err)
	}
	b.Cleanup(db.Close)
	var n int64
	if err := db.Pool.QueryRow(ctx, `SELECT count(*) FROM invoices`).Scan(&n); err != nil || n < 100_000 {
		b.Skipf("the benchmark database holds %d invoices (%v); run make bench-import", n, err)
	}
	if err := db.Migrate(ctx, slog.New(slog.DiscardHandler)); err != nil {
		b.Skipf("the benchmark database cannot be migrated (rebuild it with make bench-import): %v", err)
	}
	return db
}

// benchAsOf is the last day of the benchmark portfolio's invoices.
var benchAsOf = ledger.DateOf(2026, time.October, 31)

// reportP50 reports the median of the measured durations in milliseconds.
func reportP50(b *testing.B, took []time.Duration) {
	slices.Sort(took)
	if len(took) > 0 {
		b.ReportMetric(float64(took[len(took)/2].Microseconds())/1000, "p50-ms")
		b.ReportMetric(float64(took[len(took)*99/100].Microseconds())/1000, "p99-ms")
	}
}

// BenchmarkRiskClasses is the portfolio page's table by risk class on 10,000 clients and
// 1,000,000 invoices: every client's class and its receivables open at the date.
func BenchmarkRiskClasses(b *testing.B) {
	db := mustBenchDB(b)
	board := postgres.NewConsoleBoard(db)
	var took []time.Duration
	for b.Loop() {
		start := time.Now()
		if _, err := board.RiskClasses(context.Background(), "2026.1", benchAsOf); err != nil {
			b.Fatal(err)
		}
		took = append(took, time.Since(start))
	}
	reportP50(b, took)
}

// benchScores is the one thing the portfolio page asks of the scores: the active model.
type benchScores struct{}

func (benchScores) Current(context.Context, string, string) (scoring.ScoreDoc, scoring.ExplanationDoc, error) {
	return scoring.ScoreDoc{}, scoring.ExplanationDoc{}, fault.Errorf(fault.Unavailable, "not in this benchmark")
}
func (benchScores) History(context.Context, string, int) ([]scoring.HistoryEntry, error) {
	return nil, nil
}
func (benchScores) ModelVersion() string { return "2026.1" }

// memKeys keeps the benchmark's one key in memory: nothing is written to the shared database.
type memKeys struct{ k auth.Key }

func (m *memKeys) CreateKey(_ context.Context, k auth.Key, _ []byte) (auth.Key, error) {
	m.k = k
	return k, nil
}
func (m *memKeys) ListKeys(context.Context) ([]auth.Key, error)        { return []auth.Key{m.k}, nil }
func (m *memKeys) RevokeKey(context.Context, string, string) error     { return nil }
func (m *memKeys) KeyByHash(context.Context, []byte) (auth.Key, error) { return m.k, nil }

// BenchmarkPortfolioPage is the whole portfolio page, as a signed-in person gets it, on 10,000
// clients and 1,000,000 invoices: the KPIs and the 13-week forecast (the receivables facts), the
// risk classes, the clients whose class worsened, and the rendering.
func BenchmarkPortfolioPage(b *testing.B) {
	db := mustBenchDB(b)
	keys := auth.NewKeys(&memKeys{}, time.Minute)
	secret, _, err := keys.Create(context.Background(), "bench", auth.Finance, "bench")
	if err != nil {
		b.Fatal(err)
	}
	con, err := web.New(web.Deps{Keys: keys, Metrics: postgres.NewMetrics(db), Scores: benchScores{}, Board: postgres.NewConsoleBoard(db)},
		web.Config{Secret: web.NewSecret(), SessionTTL: time.Hour, IdleTimeout: time.Hour, RequestTimeout: time.Minute})
	if err != nil {
		b.Fatal(err)
	}
	w := httptest.NewRecorder()
	con.ServeHTTP(w, httptest.NewRequest("GET", "/console/login", nil))
	token := strings.SplitN(strings.SplitN(w.Body.String(), `name="token" value="`, 2)[1], `"`, 2)[0]
	r := httptest.NewRequest("POST", "/console/login", strings.NewReader(url.Values{"key": {secret}, "token": {token}}.Encode()))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for _, c := range w.Result().Cookies() {
		r.AddCookie(c)
	}
	w = httptest.NewRecorder()
	con.ServeHTTP(w, r)
	var sess *http.Cookie
	for _, c := range w.Result().Cookies() {
		if c.Name == "credo_session" {
			sess = c
		}
	}
	if sess == nil {
		b.Fatalf("sign in: %d", w.Code)
	}
	var took []time.Duration
	for b.Loop() {
		r := httptest.NewRequest("GET", "/console/portfolio?as_of="+benchAsOf.String(), nil)
		r.AddCookie(sess)
		w := httptest.NewRecorder()
		start := time.Now()
		con.ServeHTTP(w, r)
		took = append(took, time.Since(start))
		if w.Code != http.StatusOK {
			b.Fatalf("portfolio: %d\n%.2000s", w.Code, w.Body.String())
		}
	}
	reportP50(b, took)
}
