package postgres

// The console's portfolio-wide questions: the portfolio by risk class, the clients whose class
// worsened, the screenings waiting for review, and the console secret every replica shares. They
// read tables the other stores write (scores, score_history, invoices, allocations,
// sanctions_screenings) and write only console_secret (migrations/00009_console.sql).

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/credorisk/credo/internal/fault"
	"github.com/credorisk/credo/internal/ledger"
	"github.com/credorisk/credo/internal/web"
)

// ConsoleBoard implements web.Board.
type ConsoleBoard struct {
	db *DB
}

// NewConsoleBoard returns the console's board over db.
func NewConsoleBoard(db *DB) *ConsoleBoard { return &ConsoleBoard{db: db} }

var _ web.Board = (*ConsoleBoard)(nil)

// boardUnavailable marks any failed query as the database being unavailable, so the page says so.
func boardUnavailable(err error, what string) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, context.Canceled) {
		return err
	}
	return &fault.Error{Code: fault.Unavailable, Message: "the database did not answer", Err: fmt.Errorf("%s: %w", what, err)}
}

// consoleRiskClassesSQL: every client with its latest class under the model (” without a score) and its
// receivables open at D: invoices issued on or before D and unsettled at D, each its amount minus
// its allocations dated on or before D. The scan of open invoices uses invoices_unsettled (00008).
const consoleRiskClassesSQL = `
WITH open AS (
	SELECT client_id, sum(x) AS balance FROM (
		SELECT i.client_id, i.amount AS x
		FROM invoices i
		WHERE i.kind = 'invoice' AND i.issue_date <= ` + consoleAtD + ` AND coalesce(i.settled_on, 'infinity'::date) > ` + consoleAtD + `
		UNION ALL
		SELECT i.client_id, -a.amount
		FROM invoices i JOIN allocations a ON a.invoice_id = i.invoice_id
		WHERE i.kind = 'invoice' AND i.issue_date <= ` + consoleAtD + ` AND coalesce(i.settled_on, 'infinity'::date) > ` + consoleAtD + ` AND a.date <= ` + consoleAtD + `
	) u GROUP BY client_id
)
SELECT coalesce(s.risk_class, ''), count(*), coalesce((sum(o.balance) * 100)::bigint, 0)
FROM clients c
LEFT JOIN scores s ON s.client_id = c.client_id AND s.model_version = $1
LEFT JOIN open o ON o.client_id = c.client_id
GROUP BY 1`

// consoleAtD is the as-of date, sent as days since 1970-01-01 (as internal/postgres sends dates): an
// expression of the parameter, so the planner sees the date and uses invoices_unsettled.
const consoleAtD = "('1970-01-01'::date + $2::int)"

// consoleClasses are the risk consoleClasses, best first: each is listed even with no client in it.
var consoleClasses = []string{"A", "B", "C", "D", "E"}

// RiskClasses counts the clients and sums their open receivables at asOf by their latest risk
// class under modelVersion; the clients without a score come last, as class "".
func (b *ConsoleBoard) RiskClasses(ctx context.Context, modelVersion string, asOf ledger.Date) ([]web.ClassExposure, error) {
	rows, err := b.db.Pool.Query(ctx, consoleRiskClassesSQL, modelVersion, int32(asOf))
	if err != nil {
		return nil, boardUnavailable(err, "risk consoleClasses")
	}
	defer rows.Close()
	got := map[string]web.ClassExposure{}
	for rows.Next() {
		var ce web.ClassExposure
		var cents int64
		if err := rows.Scan(&ce.Class, &ce.Clients, &cents); err != nil {
			return nil, boardUnavailable(err, "risk consoleClasses")
		}
		ce.Exposure = ledger.Money(cents)
		got[ce.Class] = ce
	}
	if err := rows.Err(); err != nil {
		return nil, boardUnavailable(err, "risk consoleClasses")
	}
	out := make([]web.ClassExposure, 0, len(consoleClasses)+1)
	for _, c := range consoleClasses {
		ce := got[c]
		ce.Class = c
		out = append(out, ce)
	}
	if ce, ok := got[""]; ok {
		out = append(out, ce)
	}
	return out, nil
}

// consoleWorsenedSQL: for each client scored under the model in [from, to), its class before the
// period (the latest row before from, or else the first row in it) and its latest class in it;
// the clients whose class moved towards E, the biggest moves first.
const consoleWorsenedSQL = `
WITH h AS (
	SELECT client_id, risk_class, score, computed_at, history_id
	FROM score_history WHERE model_version = $1 AND computed_at < $3
), before AS (
	SELECT DISTINCT ON (client_id) client_id, risk_class, score FROM h WHERE computed_at < $2
	ORDER BY client_id, computed_at DESC, history_id DESC
), first_in AS (
	SELECT DISTINCT ON (client_id) client_id, risk_class, score FROM h WHERE computed_at >= $2
	ORDER BY client_id, computed_at, history_id
), last_in AS (
	SELECT DISTINCT ON (client_id) client_id, risk_class, score, computed_at FROM h WHERE computed_at >= $2
	ORDER BY client_id, computed_at DESC, history_id DESC
)
SELECT l.client_id, c.name, coalesce(b.risk_class, f.risk_class), coalesce(b.score, f.score), l.risk_class, l.score, l.computed_at
FROM last_in l
JOIN first_in f ON f.client_id = l.client_id
JOIN clients c ON c.client_id = l.client_id
LEFT JOIN before b ON b.client_id = l.client_id
WHERE ascii(l.risk_class) > ascii(coalesce(b.risk_class, f.risk_class))
ORDER BY ascii(l.risk_class) - ascii(coalesce(b.risk_class, f.risk_class)) DESC, l.computed_at DESC, l.client_id
LIMIT $4`

// Worsened lists at most limit clients whose risk class under modelVersion got worse over
// [from, to) of the score history.
func (b *ConsoleBoard) Worsened(ctx context.Context, modelVersion string, from, to time.Time, limit int) ([]web.Worsening, error) {
	rows, err := b.db.Pool.Query(ctx, consoleWorsenedSQL, modelVersion, from, to, limit)
	if err != nil {
		return nil, boardUnavailable(err, "worsened consoleClasses")
	}
	defer rows.Close()
	var out []web.Worsening
	for rows.Next() {
		var w web.Worsening
		var fromScore, toScore int32
		if err := rows.Scan(&w.ClientID, &w.Name, &w.FromClass, &fromScore, &w.ToClass, &toScore, &w.At); err != nil {
			return nil, boardUnavailable(err, "worsened consoleClasses")
		}
		w.FromScore, w.ToScore, w.At = int(fromScore), int(toScore), w.At.UTC()
		out = append(out, w)
	}
	return out, boardUnavailable(rows.Err(), "worsened consoleClasses")
}

// consoleReviewQueueSQL: clients whose latest screening is a potential match (the partial index
// sanctions_screenings_status), with their open hits, oldest screening first.
const consoleReviewQueueSQL = `
SELECT s.client_id, c.name, count(h.hit_id) FILTER (WHERE h.status = 'open'),
	coalesce(max(h.score) FILTER (WHERE h.status = 'open'), 0), s.screened_at
FROM sanctions_screenings s
JOIN clients c ON c.client_id = s.client_id
LEFT JOIN sanctions_screening_hits h ON h.client_id = s.client_id
WHERE s.status = 'potential_match'
GROUP BY s.client_id, c.name, s.screened_at
ORDER BY s.screened_at, s.client_id
LIMIT $1`

// ReviewQueue lists at most limit clients whose screening waits for a reviewer.
func (b *ConsoleBoard) ReviewQueue(ctx context.Context, limit int) ([]web.ReviewItem, error) {
	rows, err := b.db.Pool.Query(ctx, consoleReviewQueueSQL, limit)
	if err != nil {
		return nil, boardUnavailable(err, "review queue")
	}
	defer rows.Close()
	var out []web.ReviewItem
	for rows.Next() {
		var it web.ReviewItem
		var n int64
		if err := rows.Scan(&it.ClientID, &it.Name, &n, &it.BestScore, &it.ScreenedAt); err != nil {
			return nil, boardUnavailable(err, "review queue")
		}
		it.OpenHits, it.ScreenedAt = int(n), it.ScreenedAt.UTC()
		out = append(out, it)
	}
	return out, boardUnavailable(rows.Err(), "review queue")
}

// Secret returns the console secret stored in Postgres, storing candidate first when there is
// none: the replicas starting together all end up with the first one stored.
func (b *ConsoleBoard) Secret(ctx context.Context, candidate []byte) ([]byte, error) {
	if len(candidate) < web.MinSecretLen {
		return nil, fmt.Errorf("console secret: the candidate must be at least %d bytes", web.MinSecretLen)
	}
	// A replica that loses the race to insert waits for the winner's commit, but its statement's
	// snapshot predates that commit: it then finds no row, and reads again.
	for range 3 {
		var secret []byte
		err := b.db.Pool.QueryRow(ctx, `
			WITH ins AS (INSERT INTO console_secret (secret) VALUES ($1) ON CONFLICT DO NOTHING RETURNING secret)
			SELECT secret FROM ins UNION ALL SELECT secret FROM console_secret LIMIT 1`, candidate).Scan(&secret)
		if err == nil {
			return slices.Clip(secret), nil
		}
		if !errors.Is(err, pgx.ErrNoRows) {
			return nil, boardUnavailable(err, "console secret")
		}
	}
	return nil, errors.New("console secret: no secret stored, and none could be")
}
