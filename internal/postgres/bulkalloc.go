package postgres

import (
	"context"
	"fmt"
	"sort"

	"github.com/jackc/pgx/v5"

	"github.com/credorisk/credo/internal/ledger"
)

// allocator applies the payments and credit notes of an import in file order, with the open
// balances of the clients concerned held in memory, and writes all allocations at once. It gives
// the same allocations as applying each one in its own transaction (the FIFO rule of
// ledger.AllocateFIFO, an explicit allocation capped at the balance).
type allocator struct {
	fifo    map[string][]*openInvoice // client -> its open invoices, oldest due first
	byID    map[string]*openInvoice
	out     [][]any
	touched map[string]bool
}

type openInvoice struct {
	id      string
	issue   ledger.Date
	balance ledger.Money
}

// loadAllocator reads the open invoices of clients, after the caller has released the
// allocations it is about to redo (and recomputed those invoices' settlement).
func loadAllocator(ctx context.Context, tx pgx.Tx, clients []string) (*allocator, error) {
	a := &allocator{fifo: map[string][]*openInvoice{}, byID: map[string]*openInvoice{}, touched: map[string]bool{}}
	if len(clients) == 0 {
		return a, nil
	}
	rows, err := tx.Query(ctx, `
		WITH open AS (
			SELECT invoice_id, client_id, issue_date, due_date, amount FROM invoices
			WHERE client_id = ANY($1) AND kind = 'invoice' AND settled_on IS NULL
		), moved AS (
			SELECT a.invoice_id, sum(a.amount) AS s FROM allocations a JOIN open o USING (invoice_id) GROUP BY a.invoice_id
		)
		SELECT o.invoice_id, o.client_id, `+days("o.issue_date")+`, `+cents("o.amount - coalesce(m.s, 0)")+`
		FROM open o LEFT JOIN moved m USING (invoice_id)
		ORDER BY o.client_id, o.due_date, o.issue_date, o.invoice_id`, clients)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var o openInvoice
		var client string
		var issue int32
		var bal int64
		if err := rows.Scan(&o.id, &client, &issue, &bal); err != nil {
			return nil, err
		}
		o.issue, o.balance = ledger.Date(issue), ledger.Money(bal)
		if o.balance <= 0 {
			continue
		}
		p := &o
		a.fifo[client] = append(a.fifo[client], p)
		a.byID[o.id] = p
	}
	return a, rows.Err()
}

func (a *allocator) add(o *openInvoice, kind, source string, date ledger.Date, amount ledger.Money) {
	o.balance -= amount
	a.out = append(a.out, []any{o.id, kind, source, int32(date), int64(amount)})
	a.touched[o.id] = true
}

// explicit allocates up to amount to one invoice, capped at its balance; it returns what it took.
func (a *allocator) explicit(kind, source string, date ledger.Date, invoiceID string, amount ledger.Money) ledger.Money {
	o, ok := a.byID[invoiceID]
	if !ok || o.balance <= 0 || amount <= 0 {
		return 0
	}
	x := min(amount, o.balance)
	a.add(o, kind, source, date, x)
	return x
}

// oldestFirst allocates amount to the client's open invoices issued on or before date, oldest due
// first; it returns what it took.
func (a *allocator) oldestFirst(kind, source, client string, date ledger.Date, amount ledger.Money) ledger.Money {
	var took ledger.Money
	for _, o := range a.fifo[client] {
		if amount <= 0 {
			break
		}
		if o.balance <= 0 || o.issue > date {
			continue
		}
		x := min(amount, o.balance)
		a.add(o, kind, source, date, x)
		amount -= x
		took += x
	}
	return took
}

// flush writes the allocations and recomputes the settlement of every invoice they touched.
func (a *allocator) flush(ctx context.Context, tx pgx.Tx) error {
	if len(a.out) == 0 {
		return nil
	}
	if _, err := tx.Exec(ctx, `CREATE TEMP TABLE IF NOT EXISTS stage_allocations (invoice_id text, kind text, source_id text, date int, amount bigint) ON COMMIT DROP`); err != nil {
		return err
	}
	if _, err := tx.Exec(ctx, `TRUNCATE stage_allocations`); err != nil {
		return err
	}
	if _, err := tx.CopyFrom(ctx, pgx.Identifier{"stage_allocations"}, []string{"invoice_id", "kind", "source_id", "date", "amount"}, pgx.CopyFromRows(a.out)); err != nil {
		return err
	}
	if _, err := tx.Exec(ctx, `INSERT INTO allocations (invoice_id, kind, source_id, date, amount)
		SELECT invoice_id, kind, source_id, `+epoch+` + date, sum(amount)::numeric / 100 FROM stage_allocations
		GROUP BY invoice_id, kind, source_id, date`); err != nil {
		return err
	}
	ids := make([]string, 0, len(a.touched))
	for id := range a.touched {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	return recomputeSettlementMany(ctx, tx, ids)
}

// recomputeSettlementMany is recomputeSettlement for any number of invoices.
func recomputeSettlementMany(ctx context.Context, tx pgx.Tx, ids []string) error {
	if len(ids) <= 1000 {
		return recomputeSettlement(ctx, tx, ids)
	}
	if _, err := tx.Exec(ctx, `CREATE TEMP TABLE IF NOT EXISTS touched_ids (id text PRIMARY KEY) ON COMMIT DROP`); err != nil {
		return err
	}
	if _, err := tx.Exec(ctx, `TRUNCATE touched_ids`); err != nil {
		return err
	}
	rows := make([][]any, len(ids))
	for i, id := range ids {
		rows[i] = []any{id}
	}
	if _, err := tx.CopyFrom(ctx, pgx.Identifier{"touched_ids"}, []string{"id"}, pgx.CopyFromRows(rows)); err != nil {
		return err
	}
	_, err := tx.Exec(ctx, fmt.Sprintf(settlementSQL, `SELECT id FROM touched_ids`))
	return err
}

// releaseAllocations deletes the allocations of the given sources of one kind and recomputes the
// settlement of the invoices they had reduced.
func releaseAllocations(ctx context.Context, tx pgx.Tx, kind string, sources []string) error {
	if len(sources) == 0 {
		return nil
	}
	rows, err := tx.Query(ctx, `DELETE FROM allocations WHERE kind = $1 AND source_id = ANY($2) AND source_id NOT LIKE 'settle:%' RETURNING invoice_id`, kind, sources)
	if err != nil {
		return err
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return err
	}
	return recomputeSettlementMany(ctx, tx, dedupe(ids))
}

func dedupe(ids []string) []string {
	seen := make(map[string]bool, len(ids))
	out := ids[:0]
	for _, id := range ids {
		if !seen[id] {
			seen[id] = true
			out = append(out, id)
		}
	}
	return out
}
