package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"slices"
	"sort"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

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
// "Not settled by today" is two cases, each on its own index: never settled (invoices_open, by
// client), and settled by a movement dated after today (the finite part of invoices_unsettled
// above today: a handful of rows, whoever the clients).
var exposureSQL = `
WITH c AS (SELECT DISTINCT unnest($1::text[]) AS client_id),
open AS (
	SELECT i.invoice_id, i.client_id, i.amount, i.due_date FROM invoices i
	WHERE i.client_id = ANY($1) AND i.kind = 'invoice' AND i.settled_on IS NULL AND i.issue_date <= ` + epoch + ` + $2::int
	UNION ALL
	SELECT i.invoice_id, i.client_id, i.amount, i.due_date FROM invoices i
	WHERE i.kind = 'invoice' AND coalesce(i.settled_on, 'infinity'::date) > ` + epoch + ` + $2::int
		AND coalesce(i.settled_on, 'infinity'::date) < 'infinity'::date
		AND i.client_id = ANY($1) AND i.issue_date <= ` + epoch + ` + $2::int
),
ar AS (
	SELECT o.client_id, sum(o.amount - coalesce(m.moved, 0)) AS open_ar,
		coalesce(sum(o.amount - coalesce(m.moved, 0)) FILTER (WHERE o.due_date < ` + epoch + ` + $2::int), 0) AS overdue
	FROM open o
	LEFT JOIN LATERAL (SELECT sum(a.amount) AS moved FROM allocations a
		WHERE a.invoice_id = o.invoice_id AND a.date <= ` + epoch + ` + $2::int) m ON true
	GROUP BY o.client_id
),
res AS (
	SELECT r.client_id, sum(r.amount) AS reserved FROM reservations r
	WHERE r.client_id = ANY($1) AND r.released_at IS NULL AND r.expires_at > now()
		AND NOT EXISTS (SELECT 1 FROM invoices i WHERE i.quote_id = r.quote_id)
	GROUP BY r.client_id
)
SELECT c.client_id, ` + cents("coalesce(ar.open_ar, 0)") + `, ` + cents("coalesce(ar.overdue, 0)") + `, ` + cents("coalesce(res.reserved, 0)") + `
FROM c LEFT JOIN ar USING (client_id) LEFT JOIN res USING (client_id)`

// lockKey is the advisory lock of a client's exposure or of a quote id, shared by every replica.
func lockKey(kind, id string) int64 {
	h := fnv.New64a()
	h.Write([]byte("credo:" + kind + ":" + id))
	return int64(h.Sum64())
}

// CommitBatch decides and logs a batch of decisions in one transaction (see decision.Store), in
// three round trips: the locks and the exposure; the decisions and reservations; the commit. A
// quote found already logged (by another replica, or sent twice) rolls the batch back: it is
// retried with that quote answered from the log.
func (s *Decisions) CommitBatch(ctx context.Context, batch []*decision.Pending, decide func(*decision.Pending, decision.ExposureBase) ledger.Money) error {
	// Client order, then arrival order: decisions of one client see each other's reservations in
	// the order they came, and locks are taken in key order (no deadlock between writers).
	all := slices.Clone(batch)
	sort.SliceStable(all, func(i, j int) bool { return all[i].Entry.ClientID < all[j].Entry.ClientID })
	// The same quote twice in one batch: the repeat gets the first one's answer once it is final.
	repeatOf := map[*decision.Pending]*decision.Pending{}
	firstOf := map[string]*decision.Pending{}
	var order []*decision.Pending
	for _, p := range all {
		if f := firstOf[p.Entry.QuoteID]; f != nil {
			repeatOf[p] = f
			continue
		}
		firstOf[p.Entry.QuoteID] = p
		order = append(order, p)
	}
	defer func() {
		for p, f := range repeatOf {
			if f.Duplicate != nil {
				p.Duplicate = f.Duplicate
			} else {
				e := f.Entry
				p.Duplicate = &e
			}
		}
	}()
	for attempt := 0; ; attempt++ {
		dups, err := s.commitOnce(ctx, order, decide)
		if err != nil || len(dups) == 0 {
			return err
		}
		if attempt == 2 {
			return fmt.Errorf("commit decisions: quotes keep appearing in the log during the commit")
		}
		logged, err := entriesWhere(ctx, s.db.Pool, `d.quote_id = ANY($1)`, dups)
		if err != nil {
			return unavailable(err, "read logged decisions")
		}
		for i := range logged {
			if p := firstOf[logged[i].QuoteID]; p != nil {
				e := logged[i]
				p.Duplicate = &e
			}
		}
	}
}

// commitOnce tries the batch once; it returns the quotes it found already logged (and then
// commits nothing). It is two round trips on one connection: BEGIN, the locks and the exposure;
// then the inserts and COMMIT. A quote logged meanwhile fails the insert on its unique quote_id,
// which aborts the transaction (the COMMIT that follows it then rolls back): nothing of the
// batch lands, and the quotes found in the log are returned.
func (s *Decisions) commitOnce(ctx context.Context, order []*decision.Pending, decide func(*decision.Pending, decision.ExposureBase) ledger.Money) ([]string, error) {
	var keys []int64
	var clients, quotes []string
	for _, p := range order {
		if p.Duplicate == nil {
			keys = append(keys, lockKey("exposure", p.Entry.ClientID), lockKey("quote", p.Entry.QuoteID))
			clients = append(clients, p.Entry.ClientID)
			quotes = append(quotes, p.Entry.QuoteID)
		}
	}
	if len(clients) == 0 {
		return nil, nil
	}
	slices.Sort(keys)
	keys = slices.Compact(keys)
	today := order[0].Input.Today
	conn, err := s.db.Pool.Acquire(ctx)
	if err != nil {
		return nil, unavailable(err, "commit decisions")
	}
	// A connection left inside a transaction (an error between BEGIN and COMMIT) is rolled back
	// here; one that cannot be is closed by the pool on release, never reused.
	defer func() {
		if conn.Conn().PgConn().TxStatus() != 'I' {
			_, _ = conn.Exec(context.WithoutCancel(ctx), "ROLLBACK")
		}
		conn.Release()
	}()
	b := &pgx.Batch{}
	b.Queue(`BEGIN`)
	b.Queue(`SELECT count(pg_advisory_xact_lock(k)) FROM (SELECT unnest($1::bigint[]) AS k ORDER BY 1) s`, keys)
	b.Queue(exposureSQL, clients, int32(today))
	fresh, err := func() (map[string]decision.ExposureBase, error) {
		br := conn.SendBatch(ctx, b)
		defer br.Close()
		if _, err := br.Exec(); err != nil {
			return nil, err
		}
		var n int64
		if err := br.QueryRow().Scan(&n); err != nil {
			return nil, err
		}
		rows, err := br.Query()
		if err != nil {
			return nil, err
		}
		fresh, err := scanExposure(rows, len(clients))
		if err != nil {
			return nil, err
		}
		return fresh, br.Close()
	}()
	if err != nil {
		return nil, unavailable(err, "commit decisions: lock and read the exposure")
	}
	// Each client's quotes are decided in arrival order on its running exposure; different
	// clients are independent and are decided (and encoded) in parallel.
	var write []*decision.Pending
	var groups [][]*decision.Pending
	for _, p := range order {
		if p.Duplicate != nil {
			continue
		}
		write = append(write, p)
		if n := len(groups); n > 0 && groups[n-1][0].Entry.ClientID == p.Entry.ClientID {
			groups[n-1] = append(groups[n-1], p)
		} else {
			groups = append(groups, []*decision.Pending{p})
		}
	}
	encoded := make(map[*decision.Pending]decisionRow, len(write))
	var mu sync.Mutex
	var firstErr error
	tasks := make([]func(), len(groups))
	for i, g := range groups {
		tasks[i] = func() {
			base := fresh[g[0].Entry.ClientID]
			for _, p := range g {
				base.Reserved += decide(p, base)
				row, err := encodeDecision(p)
				mu.Lock()
				if err != nil && firstErr == nil {
					firstErr = err
				}
				encoded[p] = row
				mu.Unlock()
			}
		}
	}
	runParallel(tasks)
	if firstErr != nil {
		return nil, firstErr
	}
	cols := newDecisionColumns(len(write))
	var res reservationColumns
	for _, p := range write {
		cols.add(p, encoded[p])
		if r := p.Entry.Reservation; r != nil {
			res.add(p.Entry.DecisionID, p.Entry.QuoteID, p.Entry.ClientID, r.Amount, r.ExpiresAt)
		}
	}
	b = &pgx.Batch{}
	b.Queue(insertDecisionsSQL, cols.args()...)
	if len(res.ids) > 0 {
		b.Queue(insertReservationsSQL, res.ids, res.quotes, res.clients, res.amounts, res.expires)
	}
	b.Queue(`COMMIT`)
	err = conn.SendBatch(ctx, b).Close()
	if pe := (*pgconn.PgError)(nil); errors.As(err, &pe) && pe.Code == pgUniqueViolation && pe.ConstraintName == "decisions_quote_id_key" {
		_, _ = conn.Exec(context.WithoutCancel(ctx), "ROLLBACK")
		var dups []string
		if err := conn.QueryRow(ctx, `SELECT coalesce(array_agg(quote_id), '{}') FROM decisions WHERE quote_id = ANY($1)`, quotes).Scan(&dups); err != nil {
			return nil, unavailable(err, "commit decisions: read the quotes already logged")
		}
		if len(dups) == 0 {
			return nil, fmt.Errorf("commit decisions: %w", err)
		}
		return dups, nil
	}
	if err != nil {
		return nil, unavailable(err, "commit decisions: write the log")
	}
	return nil, nil
}

// missing lists the quotes of write that the insert did not return.
func missing(write []*decision.Pending, written []string) []string {
	got := make(map[string]bool, len(written))
	for _, q := range written {
		got[q] = true
	}
	var out []string
	for _, p := range write {
		if !got[p.Entry.QuoteID] {
			out = append(out, p.Entry.QuoteID)
		}
	}
	return out
}

func scanExposure(rows pgx.Rows, n int) (map[string]decision.ExposureBase, error) {
	defer rows.Close()
	out := make(map[string]decision.ExposureBase, n)
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

// The log is written from arrays in one statement each: no temporary tables, one round trip.
const insertDecisionsSQL = `
INSERT INTO decisions (decision_id, quote_id, client_id, outcome, amount, credit_limit, decided_at, expires_at,
	policy_version, policy_hash, model_version, requested_by, request_hash, eval_us, total_us, failure, decision, input)
SELECT d.decision_id, d.quote_id, d.client_id, d.outcome, a.amount::numeric / 100, a.credit_limit::numeric / 100, a.decided_at, a.expires_at, a.policy_version, a.policy_hash,
	a.model_version, a.requested_by, a.request_hash, a.eval_us, a.total_us, a.failure, a.decision::jsonb, a.input::jsonb
FROM unnest($1::text[], $2::text[], $3::text[], $4::text[]) WITH ORDINALITY AS d(decision_id, quote_id, client_id, outcome, i)
JOIN unnest($5::bigint[], $6::bigint[], $7::timestamptz[], $8::timestamptz[], $9::int[], $10::text[], $11::text[], $12::text[],
	$13::text[], $14::bigint[], $15::bigint[], $16::text[], $17::text[], $18::text[]) WITH ORDINALITY
	AS a(amount, credit_limit, decided_at, expires_at, policy_version, policy_hash, model_version, requested_by, request_hash,
		eval_us, total_us, failure, decision, input, i) USING (i)
`

const insertReservationsSQL = `
INSERT INTO reservations (decision_id, quote_id, client_id, amount, expires_at)
SELECT decision_id, quote_id, client_id, amount::numeric / 100, expires_at
FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[], $5::timestamptz[]) AS r(decision_id, quote_id, client_id, amount, expires_at)`

type decisionColumns struct {
	ids, quotes, clients, outcomes                       []string
	amounts, limits                                      []int64
	decided, expires                                     []time.Time
	versions                                             []int32
	hashes, models, requestedBy, requestHashes, failures []string
	evalUS, totalUS                                      []int64
	answers, inputs                                      []string
}

func newDecisionColumns(n int) *decisionColumns { return &decisionColumns{ids: make([]string, 0, n)} }

// decisionRow is a decision's logged documents, encoded.
type decisionRow struct{ answer, input []byte }

func encodeDecision(p *decision.Pending) (decisionRow, error) {
	answer, err := json.Marshal(p.Entry.Decision)
	if err != nil {
		return decisionRow{}, err
	}
	input, err := json.Marshal(p.Input)
	if err != nil {
		return decisionRow{}, err
	}
	p.Entry.Input = input
	return decisionRow{answer: answer, input: input}, nil
}

func (c *decisionColumns) add(p *decision.Pending, row decisionRow) {
	e := &p.Entry
	answer, input := row.answer, row.input
	c.ids = append(c.ids, e.DecisionID)
	c.quotes = append(c.quotes, e.QuoteID)
	c.clients = append(c.clients, e.ClientID)
	c.outcomes = append(c.outcomes, string(e.Outcome))
	c.amounts = append(c.amounts, int64(e.Amount))
	c.limits = append(c.limits, int64(e.CreditLimit))
	c.decided = append(c.decided, e.DecidedAt)
	c.expires = append(c.expires, e.ExpiresAt)
	c.versions = append(c.versions, int32(e.PolicyVersion))
	c.hashes = append(c.hashes, e.PolicyHash)
	c.models = append(c.models, e.Score.ModelVersion)
	c.requestedBy = append(c.requestedBy, e.RequestedBy)
	c.requestHashes = append(c.requestHashes, e.RequestHash)
	c.evalUS = append(c.evalUS, e.Latency.EvalMicros)
	c.totalUS = append(c.totalUS, e.Latency.TotalMicros)
	c.failures = append(c.failures, e.Failure)
	c.answers = append(c.answers, string(answer))
	c.inputs = append(c.inputs, string(input))
}

func (c *decisionColumns) args() []any {
	failures := make([]*string, len(c.failures))
	for i, f := range c.failures {
		if f != "" {
			failures[i] = &c.failures[i]
		}
	}
	return []any{c.ids, c.quotes, c.clients, c.outcomes, c.amounts, c.limits, c.decided, c.expires, c.versions, c.hashes, c.models,
		c.requestedBy, c.requestHashes, c.evalUS, c.totalUS, failures, c.answers, c.inputs}
}

type reservationColumns struct {
	ids, quotes, clients []string
	amounts              []int64
	expires              []time.Time
}

func (r *reservationColumns) add(id, quote, client string, amount ledger.Money, expires time.Time) {
	r.ids = append(r.ids, id)
	r.quotes = append(r.quotes, quote)
	r.clients = append(r.clients, client)
	r.amounts = append(r.amounts, int64(amount))
	r.expires = append(r.expires, expires)
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
