package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/credorisk/credo/internal/ledger"
	"github.com/credorisk/credo/internal/receivables"
)

// The facts queries. %[1]s is the key expression (i.client_id, or '' for a merged portfolio) and
// %[2]s the scope's condition on invoices i; @names are scope.args. Amounts leave as cents and
// dates as days since 1970-01-01.

// openSQL: invoices open at D (grouped by key and due date) and at B, the day before the window
// (by key). Candidates are the invoices unsettled at B: those unsettled at D are open at D, those
// issued on or before B are open at B. Each contributes its amount, and each of its allocations
// dated on or before D minus its amount, to the dates it is open at (allocations after B do not
// count at B).
const openSQL = `
SELECT k, due - ` + epoch + `, s > ` + atD + ` AS open_d, issue <= ` + atBefore + ` AND d <= ` + atBefore + ` AS open_b,
	(sum(x) * 100)::bigint, sum(n)::bigint
FROM (
	SELECT %[1]s AS k, i.due_date AS due, i.issue_date AS issue, coalesce(i.settled_on, 'infinity'::date) AS s,
		i.amount AS x, 1 AS n, '-infinity'::date AS d
	FROM invoices i
	WHERE i.kind = 'invoice' AND i.issue_date <= ` + atD + ` AND (i.settled_on IS NULL OR i.settled_on > ` + atBefore + `) %[2]s
	UNION ALL
	SELECT %[1]s, i.due_date, i.issue_date, coalesce(i.settled_on, 'infinity'::date), -a.amount, 0, a.date
	FROM invoices i JOIN allocations a ON a.invoice_id = i.invoice_id
	WHERE i.kind = 'invoice' AND i.issue_date <= ` + atD + ` AND (i.settled_on IS NULL OR i.settled_on > ` + atBefore + `)
		AND a.date <= ` + atD + ` %[2]s
) u
WHERE s > ` + atD + ` OR (issue <= ` + atBefore + ` AND d <= ` + atBefore + `)
GROUP BY 1, 2, 3, 4`

// monthsSQL: net sales per calendar month of the 24 months ending with D's month (through D),
// with the amounts issued and disputed in (D-12m, D], which that range always covers.
const monthsSQL = `
SELECT %[1]s AS k, i.issue_date - date_part('day', i.issue_date)::int + 1 - ` + epoch + ` AS month,
	(sum(CASE WHEN i.kind = 'invoice' THEN i.amount ELSE -i.amount END) * 100)::bigint,
	(coalesce(sum(i.amount) FILTER (WHERE i.kind = 'invoice' AND i.issue_date > ` + atYearAgo + `), 0) * 100)::bigint,
	(coalesce(sum(i.amount) FILTER (WHERE i.kind = 'invoice' AND i.issue_date > ` + atYearAgo + ` AND i.disputed), 0) * 100)::bigint
FROM invoices i
WHERE i.issue_date >= ` + atFirstMonth + ` AND i.issue_date <= ` + atD + ` %[2]s
GROUP BY 1, 2`

// paidSQL: invoices paid in (D-12m, D] grouped by key, days beyond terms and recency. An invoice
// is paid on paid_date unless a write-off is dated that same day (receivables.PaidDate: when the
// last movements include a write-off, the debt was not paid).
const paidSQL = `
SELECT %[1]s AS k, i.paid_date - i.due_date AS dbt, i.paid_date > ` + atRecent + ` AS recent,
	count(*), (sum(i.amount) * 100)::bigint, sum(i.paid_date - i.issue_date)
FROM invoices i
WHERE i.kind = 'invoice' AND i.paid_date > ` + atYearAgo + ` AND i.paid_date <= ` + atD + ` AND i.issue_date <= ` + atD + ` %[2]s
	AND NOT EXISTS (SELECT 1 FROM allocations w WHERE w.invoice_id = i.invoice_id AND w.kind = 'write_off' AND w.date = i.paid_date)
GROUP BY 1, 2, 3`

// writtenOffSQL: write-offs dated in (D-12m, D] against invoices issued on or before D.
const writtenOffSQL = `
SELECT %[1]s AS k, (sum(a.amount) * 100)::bigint
FROM allocations a JOIN invoices i ON i.invoice_id = a.invoice_id
WHERE a.kind = 'write_off' AND a.date > ` + atYearAgo + ` AND a.date <= ` + atD + ` AND i.issue_date <= ` + atD + ` %[2]s
GROUP BY 1`

// firstByClientSQL: each client of the scope (%[1]s: the condition on clients c) with its first
// invoice's issue date on or before D (NULL without one): one index probe per client.
const firstByClientSQL = `
SELECT c.client_id, f.first - ` + epoch + `
FROM clients c CROSS JOIN LATERAL (
	SELECT min(i.issue_date) AS first FROM invoices i
	WHERE i.client_id = c.client_id AND i.kind = 'invoice' AND i.issue_date <= ` + atD + `) f
WHERE %[1]s
ORDER BY c.client_id`

// firstSQL: the portfolio's first invoice on or before D.
const firstSQL = `
SELECT ''::text, min(i.issue_date) - ` + epoch + ` FROM invoices i WHERE i.kind = 'invoice' AND i.issue_date <= ` + atD

// Query dates: named int arguments (days since 1970-01-01) as date expressions.
const (
	atD          = "(" + epoch + " + @d::int)"
	atBefore     = "(" + epoch + " + @before::int)"
	atYearAgo    = "(" + epoch + " + @yearAgo::int)"
	atRecent     = "(" + epoch + " + @recent::int)"
	atFirstMonth = "(" + epoch + " + @firstMonth::int)"
)

// collect runs the facts queries of a scope as of d in one read-only snapshot, so that every fact
// describes the same ledger state, and in one round trip. With fallback it also reads the whole
// portfolio's paid groups (merged across clients) into fs.portfolioPaid.
func (m *Metrics) collect(ctx context.Context, s scope, d ledger.Date, fallback bool) (*factSet, error) {
	fs := &factSet{byKey: map[string]*receivables.Facts{}}
	err := m.readSnapshot(ctx, "build receivables facts", func(tx pgx.Tx) error {
		args := s.args(d)
		b := &pgx.Batch{}
		// These queries aggregate whole tables: JIT compilation costs more than it saves, and
		// hash aggregation over many clients needs more than the default memory.
		b.Queue(`SELECT set_config('jit', 'off', true), set_config('work_mem', '64MB', true)`)
		key, cond := s.key(), s.invoiceCond()
		if s.perClient || s.filtered() {
			clientCond := s.clientCond()
			q := fmt.Sprintf(firstByClientSQL, clientCond)
			if !s.perClient {
				q = `SELECT ''::text, min(first) FROM (` + q + `) f(client_id, first)`
			}
			b.Queue(q, args).Query(func(rows pgx.Rows) error { return fs.scanFirst(rows, s.perClient) })
		} else {
			b.Queue(firstSQL, args).Query(func(rows pgx.Rows) error { return fs.scanFirst(rows, false) })
		}
		b.Queue(fmt.Sprintf(openSQL, key, cond), args).Query(fs.scanOpen)
		b.Queue(fmt.Sprintf(monthsSQL, key, cond), args).Query(fs.scanMonths)
		b.Queue(fmt.Sprintf(paidSQL, key, cond), args).Query(fs.scanPaid)
		b.Queue(fmt.Sprintf(writtenOffSQL, key, cond), args).Query(fs.scanWrittenOff)
		if fallback {
			all := scope{}
			b.Queue(fmt.Sprintf(paidSQL, all.key(), all.invoiceCond()), all.args(d)).Query(func(rows pgx.Rows) error {
				var err error
				fs.portfolioPaid, err = scanPaidGroups(rows)
				return err
			})
		}
		return tx.SendBatch(ctx, b).Close()
	})
	if err != nil {
		return nil, err
	}
	if s.clientID != "" && !fs.exists {
		return nil, notFound("client", s.clientID)
	}
	return fs, nil
}

// readSnapshot runs fn in a read-only repeatable-read transaction: one consistent snapshot.
func (m *Metrics) readSnapshot(ctx context.Context, what string, fn func(pgx.Tx) error) error {
	tx, err := m.db.Pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		return unavailable(err, what)
	}
	defer func() { _ = tx.Rollback(ctx) }()
	return unavailable(fn(tx), what)
}

// scanFirst reads (key, first invoice day or NULL); per client, the keys are the scope's clients.
func (fs *factSet) scanFirst(rows pgx.Rows, perClient bool) error {
	var key string
	var first *int32
	_, err := pgx.ForEachRow(rows, []any{&key, &first}, func() error {
		fs.exists = true
		if perClient {
			fs.clients = append(fs.clients, key)
		}
		if first != nil {
			d := ledger.Date(*first)
			fs.at(key).FirstInvoice = &d
		}
		return nil
	})
	return err
}

type openKey struct {
	key string
	due ledger.Date
}

func (fs *factSet) scanOpen(rows pgx.Rows) error {
	var key string
	var due int32
	var openD, openB bool
	var cents, n int64
	items := map[openKey]*receivables.OpenItem{}
	_, err := pgx.ForEachRow(rows, []any{&key, &due, &openD, &openB, &cents, &n}, func() error {
		if openB {
			fs.at(key).OpenBeforeWindow += ledger.Money(cents)
		}
		if openD {
			k := openKey{key, ledger.Date(due)}
			it := items[k]
			if it == nil {
				it = &receivables.OpenItem{ClientID: key, DueDate: k.due}
				items[k] = it
			}
			it.Balance += ledger.Money(cents)
			it.Count += int(n)
		}
		return nil
	})
	for k, it := range items {
		f := fs.at(k.key)
		f.Open = append(f.Open, *it)
	}
	return err
}

func (fs *factSet) scanMonths(rows pgx.Rows) error {
	var key string
	var month int32
	var sales, issued, disputed int64
	_, err := pgx.ForEachRow(rows, []any{&key, &month, &sales, &issued, &disputed}, func() error {
		f := fs.at(key)
		f.Months = append(f.Months, receivables.MonthSales{Month: ledger.Date(month), Sales: ledger.Money(sales)})
		f.Issued12m += ledger.Money(issued)
		f.Disputed12m += ledger.Money(disputed)
		return nil
	})
	return err
}

func (fs *factSet) scanPaid(rows pgx.Rows) error {
	groups, err := scanPaidGroups(rows)
	for _, g := range groups {
		f := fs.at(g.ClientID)
		f.Paid = append(f.Paid, g)
	}
	return err
}

func scanPaidGroups(rows pgx.Rows) ([]receivables.PaidGroup, error) {
	var out []receivables.PaidGroup
	var g receivables.PaidGroup
	var dbt int32
	var count, cents int64
	_, err := pgx.ForEachRow(rows, []any{&g.ClientID, &dbt, &g.Recent, &count, &cents, &g.SumDaysToPay}, func() error {
		g.DBT, g.Count, g.Amount = int(dbt), int(count), ledger.Money(cents)
		out = append(out, g)
		return nil
	})
	return out, err
}

func (fs *factSet) scanWrittenOff(rows pgx.Rows) error {
	var key string
	var cents int64
	_, err := pgx.ForEachRow(rows, []any{&key, &cents}, func() error {
		fs.at(key).WrittenOff12m += ledger.Money(cents)
		return nil
	})
	return err
}
