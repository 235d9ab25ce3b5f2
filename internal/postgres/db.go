// Package postgres implements Credo's stores on PostgreSQL with pgx: the ledger, keys, audit, and
// the migrations runner. It alone speaks SQL.
package postgres

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"

	"github.com/credorisk/credo/internal/fault"
	"github.com/credorisk/credo/migrations"
)

// DB is the connection pool every store shares.
type DB struct {
	Pool *pgxpool.Pool
}

// Open connects to databaseURL and checks the server answers.
func Open(ctx context.Context, databaseURL string) (*DB, error) {
	cfg, err := pgxpool.ParseConfig(databaseURL)
	if err != nil {
		return nil, fmt.Errorf("parse DATABASE_URL: %w", err)
	}
	if cfg.MaxConns < 8 {
		cfg.MaxConns = 8
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("connect to postgres: %w", err)
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("connect to postgres at %s: %w", redact(cfg), err)
	}
	return &DB{Pool: pool}, nil
}

func redact(cfg *pgxpool.Config) string {
	return fmt.Sprintf("%s:%d/%s", cfg.ConnConfig.Host, cfg.ConnConfig.Port, cfg.ConnConfig.Database)
}

// Close releases the pool.
func (db *DB) Close() { db.Pool.Close() }

func (db *DB) goose() (*goose.Provider, *sql.DB, error) {
	sqldb := stdlib.OpenDBFromPool(db.Pool)
	locker, err := lock.NewPostgresSessionLocker()
	if err != nil {
		return nil, nil, err
	}
	p, err := goose.NewProvider(goose.DialectPostgres, sqldb, migrations.FS,
		goose.WithSessionLocker(locker), goose.WithDisableGlobalRegistry(true))
	if err != nil {
		_ = sqldb.Close()
		return nil, nil, fmt.Errorf("load migrations: %w", err)
	}
	return p, sqldb, nil
}

// Migrate applies pending migrations, one replica at a time (a Postgres advisory lock).
func (db *DB) Migrate(ctx context.Context, log *slog.Logger) error {
	p, sqldb, err := db.goose()
	if err != nil {
		return err
	}
	defer sqldb.Close()
	res, err := p.Up(ctx)
	if err != nil {
		return fmt.Errorf("apply migrations: %w", err)
	}
	for _, r := range res {
		log.Info("migration applied", "version", r.Source.Version, "file", r.Source.Path, "duration", r.Duration.String())
	}
	return nil
}

// MigrationState says which schema version the database holds and the newest one embedded.
func (db *DB) MigrationState(ctx context.Context) (current, target int64, err error) {
	p, sqldb, err := db.goose()
	if err != nil {
		return 0, 0, err
	}
	defer sqldb.Close()
	return p.GetVersions(ctx)
}

// Postgres error codes the stores translate.
const (
	pgUniqueViolation     = "23505"
	pgForeignKeyViolation = "23503"
	pgCheckViolation      = "23514"
	pgSerialization       = "40001"
	pgDeadlock            = "40P01"
)

// pgCode returns the SQLSTATE of err, or "".
func pgCode(err error) string {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Code
	}
	return ""
}

// isNoRows reports pgx's "no rows" error.
func isNoRows(err error) bool { return errors.Is(err, pgx.ErrNoRows) }

// unavailable marks errors that come from Postgres being unreachable as fault.Unavailable, so the
// caller gets a 503 rather than a 500.
func unavailable(err error, what string) error {
	if err == nil {
		return nil
	}
	var fe *fault.Error
	if errors.As(err, &fe) {
		return err
	}
	if pgconn.SafeToRetry(err) || pgconn.Timeout(err) || errors.Is(err, context.DeadlineExceeded) {
		return &fault.Error{Code: fault.Unavailable, Message: "the database is not reachable", Err: fmt.Errorf("%s: %w", what, err)}
	}
	var ce *pgconn.ConnectError
	if errors.As(err, &ce) {
		return &fault.Error{Code: fault.Unavailable, Message: "the database is not reachable", Err: fmt.Errorf("%s: %w", what, err)}
	}
	return fmt.Errorf("%s: %w", what, err)
}

// inTx runs fn in a transaction, committing when it returns nil.
func (db *DB) inTx(ctx context.Context, what string, fn func(pgx.Tx) error) error {
	tx, err := db.Pool.Begin(ctx)
	if err != nil {
		return unavailable(err, what)
	}
	defer func() { _ = tx.Rollback(ctx) }()
	if err := fn(tx); err != nil {
		return unavailable(err, what)
	}
	return unavailable(tx.Commit(ctx), what+": commit")
}
