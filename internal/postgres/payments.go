package postgres

import (
	"context"
	"slices"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/credorisk/credo/internal/fault"
	"github.com/credorisk/credo/internal/ledger"
)

// PutPayment creates or replaces a payment and (re)applies it: to the allocations it names, or
// else to the client's oldest open invoices issued on or before its date. Sending the same payment
// again changes nothing.
func (l *Ledger) PutPayment(ctx context.Context, p ledger.Payment, actor string) (ledger.WriteResult, ledger.PaymentView, error) {
	var res ledger.WriteResult
	err := l.db.inTx(ctx, "put payment", func(tx pgx.Tx) error {
		if err := lockClient(ctx, tx, p.ClientID, "client_id"); err != nil {
			return err
		}
		var err error
		res, err = putPayment(ctx, tx, p, false)
		if err != nil || res == ledger.Unchanged {
			return err
		}
		return audit(ctx, tx, actor, "payment."+string(res), "payment", p.PaymentID, p)
	})
	if err != nil {
		return res, ledger.PaymentView{}, err
	}
	v, err := l.GetPayment(ctx, p.PaymentID)
	return res, v, err
}

// putPayment writes a payment inside a transaction that holds the client's lock. With capped, an
// allocation larger than the invoice's balance is reduced to it (imports); otherwise it is a 409.
func putPayment(ctx context.Context, tx pgx.Tx, p ledger.Payment, capped bool) (ledger.WriteResult, error) {
	old, err := scanPayment(tx.QueryRow(ctx, `SELECT `+paymentColumns+` FROM payments WHERE payment_id = $1 FOR UPDATE`, p.PaymentID))
	res := ledger.Updated
	switch {
	case isNoRows(err):
		res = ledger.Created
	case err != nil:
		return "", err
	case old.ClientID != p.ClientID:
		return "", fault.Errorf(fault.Conflict, "payment %q belongs to client %q; a payment cannot move to another client", p.PaymentID, old.ClientID)
	}
	if res == ledger.Updated {
		oldAllocs, err := paymentAllocations(ctx, tx, p.PaymentID)
		if err != nil {
			return "", err
		}
		if old.Date == p.Date && old.Amount == p.Amount && old.Reference == p.Reference && old.Currency == p.Currency &&
			(p.Allocations == nil || sameAllocations(oldAllocs, p.Allocations)) {
			return ledger.Unchanged, nil
		}
	}
	// The old allocations are released first: the new ones are checked against balances without them.
	rows, err := tx.Query(ctx, `DELETE FROM allocations WHERE kind = 'payment' AND source_id = $1 AND source_id NOT LIKE 'settle:%' RETURNING invoice_id`, p.PaymentID)
	if err != nil {
		return "", err
	}
	touched, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return "", err
	}
	// Invoices the old allocations had closed are open again before the new ones are decided.
	if err := recomputeSettlement(ctx, tx, touched); err != nil {
		return "", err
	}
	if _, err := tx.Exec(ctx, `
		INSERT INTO payments (payment_id, client_id, date, amount, currency, reference)
		VALUES ($1, $2, `+epoch+` + $3::int, $4::bigint::numeric / 100, $5, nullif($6, ''))
		ON CONFLICT (payment_id) DO UPDATE SET date = EXCLUDED.date, amount = EXCLUDED.amount, currency = EXCLUDED.currency,
			reference = EXCLUDED.reference, updated_at = now()`,
		p.PaymentID, p.ClientID, dateArg(p.Date), int64(p.Amount), p.Currency, p.Reference); err != nil {
		return "", err
	}
	var allocs []ledger.Allocation
	if len(p.Allocations) > 0 {
		ids := make([]string, len(p.Allocations))
		for i, a := range p.Allocations {
			ids[i] = a.InvoiceID
		}
		open, err := openBalances(ctx, tx, `i.invoice_id = ANY($1)`, ids)
		if err != nil {
			return "", err
		}
		balance := map[string]ledger.Money{}
		for _, o := range open {
			balance[o.InvoiceID] = o.Balance
		}
		kinds, err := invoiceOwners(ctx, tx, ids)
		if err != nil {
			return "", err
		}
		for i, a := range p.Allocations {
			field := "allocations[" + strconv.Itoa(i) + "].invoice_id"
			owner, ok := kinds[a.InvoiceID]
			switch {
			case !ok:
				return "", fault.Validation("unknown invoice", fault.Field(field, "no invoice %q", a.InvoiceID))
			case owner.client != p.ClientID:
				return "", fault.Validation("the allocation is not valid", fault.Field(field, "invoice %q belongs to another client", a.InvoiceID))
			case owner.kind != ledger.KindInvoice:
				return "", fault.Validation("the allocation is not valid", fault.Field(field, "%q is a credit note", a.InvoiceID))
			}
			b := balance[a.InvoiceID]
			if a.Amount > b {
				if !capped {
					return "", fault.Errorf(fault.Conflict, "invoice %q has %s left to pay; an allocation of %s would take its balance below zero", a.InvoiceID, b, a.Amount)
				}
				a.Amount = b
			}
			if a.Amount > 0 {
				allocs = append(allocs, a)
			}
		}
	} else {
		open, err := openBalances(ctx, tx, `i.client_id = $1 AND i.issue_date <= `+epoch+` + $2::int`, p.ClientID, dateArg(p.Date))
		if err != nil {
			return "", err
		}
		allocs, _ = ledger.AllocateFIFO(p.Amount, open)
	}
	for _, a := range allocs {
		if err := insertAllocation(ctx, tx, a.InvoiceID, ledger.MovePayment, p.PaymentID, p.Date, a.Amount); err != nil {
			return "", err
		}
		touched = append(touched, a.InvoiceID)
	}
	return res, recomputeSettlement(ctx, tx, touched)
}

type owner struct{ client, kind string }

func invoiceOwners(ctx context.Context, tx pgx.Tx, ids []string) (map[string]owner, error) {
	rows, err := tx.Query(ctx, `SELECT invoice_id, client_id, kind FROM invoices WHERE invoice_id = ANY($1)`, ids)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]owner{}
	for rows.Next() {
		var id string
		var o owner
		if err := rows.Scan(&id, &o.client, &o.kind); err != nil {
			return nil, err
		}
		out[id] = o
	}
	return out, rows.Err()
}

func sameAllocations(a, b []ledger.Allocation) bool {
	key := func(x ledger.Allocation, y ledger.Allocation) int {
		if x.InvoiceID < y.InvoiceID {
			return -1
		}
		if x.InvoiceID > y.InvoiceID {
			return 1
		}
		return 0
	}
	a, b = slices.Clone(a), slices.Clone(b)
	slices.SortFunc(a, key)
	slices.SortFunc(b, key)
	return slices.Equal(a, b)
}

var paymentColumns = `payment_id, client_id, ` + days("date") + `, ` + cents("amount") + `, currency, coalesce(reference, ''), created_at, updated_at`

func scanPayment(row pgx.Row) (ledger.PaymentView, error) {
	var v ledger.PaymentView
	var d int32
	var a int64
	err := row.Scan(&v.PaymentID, &v.ClientID, &d, &a, &v.Currency, &v.Reference, &v.CreatedAt, &v.UpdatedAt)
	v.Date, v.Amount = ledger.Date(d), ledger.Money(a)
	return v, err
}

type querier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
}

func paymentAllocations(ctx context.Context, q querier, paymentID string) ([]ledger.Allocation, error) {
	rows, err := q.Query(ctx, `SELECT invoice_id, `+cents("amount")+` FROM allocations WHERE kind = 'payment' AND source_id = $1 AND source_id NOT LIKE 'settle:%' ORDER BY invoice_id`, paymentID)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (ledger.Allocation, error) {
		var a ledger.Allocation
		var c int64
		err := r.Scan(&a.InvoiceID, &c)
		a.Amount = ledger.Money(c)
		return a, err
	})
}

// GetPayment reads a payment with its allocations and what is left unapplied.
func (l *Ledger) GetPayment(ctx context.Context, id string) (ledger.PaymentView, error) {
	v, err := scanPayment(l.db.Pool.QueryRow(ctx, `SELECT `+paymentColumns+` FROM payments WHERE payment_id = $1`, id))
	if isNoRows(err) && strings.HasPrefix(id, ledger.SettlementPrefix) {
		return l.getSettlement(ctx, id)
	}
	if isNoRows(err) {
		return v, notFound("payment", id)
	}
	if err != nil {
		return v, unavailable(err, "get payment")
	}
	v.Allocations, err = paymentAllocations(ctx, l.db.Pool, id)
	if err != nil {
		return v, unavailable(err, "get payment")
	}
	if v.Allocations == nil {
		v.Allocations = []ledger.Allocation{}
	}
	for _, a := range v.Allocations {
		v.Allocated += a.Amount
	}
	v.Unapplied = v.Amount - v.Allocated
	return v, nil
}

// getSettlement reads the payment an invoices import recorded from a paid_date column: it lives
// only as the invoice's allocation "settle:<invoice id>".
func (l *Ledger) getSettlement(ctx context.Context, id string) (ledger.PaymentView, error) {
	var v ledger.PaymentView
	var d int32
	var a int64
	err := l.db.Pool.QueryRow(ctx, `SELECT i.client_id, i.currency, `+days("a.date")+`, `+cents("a.amount")+`, i.created_at, i.updated_at
		FROM allocations a JOIN invoices i USING (invoice_id)
		WHERE a.kind = 'payment' AND a.source_id = $1 AND a.invoice_id = $2`, id, strings.TrimPrefix(id, ledger.SettlementPrefix)).
		Scan(&v.ClientID, &v.Currency, &d, &a, &v.CreatedAt, &v.UpdatedAt)
	if isNoRows(err) {
		return v, notFound("payment", id)
	}
	if err != nil {
		return v, unavailable(err, "get payment")
	}
	v.PaymentID, v.Date, v.Amount, v.Allocated = id, ledger.Date(d), ledger.Money(a), ledger.Money(a)
	v.Reference = "settlement recorded by an invoices import"
	v.Allocations = []ledger.Allocation{{InvoiceID: strings.TrimPrefix(id, ledger.SettlementPrefix), Amount: ledger.Money(a)}}
	return v, nil
}
