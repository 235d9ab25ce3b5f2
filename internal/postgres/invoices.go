package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/credorisk/credo/internal/fault"
	"github.com/credorisk/credo/internal/ledger"
)

var invoiceColumns = `invoice_id, client_id, coalesce(number, ''), kind, ` + days("issue_date") + `, ` + days("due_date") + `, ` +
	cents("amount") + `, currency, disputed, coalesce(quote_id, ''), coalesce(applies_to, ''), ` +
	days("settled_on") + `, ` + days("paid_date") + `, created_at, updated_at`

type invoiceRow struct {
	ledger.InvoiceView
	settledOn, paidDate *int32
}

func scanInvoice(row pgx.Row) (invoiceRow, error) {
	var r invoiceRow
	var issue, due int32
	var amount int64
	err := row.Scan(&r.InvoiceID, &r.ClientID, &r.Number, &r.Kind, &issue, &due, &amount, &r.Currency, &r.Disputed,
		&r.QuoteID, &r.AppliesTo, &r.settledOn, &r.paidDate, &r.CreatedAt, &r.UpdatedAt)
	r.IssueDate, r.DueDate, r.Amount = ledger.Date(issue), ledger.Date(due), ledger.Money(amount)
	r.SettledOn, r.PaidDate = optDate(r.settledOn), optDate(r.paidDate)
	return r, err
}

func sameInvoice(a *ledger.Invoice, b *ledger.Invoice) bool {
	return a.ClientID == b.ClientID && a.Number == b.Number && a.Kind == b.Kind && a.IssueDate == b.IssueDate &&
		a.DueDate == b.DueDate && a.Amount == b.Amount && a.Currency == b.Currency && a.Disputed == b.Disputed &&
		a.QuoteID == b.QuoteID && a.AppliesTo == b.AppliesTo
}

// PutInvoice creates or replaces an invoice or credit note. Its client may not change once set,
// and its amount may not fall below what is already allocated to it (409).
func (l *Ledger) PutInvoice(ctx context.Context, inv ledger.Invoice, actor string) (ledger.WriteResult, ledger.InvoiceView, error) {
	var res ledger.WriteResult
	err := l.db.inTx(ctx, "put invoice", func(tx pgx.Tx) error {
		if err := lockClient(ctx, tx, inv.ClientID, "client_id"); err != nil {
			return err
		}
		old, err := scanInvoice(tx.QueryRow(ctx, `SELECT `+invoiceColumns+` FROM invoices WHERE invoice_id = $1 FOR UPDATE`, inv.InvoiceID))
		switch {
		case isNoRows(err):
			res = ledger.Created
		case err != nil:
			return err
		case sameInvoice(&old.Invoice, &inv):
			res = ledger.Unchanged
			return nil
		case old.ClientID != inv.ClientID:
			return fault.Errorf(fault.Conflict, "invoice %q belongs to client %q; an invoice cannot move to another client", inv.InvoiceID, old.ClientID)
		case old.Kind != inv.Kind:
			return fault.Errorf(fault.Conflict, "invoice %q is a %s; its kind cannot change", inv.InvoiceID, old.Kind)
		default:
			res = ledger.Updated
			var allocated int64
			if err := tx.QueryRow(ctx, `SELECT coalesce(`+cents("sum(amount)")+`, 0) FROM allocations WHERE invoice_id = $1`, inv.InvoiceID).Scan(&allocated); err != nil {
				return err
			}
			if inv.Kind == ledger.KindInvoice && ledger.Money(allocated) > inv.Amount {
				return fault.Errorf(fault.Conflict, "invoice %q already has %s paid, credited or written off; its amount cannot go below that", inv.InvoiceID, ledger.Money(allocated))
			}
		}
		if inv.AppliesTo != "" {
			var client, kind string
			err := tx.QueryRow(ctx, `SELECT client_id, kind FROM invoices WHERE invoice_id = $1`, inv.AppliesTo).Scan(&client, &kind)
			switch {
			case isNoRows(err):
				return fault.Validation("unknown invoice", fault.Field("applies_to", "no invoice %q", inv.AppliesTo))
			case err != nil:
				return err
			case client != inv.ClientID || kind != ledger.KindInvoice:
				return fault.Validation("the credit note cannot apply there", fault.Field("applies_to", "must name an invoice of client %q", inv.ClientID))
			}
		}
		_, err = tx.Exec(ctx, `
			INSERT INTO invoices (invoice_id, client_id, number, kind, issue_date, due_date, amount, currency, disputed, quote_id, applies_to)
			VALUES ($1, $2, nullif($3, ''), $4, `+epoch+` + $5::int, `+epoch+` + $6::int, $7::bigint::numeric / 100, $8, $9, nullif($10, ''), nullif($11, ''))
			ON CONFLICT (invoice_id) DO UPDATE SET number = EXCLUDED.number, issue_date = EXCLUDED.issue_date,
				due_date = EXCLUDED.due_date, amount = EXCLUDED.amount, currency = EXCLUDED.currency, disputed = EXCLUDED.disputed,
				quote_id = EXCLUDED.quote_id, applies_to = EXCLUDED.applies_to, updated_at = now()`,
			inv.InvoiceID, inv.ClientID, inv.Number, inv.Kind, dateArg(inv.IssueDate), dateArg(inv.DueDate), int64(inv.Amount),
			inv.Currency, inv.Disputed, inv.QuoteID, inv.AppliesTo)
		if err != nil {
			return err
		}
		touched := []string{inv.InvoiceID}
		if inv.Kind == ledger.KindCreditNote {
			t, err := applyCreditNote(ctx, tx, inv)
			if err != nil {
				return err
			}
			touched = append(touched, t...)
		}
		if err := recomputeSettlement(ctx, tx, touched); err != nil {
			return err
		}
		return audit(ctx, tx, actor, "invoice."+string(res), "invoice", inv.InvoiceID, inv)
	})
	if err != nil {
		return res, ledger.InvoiceView{}, err
	}
	view, err := l.GetInvoice(ctx, inv.InvoiceID, ledger.Today())
	return res, view, err
}

// applyCreditNote (re)allocates a credit note: to the invoice it names, or to the client's oldest
// open invoices issued on or before it. It returns the invoices whose balance changed.
func applyCreditNote(ctx context.Context, tx pgx.Tx, cn ledger.Invoice) ([]string, error) {
	rows, err := tx.Query(ctx, `DELETE FROM allocations WHERE kind = 'credit_note' AND source_id = $1 AND source_id NOT LIKE 'settle:%' RETURNING invoice_id`, cn.InvoiceID)
	if err != nil {
		return nil, err
	}
	touched, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, err
	}
	if err := recomputeSettlement(ctx, tx, touched); err != nil {
		return nil, err
	}
	var open []ledger.OpenBalance
	if cn.AppliesTo != "" {
		open, err = openBalances(ctx, tx, `i.invoice_id = $1`, cn.AppliesTo)
	} else {
		open, err = openBalances(ctx, tx, `i.client_id = $1 AND i.issue_date <= `+epoch+` + $2::int`, cn.ClientID, dateArg(cn.IssueDate))
	}
	if err != nil {
		return nil, err
	}
	allocs, _ := ledger.AllocateFIFO(cn.Amount, open)
	for _, a := range allocs {
		if err := insertAllocation(ctx, tx, a.InvoiceID, ledger.MoveCreditNote, cn.InvoiceID, cn.IssueDate, a.Amount); err != nil {
			return nil, err
		}
		touched = append(touched, a.InvoiceID)
	}
	return touched, nil
}

// openBalances lists invoices (kind invoice) matching where with a current balance above zero,
// oldest due first: the order the allocation rule applies money in.
func openBalances(ctx context.Context, tx pgx.Tx, where string, args ...any) ([]ledger.OpenBalance, error) {
	rows, err := tx.Query(ctx, `
		SELECT i.invoice_id, `+cents("i.amount - coalesce(a.s, 0)")+`
		FROM invoices i
		LEFT JOIN LATERAL (SELECT sum(amount) AS s FROM allocations WHERE invoice_id = i.invoice_id) a ON true
		WHERE i.kind = 'invoice' AND i.settled_on IS NULL AND `+where+`
		ORDER BY i.due_date, i.issue_date, i.invoice_id`, args...)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (ledger.OpenBalance, error) {
		var o ledger.OpenBalance
		var b int64
		err := r.Scan(&o.InvoiceID, &b)
		o.Balance = ledger.Money(b)
		return o, err
	})
}

func insertAllocation(ctx context.Context, tx pgx.Tx, invoiceID, kind, sourceID string, date ledger.Date, amount ledger.Money) error {
	_, err := tx.Exec(ctx, `INSERT INTO allocations (invoice_id, kind, source_id, date, amount)
		VALUES ($1, $2, $3, `+epoch+` + $4::int, $5::bigint::numeric / 100)`, invoiceID, kind, sourceID, dateArg(date), int64(amount))
	return err
}

// settlementSQL recomputes settled_on and paid_date from the allocations of the invoices listed
// by the ids query (which yields one column, id): the date the balance reached zero, and the same
// date when a payment dated that day is among the movements that brought it there and no
// write-off is (the rule of receivables.PaidDate).
const settlementSQL = `
WITH ids AS (%s),
a AS (
	SELECT al.invoice_id, sum(al.amount) AS total, max(al.date) AS last
	FROM allocations al JOIN ids ON ids.id = al.invoice_id GROUP BY al.invoice_id
),
p AS (
	SELECT al.invoice_id, bool_or(al.kind = 'payment') AND NOT bool_or(al.kind = 'write_off') AS paid
	FROM allocations al JOIN a ON a.invoice_id = al.invoice_id AND al.date = a.last GROUP BY al.invoice_id
),
s AS (
	SELECT i.invoice_id,
		CASE WHEN a.total >= i.amount THEN a.last END AS settled_on,
		CASE WHEN a.total >= i.amount AND p.paid THEN a.last END AS paid_date
	FROM invoices i JOIN ids ON ids.id = i.invoice_id
	LEFT JOIN a ON a.invoice_id = i.invoice_id LEFT JOIN p ON p.invoice_id = i.invoice_id
	WHERE i.kind = 'invoice'
)
UPDATE invoices i SET settled_on = s.settled_on, paid_date = s.paid_date
FROM s WHERE i.invoice_id = s.invoice_id
	AND (i.settled_on IS DISTINCT FROM s.settled_on OR i.paid_date IS DISTINCT FROM s.paid_date)`

func recomputeSettlement(ctx context.Context, tx pgx.Tx, invoiceIDs []string) error {
	_, err := tx.Exec(ctx, fmt.Sprintf(settlementSQL, `SELECT DISTINCT unnest($1::text[]) AS id`), invoiceIDs)
	return err
}

// GetInvoice reads an invoice with its movements and its balance as of asOf.
func (l *Ledger) GetInvoice(ctx context.Context, id string, asOf ledger.Date) (ledger.InvoiceView, error) {
	r, err := scanInvoice(l.db.Pool.QueryRow(ctx, `SELECT `+invoiceColumns+` FROM invoices WHERE invoice_id = $1`, id))
	if isNoRows(err) {
		return ledger.InvoiceView{}, notFound("invoice", id)
	}
	if err != nil {
		return ledger.InvoiceView{}, unavailable(err, "get invoice")
	}
	views := []ledger.InvoiceView{r.InvoiceView}
	if err := l.attachMovements(ctx, views, asOf); err != nil {
		return ledger.InvoiceView{}, err
	}
	return views[0], nil
}

// attachMovements loads the movements of the listed invoices and derives balance and status as of asOf.
func (l *Ledger) attachMovements(ctx context.Context, views []ledger.InvoiceView, asOf ledger.Date) error {
	ids := make([]string, len(views))
	byID := make(map[string]int, len(views))
	for i := range views {
		ids[i] = views[i].InvoiceID
		byID[views[i].InvoiceID] = i
		views[i].Movements = []ledger.Movement{}
	}
	rows, err := l.db.Pool.Query(ctx, `SELECT invoice_id, kind, source_id, `+days("date")+`, `+cents("amount")+`
		FROM allocations WHERE invoice_id = ANY($1) ORDER BY date, kind, source_id`, ids)
	if err != nil {
		return unavailable(err, "load movements")
	}
	defer rows.Close()
	for rows.Next() {
		var id string
		var m ledger.Movement
		var d int32
		var a int64
		if err := rows.Scan(&id, &m.Kind, &m.SourceID, &d, &a); err != nil {
			return err
		}
		m.Date, m.Amount = ledger.Date(d), ledger.Money(a)
		v := &views[byID[id]]
		v.Movements = append(v.Movements, m)
	}
	if err := rows.Err(); err != nil {
		return unavailable(err, "load movements")
	}
	for i := range views {
		v := &views[i]
		v.AsOf = asOf
		v.Status = ledger.StatusAt(&v.Invoice, v.Movements, asOf)
		if v.Kind == ledger.KindInvoice && v.IssueDate <= asOf {
			v.Balance = ledger.BalanceAt(v.Amount, v.Movements, asOf)
		}
		if v.PaidDate != nil && *v.PaidDate > asOf {
			v.PaidDate = nil
		}
		if v.SettledOn != nil && *v.SettledOn > asOf {
			v.SettledOn = nil
		}
	}
	return nil
}

// ListClientInvoices lists a client's invoices as of a date, in issue date order: open ones
// (balance above zero at that date), paid ones (settled by payment on or before it), or all.
func (l *Ledger) ListClientInvoices(ctx context.Context, f ledger.InvoiceFilter) ([]ledger.InvoiceView, string, error) {
	if _, err := l.GetClient(ctx, f.ClientID); err != nil {
		return nil, "", err
	}
	cur, err := decodeCursor(f.After)
	if err != nil {
		return nil, "", err
	}
	var cond string
	switch f.Status {
	case "open":
		cond = `AND i.kind = 'invoice' AND i.issue_date <= ` + epoch + ` + $2::int AND (i.settled_on IS NULL OR i.settled_on > ` + epoch + ` + $2::int)`
	case "paid":
		cond = `AND i.paid_date <= ` + epoch + ` + $2::int`
	default:
		cond = `AND $2::int IS NOT NULL`
	}
	after := `AND (i.issue_date, i.invoice_id) > (` + epoch + ` + $3::int, $4)`
	if f.After == "" {
		after = `AND $3::int IS NOT NULL AND $4::text IS NOT NULL`
	}
	rows, err := l.db.Pool.Query(ctx, `SELECT `+invoiceColumns+` FROM invoices i WHERE client_id = $1 `+cond+` `+after+`
		ORDER BY i.issue_date, i.invoice_id LIMIT $5`, f.ClientID, dateArg(f.AsOf), cur.Date, cur.ID, f.Limit+1)
	if err != nil {
		return nil, "", unavailable(err, "list invoices")
	}
	list, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (ledger.InvoiceView, error) {
		ir, err := scanInvoice(r)
		return ir.InvoiceView, err
	})
	if err != nil {
		return nil, "", unavailable(err, "list invoices")
	}
	next := ""
	if len(list) > f.Limit {
		list = list[:f.Limit]
		last := list[len(list)-1]
		next = encodeCursor(cursor{ID: last.InvoiceID, Date: int32(last.IssueDate)})
	}
	if len(list) > 0 {
		if err := l.attachMovements(ctx, list, f.AsOf); err != nil {
			return nil, "", err
		}
	}
	return list, next, nil
}

// WriteOff writes off an open invoice's whole remaining balance on a date, as bad debt.
func (l *Ledger) WriteOff(ctx context.Context, invoiceID string, w ledger.WriteOff, actor string) (ledger.InvoiceView, error) {
	err := l.db.inTx(ctx, "write off", func(tx pgx.Tx) error {
		var clientID string
		err := tx.QueryRow(ctx, `SELECT client_id FROM invoices WHERE invoice_id = $1`, invoiceID).Scan(&clientID)
		if isNoRows(err) {
			return notFound("invoice", invoiceID)
		}
		if err != nil {
			return err
		}
		if err := lockClient(ctx, tx, clientID, "client_id"); err != nil {
			return err
		}
		inv, err := scanInvoice(tx.QueryRow(ctx, `SELECT `+invoiceColumns+` FROM invoices WHERE invoice_id = $1`, invoiceID))
		if err != nil {
			return err
		}
		if inv.Kind != ledger.KindInvoice {
			return fault.Errorf(fault.Conflict, "%q is a credit note; only invoices can be written off", invoiceID)
		}
		if w.Date < inv.IssueDate {
			return fault.Validation("the write-off is not valid", fault.Field("date", "must be on or after the invoice's issue date %s", inv.IssueDate))
		}
		open, err := openBalances(ctx, tx, `i.invoice_id = $1`, invoiceID)
		if err != nil {
			return err
		}
		if len(open) == 0 || open[0].Balance <= 0 {
			return fault.Errorf(fault.Conflict, "invoice %q has no balance left to write off", invoiceID)
		}
		amount := open[0].Balance
		if _, err := tx.Exec(ctx, `INSERT INTO write_offs (invoice_id, date, amount, reason, created_by) VALUES ($1, `+epoch+` + $2::int, $3::bigint::numeric / 100, $4, $5)`,
			invoiceID, dateArg(w.Date), int64(amount), w.Reason, actor); err != nil {
			if pgCode(err) == pgUniqueViolation {
				return fault.Errorf(fault.Conflict, "invoice %q was already written off", invoiceID)
			}
			return err
		}
		if err := insertAllocation(ctx, tx, invoiceID, ledger.MoveWriteOff, invoiceID, w.Date, amount); err != nil {
			return err
		}
		if err := recomputeSettlement(ctx, tx, []string{invoiceID}); err != nil {
			return err
		}
		return audit(ctx, tx, actor, "invoice.write_off", "invoice", invoiceID, map[string]any{"date": w.Date, "amount": amount, "reason": w.Reason})
	})
	if err != nil {
		return ledger.InvoiceView{}, err
	}
	return l.GetInvoice(ctx, invoiceID, max(w.Date, ledger.Today()))
}
