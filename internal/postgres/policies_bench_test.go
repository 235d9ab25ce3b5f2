package postgres_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io/fs"
	"log/slog"
	neturl "net/url"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/credorisk/credo/internal/decision"
	"github.com/credorisk/credo/internal/policy"
	"github.com/credorisk/credo/internal/policy/policytest"
	"github.com/credorisk/credo/internal/postgres"
	"github.com/credorisk/credo/internal/postgres/pgtest"
	"github.com/credorisk/credo/migrations"
	"github.com/credorisk/credo/policies"
)

// The decision history the replay target is set on: 100,000 logged decisions (in at
// most 20 s), here of 2,000 clients over 29 days.
const (
	replayBenchDecisions = 100_000
	replayBenchSeed      = 1
	replayBenchStep      = 25 * time.Second
)

var replayBenchStart = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// MustReplayBenchDB opens the benchmark's decision history. Deciding and logging 100,000 quotes
// takes minutes, so the database is kept between runs, named after everything its rows depend
// on (the migrations, the embedded policy, the generator and its seed and size): a change to any of
// them seeds a new one, and the older ones are dropped. It is built under a temporary name, so
// an interrupted seed is never taken for a finished one.
func MustReplayBenchDB(b *testing.B) (*postgres.DB, *postgres.Policies) {
	b.Helper()
	ctx := context.Background()
	h := sha256.New()
	err := fs.WalkDir(migrations.FS, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		src, err := fs.ReadFile(migrations.FS, p)
		h.Write([]byte(p))
		h.Write(src)
		return err
	})
	if err != nil {
		b.Fatal(err)
	}
	modules, data, err := decision.ReadSource(policies.FS)
	if err != nil {
		b.Fatal(err)
	}
	policyHash, _ := decision.ContentHash(modules, data)
	fmt.Fprintf(h, "%s %d %d %s %s", policyHash, replayBenchSeed, replayBenchDecisions, replayBenchStep, replayBenchStart)
	// The generator's output stands for its code: a change to it seeds a new history.
	pf := policytest.NewPortfolio(replayBenchSeed)
	for i := range 100 {
		doc, err := json.Marshal(pf.Input(i*997, replayBenchStart.Add(time.Duration(i*997)*replayBenchStep)))
		if err != nil {
			b.Fatal(err)
		}
		h.Write(doc)
	}
	name := "credo_bench_replay_" + hex.EncodeToString(h.Sum(nil))[:12]

	u, err := neturl.Parse(pgtest.AdminURL())
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		b.Skipf("DATABASE_URL must be a postgres:// URL for the replay benchmark's database")
	}
	admin, err := pgx.Connect(ctx, pgtest.AdminURL())
	if err != nil {
		b.Fatalf("connect to postgres: %v", err)
	}
	defer admin.Close(ctx)
	open := func(db string) *postgres.DB {
		v := *u
		v.Path = "/" + db
		pg, err := postgres.Open(ctx, v.String())
		if err != nil {
			b.Fatal(err)
		}
		return pg
	}
	var exists bool
	if err := admin.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)`, name).Scan(&exists); err != nil {
		b.Fatal(err)
	}
	if !exists {
		rows, err := admin.Query(ctx, `SELECT datname FROM pg_database WHERE datname LIKE 'credo\_bench\_replay\_%'`)
		if err != nil {
			b.Fatal(err)
		}
		old, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			b.Fatal(err)
		}
		for _, o := range old {
			if _, err := admin.Exec(ctx, fmt.Sprintf("DROP DATABASE %s WITH (FORCE)", pgx.Identifier{o}.Sanitize())); err != nil {
				b.Fatal(err)
			}
		}
		building := name + "_b"
		if _, err := admin.Exec(ctx, "CREATE DATABASE "+building); err != nil {
			b.Fatal(err)
		}
		pg := open(building)
		t0 := time.Now()
		err = func() error {
			defer pg.Close()
			if err := pg.Migrate(ctx, slog.New(slog.DiscardHandler)); err != nil {
				return err
			}
			store := postgres.NewPolicies(pg)
			if _, err := policy.Bootstrap(ctx, store, policies.FS); err != nil {
				return err
			}
			// The replay options: seeding on a loaded machine must not log fail-safe answers.
			v1, err := policy.NewEngines(store, policy.ReplayOptions(decision.Options{}), 0).Get(ctx, 1)
			if err != nil {
				return err
			}
			err = pf.Seed(ctx, postgres.NewDecisions(pg), v1, 0, replayBenchDecisions, replayBenchStart, replayBenchStep)
			if err != nil {
				return err
			}
			_, err = pg.Pool.Exec(ctx, `VACUUM ANALYZE decisions`)
			return err
		}()
		if err != nil {
			b.Fatalf("seed the replay benchmark's database: %v", err)
		}
		if _, err := admin.Exec(ctx, fmt.Sprintf("ALTER DATABASE %s RENAME TO %s", building, name)); err != nil {
			b.Fatal(err)
		}
		b.Logf("seeded %d logged decisions in %s (database %s, kept for the next runs)", replayBenchDecisions, time.Since(t0).Round(time.Second), name)
	}
	db := open(name)
	b.Cleanup(db.Close)
	return db, postgres.NewPolicies(db)
}

// BenchmarkPolicyReplay replays 100,000 logged decisions (decided by version 1 and logged as the
// decision service logs them) through a draft that adds a rule: rows streamed from Postgres,
// evaluated on GOMAXPROCS workers. "stream" is the read alone, for comparison.
func BenchmarkPolicyReplay(b *testing.B) {
	db, store := MustReplayBenchDB(b)
	ctx := context.Background()
	svc := &policy.Service{Store: store, Decisions: store,
		Engines: policy.NewEngines(store, policy.ReplayOptions(decision.Options{}), 0)}
	// The draft is found again on later runs: versions are never deleted.
	const rule = "package credo.credit\n\nreview_reasons contains {\"code\": \"LARGE_QUOTE\", \"message\": \"Quotes above 100000.00 need a credit manager.\"} if input.quote.amount_cents > 10000000\n"
	var draft int
	if err := db.Pool.QueryRow(ctx, `SELECT coalesce(max(version), 0) FROM policy_versions WHERE modules->>'large.rego' = $1`, rule).Scan(&draft); err != nil {
		b.Fatal(err)
	}
	if draft == 0 {
		src := rule
		v, err := svc.Create(ctx, policy.Draft{Parent: new(1), Modules: map[string]*string{"large.rego": &src}}, "bench")
		if err != nil {
			b.Fatal(err)
		}
		draft = v.Version
	}
	req := policy.ReplayRequest{From: replayBenchStart, To: replayBenchStart.AddDate(0, 2, 0), SampleSize: policy.DefaultSampleSize}

	b.Run("stream", func(b *testing.B) {
		for b.Loop() {
			n := 0
			if err := store.Logged(ctx, req.From, req.To, 0, func(policy.Logged) error { n++; return nil }); err != nil {
				b.Fatal(err)
			}
			if n != replayBenchDecisions {
				b.Fatalf("%d decisions read", n)
			}
		}
		b.ReportMetric(float64(replayBenchDecisions*b.N)/b.Elapsed().Seconds(), "decisions/s")
	})
	b.Run("replay", func(b *testing.B) {
		var rep policy.ReplayReport
		var err error
		cpu0 := processCPU(b)
		for b.Loop() {
			if rep, err = svc.Replay(ctx, draft, req, "bench"); err != nil {
				b.Fatal(err)
			}
			if rep.Evaluated != replayBenchDecisions || rep.Changed == 0 || rep.FailSafe != 0 {
				b.Fatalf("replay: %d evaluated, %d changed, %d fail-safe", rep.Evaluated, rep.Changed, rep.FailSafe)
			}
		}
		b.ReportMetric(b.Elapsed().Seconds()/float64(b.N), "s/replay")
		// The CPU this process spent (evaluations, decoding, GC), not counting Postgres: on a
		// machine shared with other work the wall time says more about the neighbours.
		b.ReportMetric((processCPU(b)-cpu0).Seconds()/float64(b.N), "cpu-s/replay")
		b.ReportMetric(float64(replayBenchDecisions*b.N)/b.Elapsed().Seconds(), "decisions/s")
		b.Logf("%d evaluated, %d changed, transitions %v, limit delta %s", rep.Evaluated, rep.Changed, rep.Transitions, rep.LimitDelta)
	})
}

// processCPU is the user and system time this process has used.
func processCPU(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
