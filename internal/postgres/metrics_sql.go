package postgres

import (
	"context"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/credorisk/credo/internal/ledger"
	"github.com/credorisk/credo/internal/receivables"
)

// The facts queries are templates (see expand): {key} is the key rows are grouped by
// (i.client_id, or '' for a merged portfolio), {scope} the scope's condition on invoices i,
// {groupKey} the key's place in GROUP BY ("1, ", or nothing for a constant key) and {outerKey}
// the key above a subquery; @names are scope.args. Amounts leave as cents, dates as days since
// 1970-01-01.

// openSQL: invoices open at D (grouped by key and due date) and at B, the day before the window
// (by key). Candidates are the invoices unsettled at B: those unsettled at D are open at D, those
// issued on or before B are open at B. Each contributes its amount, and each of its allocations
// dated on or before D minus its amount, to the dates it is open at (allocations after B do not
// count at B). The candidates' condition is invoices_unsettled's key (00008).
const openSQL = `
SELECT {outerKey}, due - ` + epoch + `, s > ` + atD + ` AS open_d, issue <= ` + atBefore + ` AND d <= ` + atBefore + ` AS open_b,
	(sum(x) * 100)::bigint, sum(n)::bigint
FROM (
	SELECT {key} AS k, i.due_date AS due, i.issue_date AS issue, coalesce(i.settled_on, 'infinity'::date) AS s,
		i.amount AS x, 1 AS n, '-infinity'::date AS d
	FROM invoices i
	WHERE i.kind = 'invoice' AND i.issue_date <= ` + atD + ` AND coalesce(i.settled_on, 'infinity'::date) > ` + atBefore + ` {scope}
	UNION ALL
	SELECT {key}, i.due_date, i.issue_date, coalesce(i.settled_on, 'infinity'::date), -a.amount, 0, a.date
	FROM invoices i JOIN allocations a ON a.invoice_id = i.invoice_id
	WHERE i.kind = 'invoice' AND i.issue_date <= ` + atD + ` AND coalesce(i.settled_on, 'infinity'::date) > ` + atBefore + `
		AND a.date <= ` + atD + ` {scope}
) u
WHERE s > ` + atD + ` OR (issue <= ` + atBefore + ` AND d <= ` + atBefore + `)
GROUP BY {groupKey}2, 3, 4`

// salesSQL: amounts issued in the 24 months ending with D's month (through D), by kind, dispute
// flag and start ({start}, grouped as {startGroup}): the issue day itself, or with many keys the
// first day of its bucket in @buckets (see salesBuckets), fewer rows. Either way a start lies in
// one month and wholly inside or outside (D-12m, D].
const salesSQL = `
SELECT {key} AS k, {start} AS start, i.kind = 'invoice' AS invoice, i.disputed, (sum(i.amount) * 100)::bigint
FROM invoices i
WHERE i.issue_date >= ` + atFirstMonth + ` AND i.issue_date <= ` + atD + ` {scope}
GROUP BY {groupKey}{startGroup}, i.kind, i.disputed`

// Starts of salesSQL: the issue day, or the first day of its bucket.
const (
	startDay    = `i.issue_date - ` + epoch
	startBucket = `(@buckets::int[])[width_bucket(i.issue_date - ` + epoch + `, @buckets::int[])]`
)

// paidSQL: invoices with a paid_date in (D-12m, D], grouped by key, days beyond terms and
// recency.
const paidSQL = `
SELECT {key} AS k, i.paid_date - i.due_date AS dbt, i.paid_date > ` + atRecent + ` AS recent,
	count(*), (sum(i.amount) * 100)::bigint, sum(i.paid_date - i.issue_date)
FROM invoices i
WHERE i.kind = 'invoice' AND i.paid_date > ` + atYearAgo + ` AND i.paid_date <= ` + atD + ` AND i.issue_date <= ` + atD + ` {scope}
GROUP BY {groupKey}2, 3`

// writeOffsSQL: write-offs dated in (D-12m, D] against invoices issued on or before D, one row
// each with its invoice: they add up to WrittenOff12m, and an invoice whose write-off falls on
// its paid_date is not paid (receivables.PaidDate: when the last movements include a
// write-off, the debt was not paid), so it is taken off paidSQL's groups. Write-offs are few;
// this spares paidSQL an anti-join over every paid invoice.
const writeOffsSQL = `
SELECT {key} AS k, (w.amount * 100)::bigint, i.paid_date = w.date AS on_paid_day, i.paid_date - i.due_date,
	i.paid_date > ` + atRecent + `, (i.amount * 100)::bigint, i.paid_date - i.issue_date
FROM allocations w JOIN invoices i ON i.invoice_id = w.invoice_id
WHERE w.kind = 'write_off' AND w.date > ` + atYearAgo + ` AND w.date <= ` + atD + ` AND i.issue_date <= ` + atD + ` {scope}`

// firstByClientSQL: each client of the scope ({clients}: the condition on clients c) with its
// first invoice's issue date on or before D (NULL without one): one index probe per client.
const firstByClientSQL = `
SELECT c.client_id, f.first - ` + epoch + `
FROM clients c CROSS JOIN LATERAL (
	SELECT min(i.issue_date) AS first FROM invoices i
	WHERE i.client_id = c.client_id AND i.kind = 'invoice' AND i.issue_date <= ` + atD + `) f
WHERE {clients}
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

// expand fills a query template's {names}.
func expand(q string, t map[string]string) string {
	pairs := make([]string, 0, 2*len(t))
	for k, v := range t {
		pairs = append(pairs, k, v)
	}
	return strings.NewReplacer(pairs...).Replace(q)
}

// factQuery is one facts query and how its rows land in a factSet.
type factQuery struct {
	sql  string
	args pgx.NamedArgs
	scan func(fs *factSet, rows pgx.Rows) error
}

// portfolioKey keys the whole portfolio's paid groups read for FallbackDBT; it cannot be a
// client id (ledger.CheckID allows no '*').
const portfolioKey = "*portfolio"

// fallbackQueries read the whole portfolio's paid groups as of d, merged across clients, under
// portfolioKey (factSet.settle moves them to portfolioPaid): the paid ones, then the unpaid.
func fallbackQueries(d ledger.Date) []factQuery {
	t := map[string]string{"{key}": "'" + portfolioKey + "'::text", "{scope}": "", "{groupKey}": ""}
	args := scope{}.args(d)
	return []factQuery{
		{expand(paidSQL, t), args, (*factSet).scanPaid},
		{expand(writeOffsSQL, t), args, (*factSet).scanWriteOffs},
	}
}

// factQueries lists the facts queries of a scope as of d, the heaviest first. With fallback they
// also read the whole portfolio's paid groups (merged across clients) into portfolioPaid.
func factQueries(s scope, d ledger.Date, fallback bool) []factQuery {
	args := s.args(d)
	t := map[string]string{"{key}": s.key(), "{scope}": s.invoiceCond(), "{groupKey}": "", "{outerKey}": s.key(),
		"{start}": startDay, "{startGroup}": "i.issue_date", "{clients}": s.clientCond()}
	if s.perClient {
		t["{groupKey}"], t["{outerKey}"] = "1, ", "k"
		if s.clientID == "" {
			t["{start}"], t["{startGroup}"] = startBucket, "2"
		}
	}
	sql := func(q string) string { return expand(q, t) }
	var qs []factQuery
	if fallback {
		qs = fallbackQueries(d)[:1] // the portfolio's paid invoices: heavy, and first to start
	}
	qs = append(qs,
		factQuery{sql(openSQL), args, (*factSet).scanOpen},
		factQuery{sql(salesSQL), args, scanSales(receivables.YearAgo(d))},
		factQuery{sql(paidSQL), args, (*factSet).scanPaid},
		factQuery{sql(writeOffsSQL), args, (*factSet).scanWriteOffs})
	if fallback {
		qs = append(qs, fallbackQueries(d)[1])
	}
	switch {
	case s.perClient || s.clientID != "": // one client: also says whether it exists
		qs = append(qs, factQuery{sql(firstByClientSQL), args, func(fs *factSet, rows pgx.Rows) error {
			return fs.scanFirst(rows, true)
		}})
	case s.filtered():
		q := `SELECT ''::text, min(first) FROM (` + sql(firstByClientSQL) + `) f(client_id, first)`
		qs = append(qs, factQuery{q, args, func(fs *factSet, rows pgx.Rows) error { return fs.scanFirst(rows, false) }})
	default:
		qs = append(qs, factQuery{firstSQL, args, func(fs *factSet, rows pgx.Rows) error { return fs.scanFirst(rows, false) }})
	}
	return qs
}

// collect runs the facts queries of a scope as of d in one consistent snapshot (see runShared).
func (m *Metrics) collect(ctx context.Context, s scope, d ledger.Date, fallback bool) (*factSet, error) {
	fs, err := m.runShared(ctx, factQueries(s, d, fallback))
	if err != nil {
		return nil, unavailable(err, "build receivables facts")
	}
	if s.clientID != "" && !fs.exists {
		return nil, notFound("client", s.clientID)
	}
	return fs, nil
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

// scanSales reads salesSQL's rows: net sales by month, and the amounts issued (and disputed)
// from starts after yearAgo.
func scanSales(yearAgo ledger.Date) func(fs *factSet, rows pgx.Rows) error {
	return func(fs *factSet, rows pgx.Rows) error {
		var key string
		var day int32
		var invoice, disputed bool
		var cents int64
		sales := map[string]map[ledger.Date]ledger.Money{}
		_, err := pgx.ForEachRow(rows, []any{&key, &day, &invoice, &disputed, &cents}, func() error {
			start, amount := ledger.Date(day), ledger.Money(cents)
			f := fs.at(key)
			if invoice && start > yearAgo {
				f.Issued12m += amount
				if disputed {
					f.Disputed12m += amount
				}
			}
			if !invoice {
				amount = -amount // a credit note lowers its month's sales
			}
			if sales[key] == nil {
				sales[key] = map[ledger.Date]ledger.Money{}
			}
			sales[key][start.MonthStart()] += amount
			return nil
		})
		for key, months := range sales {
			f := fs.at(key)
			for month, amount := range months {
				f.Months = append(f.Months, receivables.MonthSales{Month: month, Sales: amount})
			}
		}
		return err
	}
}

func (fs *factSet) scanPaid(rows pgx.Rows) error {
	groups, err := scanPaidGroups(rows)
	for _, g := range groups {
		f := fs.at(g.ClientID)
		f.Paid = append(f.Paid, g)
	}
	return err
}

// scanWriteOffs reads writeOffsSQL's rows: WrittenOff12m, and the paid groups to take off
// (factSet.settle).
func (fs *factSet) scanWriteOffs(rows pgx.Rows) error {
	var key string
	var cents, amount int64
	var onPaidDay *bool // NULL: the invoice has no paid_date
	var dbt, days *int32
	var recent *bool
	_, err := pgx.ForEachRow(rows, []any{&key, &cents, &onPaidDay, &dbt, &recent, &amount, &days}, func() error {
		fs.at(key).WrittenOff12m += ledger.Money(cents)
		if onPaidDay != nil && *onPaidDay {
			fs.unpaid[key] = append(fs.unpaid[key], receivables.PaidGroup{ClientID: key, DBT: int(*dbt), Recent: *recent,
				Count: 1, Amount: ledger.Money(amount), SumDaysToPay: int64(*days)})
		}
		return nil
	})
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
