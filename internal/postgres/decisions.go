package postgres

import (
	"context"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/credorisk/credo/internal/decision"
	"github.com/credorisk/credo/internal/fault"
	"github.com/credorisk/credo/internal/ledger"
)

// Decisions is the decision log and the reservations.
type Decisions struct{ db *DB }

// NewDecisions returns the decision store.
func NewDecisions(db *DB) *Decisions { return &Decisions{db: db} }

var _ decision.Store = (*Decisions)(nil)

// exposureSQL reads, for clients ($1) as of today ($2): the open receivables (balances at today of
// invoices issued by today and not settled by today), the overdue part (due before today), and
// the active reservations (not released, not expired, not consumed by an invoice of their quote).
var exposureSQL = `
WITH c AS (SELECT DISTINCT unnest($1::text[]) AS client_id),
ar AS (
	SELECT i.client_id, sum(i.amount - coalesce(m.moved, 0)) AS open_ar,
		coalesce(sum(i.amount - coalesce(m.moved, 0)) FILTER (WHERE i.due_date < ` + epoch + ` + $2::int), 0) AS overdue
	FROM invoices i
	LEFT JOIN LATERAL (SELECT sum(a.amount) AS moved FROM allocations a
		WHERE a.invoice_id = i.invoice_id AND a.date <= ` + epoch + ` + $2::int) m ON true
	WHERE i.client_id = ANY($1) AND i.kind = 'invoice' AND i.issue_date <= ` + epoch + ` + $2::int
		AND (i.settled_on IS NULL OR i.settled_on > ` + epoch + ` + $2::int)
	GROUP BY i.client_id
),
res AS (
	SELECT r.client_id, sum(r.amount) AS reserved FROM reservations r
	WHERE r.client_id = ANY($1) AND r.released_at IS NULL AND r.expires_at > now()
		AND NOT EXISTS (SELECT 1 FROM invoices i WHERE i.quote_id = r.quote_id)
	GROUP BY r.client_id
)
SELECT c.client_id, ` + cents("coalesce(ar.open_ar, 0)") + `, ` + cents("coalesce(ar.overdue, 0)") + `, ` + cents("coalesce(res.reserved, 0)") + `
FROM c LEFT JOIN ar USING (client_id) LEFT JOIN res USING (client_id)`

func readExposure(ctx context.Context, q querier, clientIDs []string, today ledger.Date) (map[string]decision.ExposureBase, error) {
	rows, err := q.Query(ctx, exposureSQL, clientIDs, int32(today))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := make(map[string]decision.ExposureBase, len(clientIDs))
	for rows.Next() {
		var id string
		var ar, od, res int64
		if err := rows.Scan(&id, &ar, &od, &res); err != nil {
			return nil, err
		}
		out[id] = decision.ExposureBase{OpenAR: ledger.Money(ar), Overdue: ledger.Money(od), Reserved: ledger.Money(res)}
	}
	return out, rows.Err()
}

// Exposure reads clients' exposure without locking.
func (s *Decisions) Exposure(ctx context.Context, clientIDs []string, today ledger.Date) (map[string]decision.ExposureBase, error) {
	m, err := readExposure(ctx, s.db.Pool, clientIDs, today)
	return m, unavailable(err, "read exposure")
}

// lockKey is the advisory lock of a client's exposure or of a quote id, shared by every replica.
func lockKey(kind, id string) int64 {
	h := fnv.New64a()
	h.Write([]byte("credo:" + kind + ":" + id))
	return int64(h.Sum64())
}

// CommitBatch logs a batch of decisions in one transaction (see decision.Store).
func (s *Decisions) CommitBatch(ctx context.Context, batch []*decision.Pending, decide func(*decision.Pending, decision.ExposureBase) ledger.Money) error {
	// Client order, then arrival order: locks are taken in key order and decisions of one client
	// see each other's reservations in the order they came.
	order := slices.Clone(batch)
	sort.SliceStable(order, func(i, j int) bool { return order[i].Entry.ClientID < order[j].Entry.ClientID })
	var keys []int64
	var clients, quotes []string
	for _, p := range order {
		keys = append(keys, lockKey("exposure", p.Entry.ClientID), lockKey("quote", p.Entry.QuoteID))
		clients = append(clients, p.Entry.ClientID)
		quotes = append(quotes, p.Entry.QuoteID)
	}
	slices.Sort(keys)
	keys = slices.Compact(keys)
	today := order[0].Input.Today
	return s.db.inTx(ctx, "commit decisions", func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(k) FROM (SELECT unnest($1::bigint[]) AS k ORDER BY 1) s`, keys); err != nil {
			return err
		}
		logged, err := entriesWhere(ctx, tx, `d.quote_id = ANY($1)`, quotes)
		if err != nil {
			return err
		}
		byQuote := map[string]*decision.LogEntry{}
		for i := range logged {
			byQuote[logged[i].QuoteID] = &logged[i]
		}
		fresh, err := readExposure(ctx, tx, clients, today)
		if err != nil {
			return err
		}
		first := map[string]*decision.Pending{}
		var write []*decision.Pending
		for _, p := range order {
			if e := byQuote[p.Entry.QuoteID]; e != nil {
				p.Duplicate = e
				continue
			}
			if f := first[p.Entry.QuoteID]; f != nil {
				p.Duplicate = &f.Entry // resolved after the commit, when f is final
				continue
			}
			first[p.Entry.QuoteID] = p
			base := fresh[p.Entry.ClientID]
			reserved := decide(p, base)
			base.Reserved += reserved
			fresh[p.Entry.ClientID] = base
			write = append(write, p)
		}
		if len(write) == 0 {
			return nil
		}
		var drows, rrows [][]any
		for _, p := range write {
			e := &p.Entry
			answer, err := json.Marshal(e.Decision)
			if err != nil {
				return err
			}
			input, err := json.Marshal(p.Input)
			if err != nil {
				return err
			}
			e.Input = input
			drows = append(drows, []any{e.DecisionID, e.QuoteID, e.ClientID, string(e.Outcome), int64(e.Amount), int64(e.CreditLimit),
				e.DecidedAt, e.ExpiresAt, int32(e.PolicyVersion), e.PolicyHash, e.Score.ModelVersion, e.RequestedBy, e.RequestHash,
				e.Latency.EvalMicros, e.Latency.TotalMicros, nullable(e.Failure), answer, input})
			if e.Reservation != nil {
				rrows = append(rrows, []any{e.DecisionID, e.QuoteID, e.ClientID, int64(e.Reservation.Amount), e.Reservation.ExpiresAt})
			}
		}
		if err := copyVia(ctx, tx, "decisions", `decision_id text, quote_id text, client_id text, outcome text, amount bigint, credit_limit bigint,
			decided_at timestamptz, expires_at timestamptz, policy_version int, policy_hash text, model_version text, requested_by text,
			request_hash text, eval_us bigint, total_us bigint, failure text, decision jsonb, input jsonb`,
			`decision_id, quote_id, client_id, outcome, amount::numeric / 100, credit_limit::numeric / 100, decided_at, expires_at,
			policy_version, policy_hash, model_version, requested_by, request_hash, eval_us, total_us, failure, decision, input`, drows); err != nil {
			return err
		}
		if len(rrows) > 0 {
			if err := copyVia(ctx, tx, "reservations", `decision_id text, quote_id text, client_id text, amount bigint, expires_at timestamptz`,
				`decision_id, quote_id, client_id, amount::numeric / 100, expires_at`, rrows); err != nil {
				return err
			}
		}
		return nil
	})
}

// copyVia lands rows in table through a temporary table of the given columns, converting with
// selectList: one COPY and one INSERT whatever the number of rows.
func copyVia(ctx context.Context, tx pgx.Tx, table, columns, selectList string, rows [][]any) error {
	stage := "stage_" + table
	if _, err := tx.Exec(ctx, fmt.Sprintf(`CREATE TEMP TABLE IF NOT EXISTS %s (%s) ON COMMIT DELETE ROWS`, stage, columns)); err != nil {
		return err
	}
	if _, err := tx.CopyFrom(ctx, pgx.Identifier{stage}, splitColumns(columns), pgx.CopyFromRows(rows)); err != nil {
		return err
	}
	_, err := tx.Exec(ctx, fmt.Sprintf(`INSERT INTO %s SELECT %s FROM %s`, table, selectList, stage))
	return err
}

// splitColumns takes the names out of "a text, b bigint".
func splitColumns(defs string) []string {
	var out []string
	for _, d := range strings.Split(defs, ",") {
		out = append(out, strings.Fields(d)[0])
	}
	return out
}

// entryColumns read a logged decision with its reservation's live state.
const entryColumns = `d.decision, d.request_hash, d.input, coalesce(d.failure, ''),
	r.decision_id IS NOT NULL, ` + `coalesce((r.amount * 100)::bigint, 0), r.expires_at, r.released_at, coalesce(r.released_by, ''),
	(SELECT i.invoice_id FROM invoices i WHERE i.quote_id = d.quote_id ORDER BY i.invoice_id LIMIT 1)`

func entriesWhere(ctx context.Context, q querier, where string, args ...any) ([]decision.LogEntry, error) {
	rows, err := q.Query(ctx, `SELECT `+entryColumns+` FROM decisions d LEFT JOIN reservations r USING (decision_id) WHERE `+where, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []decision.LogEntry
	for rows.Next() {
		e, err := scanEntry(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

func scanEntry(row pgx.Row) (decision.LogEntry, error) {
	var e decision.LogEntry
	var answer, input []byte
	var hasRes bool
	var amount int64
	var expires, released *time.Time
	var releasedBy string
	var invoice *string
	if err := row.Scan(&answer, &e.RequestHash, &input, &e.Failure, &hasRes, &amount, &expires, &released, &releasedBy, &invoice); err != nil {
		return e, err
	}
	if err := json.Unmarshal(answer, &e.Decision); err != nil {
		return e, fmt.Errorf("decode logged decision: %w", err)
	}
	e.Input = input
	e.Reservation = nil
	if hasRes {
		r := &decision.Reservation{Amount: ledger.Money(amount), ExpiresAt: *expires, ReleasedAt: released, ReleasedBy: releasedBy, Status: decision.ReservationActive}
		switch {
		case invoice != nil:
			r.Status, r.ConsumedBy = decision.ReservationConsumed, *invoice
		case released != nil:
			r.Status = decision.ReservationReleased
		case !expires.After(time.Now()):
			r.Status = decision.ReservationExpired
		}
		e.Reservation = r
	}
	return e, nil
}

// ByQuote returns the logged decision of a quote, or nil.
func (s *Decisions) ByQuote(ctx context.Context, quoteID string) (*decision.LogEntry, error) {
	list, err := entriesWhere(ctx, s.db.Pool, `d.quote_id = $1`, quoteID)
	if err != nil {
		return nil, unavailable(err, "find decision")
	}
	if len(list) == 0 {
		return nil, nil
	}
	return &list[0], nil
}

// Get reads one logged decision.
func (s *Decisions) Get(ctx context.Context, id string) (decision.LogEntry, error) {
	list, err := entriesWhere(ctx, s.db.Pool, `d.decision_id = $1`, id)
	if err != nil {
		return decision.LogEntry{}, unavailable(err, "get decision")
	}
	if len(list) == 0 {
		return decision.LogEntry{}, notFound("decision", id)
	}
	return list[0], nil
}

// List lists logged decisions, newest first.
func (s *Decisions) List(ctx context.Context, f decision.Filter) ([]decision.LogEntry, string, error) {
	cond := []string{"true"}
	var args []any
	arg := func(v any) string {
		args = append(args, v)
		return fmt.Sprintf("$%d", len(args))
	}
	if f.ClientID != "" {
		cond = append(cond, "d.client_id = "+arg(f.ClientID))
	}
	if f.Outcome != "" {
		cond = append(cond, "d.outcome = "+arg(string(f.Outcome)))
	}
	if f.From != nil {
		cond = append(cond, "d.decided_at >= "+arg(*f.From))
	}
	if f.To != nil {
		cond = append(cond, "d.decided_at < "+arg(*f.To))
	}
	if f.RequestedBy != "" {
		cond = append(cond, "d.requested_by = "+arg(f.RequestedBy))
	}
	if f.After != "" {
		c, err := decodeCursor(f.After)
		if err != nil {
			return nil, "", err
		}
		var at time.Time
		if err := at.UnmarshalText([]byte(c.At)); err != nil {
			return nil, "", fault.Validation("bad cursor", fault.Field("cursor", "is not a cursor this service gave"))
		}
		cond = append(cond, fmt.Sprintf("(d.decided_at, d.decision_id) < (%s, %s)", arg(at), arg(c.ID)))
	}
	where := ""
	for i, c := range cond {
		if i > 0 {
			where += " AND "
		}
		where += c
	}
	list, err := entriesWhere(ctx, s.db.Pool, where+fmt.Sprintf(" ORDER BY d.decided_at DESC, d.decision_id DESC LIMIT %d", f.Limit+1), args...)
	if err != nil {
		return nil, "", unavailable(err, "list decisions")
	}
	next := ""
	if len(list) > f.Limit {
		list = list[:f.Limit]
		last := list[len(list)-1]
		at, _ := last.DecidedAt.MarshalText()
		next = encodeCursor(cursor{ID: last.DecisionID, At: string(at)})
	}
	return list, next, nil
}

// Release frees an approved quote's reservation. Releasing one already released changes nothing.
func (s *Decisions) Release(ctx context.Context, id, actor string) (decision.LogEntry, error) {
	var out decision.LogEntry
	err := s.db.inTx(ctx, "release reservation", func(tx pgx.Tx) error {
		list, err := entriesWhere(ctx, tx, `d.decision_id = $1`, id)
		if err != nil {
			return err
		}
		if len(list) == 0 {
			return notFound("decision", id)
		}
		e := list[0]
		switch {
		case e.Reservation == nil:
			return fault.Errorf(fault.Conflict, "decision %s was %s: it reserved nothing", id, e.Outcome)
		case e.Reservation.Status == decision.ReservationConsumed:
			return fault.Errorf(fault.Conflict, "the quote was invoiced (%s): its reservation is already consumed", e.Reservation.ConsumedBy)
		case e.Reservation.Status == decision.ReservationReleased:
			out = e
			return nil
		}
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, lockKey("exposure", e.ClientID)); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE reservations SET released_at = now(), released_by = $2 WHERE decision_id = $1 AND released_at IS NULL`, id, actor); err != nil {
			return err
		}
		if err := audit(ctx, tx, actor, "decision.release", "decision", id, map[string]any{"quote_id": e.QuoteID, "amount": e.Reservation.Amount}); err != nil {
			return err
		}
		list, err = entriesWhere(ctx, tx, `d.decision_id = $1`, id)
		if err != nil {
			return err
		}
		out = list[0]
		return nil
	})
	return out, err
}
