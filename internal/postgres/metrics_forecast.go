package postgres

import (
	"context"
	"fmt"
	"math/big"

	"github.com/jackc/pgx/v5"

	"github.com/credorisk/credo/internal/ledger"
	"github.com/credorisk/credo/internal/receivables"
)

// paidTotalsSQL: per client, the invoices with a paid_date in (D-12m, D]: how many, their amount and
// their amount x days beyond terms (cents x days, as text: it may pass int64), all that
// receivables.Forecast reads of a client's payments.
const paidTotalsSQL = `
SELECT i.client_id, count(*), (sum(i.amount) * 100)::bigint, round(sum(i.amount * (i.paid_date - i.due_date)) * 100)::text
FROM invoices i
WHERE i.kind = 'invoice' AND i.paid_date > ` + atYearAgo + ` AND i.paid_date <= ` + atD + ` AND i.issue_date <= ` + atD + ` {scope}
GROUP BY 1`

// openAtSQL: the invoices open at D by key and due date, as openSQL's open_d rows without its
// second date (the forecast needs no B): amounts minus allocations dated on or before D of the
// invoices unsettled at D.
const openAtSQL = `
SELECT k, due - ` + epoch + `, true, false, (sum(x) * 100)::bigint, sum(n)::bigint
FROM (
	SELECT {key} AS k, i.due_date AS due, i.amount AS x, 1 AS n
	FROM invoices i
	WHERE i.kind = 'invoice' AND i.issue_date <= ` + atD + ` AND coalesce(i.settled_on, 'infinity'::date) > ` + atD + ` {scope}
	UNION ALL
	SELECT {key}, i.due_date, -a.amount, 0
	FROM invoices i JOIN allocations a ON a.invoice_id = i.invoice_id
	WHERE i.kind = 'invoice' AND i.issue_date <= ` + atD + ` AND coalesce(i.settled_on, 'infinity'::date) > ` + atD + `
		AND a.date <= ` + atD + ` {scope}
) u
GROUP BY 1, 2`

// paidTotal is what receivables.Forecast reads of one client's paid invoices.
type paidTotal struct {
	count  int
	amount ledger.Money
	amtDBT big.Int // sum of amount (cents) x days beyond terms
}

// forecastFacts builds the facts of a portfolio scope that receivables.Forecast reads: the open
// invoices per client and due date, each client's paid invoices as at most two groups that keep
// their count, amount and amount x dbt (so the client's weighted dbt, and whether it has enough
// paid invoices to use it, are exactly those of its real groups), and the whole portfolio's
// weighted dbt. The other fields are zero. Grouping every paid invoice per client and dbt, or
// sales per client and month, would cost most of the time for nothing Forecast reads.
func (m *Metrics) forecastFacts(ctx context.Context, s scope, d ledger.Date) (receivables.Facts, error) {
	s.perClient = true
	args := s.args(d)
	t := map[string]string{"{key}": s.key(), "{scope}": s.invoiceCond()}
	fallback := fallbackQueries(d)
	qs := []factQuery{
		fallback[0],
		{expand(openAtSQL, t), args, (*factSet).scanOpen},
		{expand(paidTotalsSQL, t), args, (*factSet).scanPaidTotals},
		{expand(writeOffsSQL, t), args, (*factSet).scanWriteOffs},
		fallback[1],
	}
	fs, err := m.runShared(ctx, qs)
	if err != nil {
		return receivables.Facts{}, unavailable(err, "build forecast facts")
	}
	all := fs.merged(d)
	f := receivables.Facts{AsOf: d, Open: all.Open, FallbackDBT: receivables.WeightedDBT(fs.portfolioPaid)}
	for key, tot := range fs.totals {
		f.Paid = append(f.Paid, tot.groups(key)...)
	}
	sortFacts(&f)
	return f, nil
}

func (fs *factSet) scanPaidTotals(rows pgx.Rows) error {
	var key, amtDBT string
	var count, cents int64
	_, err := pgx.ForEachRow(rows, []any{&key, &count, &cents, &amtDBT}, func() error {
		t := &paidTotal{count: int(count), amount: ledger.Money(cents)}
		if _, ok := t.amtDBT.SetString(amtDBT, 10); !ok {
			return fmt.Errorf("amount x dbt of %s: %q is not an integer", key, amtDBT)
		}
		fs.totals[key] = t
		return nil
	})
	return err
}

// takeOff removes a paid group from the totals (an invoice written off on its paid day).
func (t *paidTotal) takeOff(g receivables.PaidGroup) {
	t.count -= g.Count
	t.amount -= g.Amount
	t.amtDBT.Sub(&t.amtDBT, new(big.Int).Mul(big.NewInt(int64(g.Amount)), big.NewInt(int64(g.DBT))))
}

// groups are at most two paid groups with the totals' count, amount and amount x dbt: amount A
// with q = floor(S/A) days and the remainder r = S - qA moved one day later (r < A), so that
// sum(amount x dbt) is S again. None when nothing was paid.
func (t *paidTotal) groups(key string) []receivables.PaidGroup {
	if t.count <= 0 || t.amount <= 0 {
		return nil
	}
	q, r := new(big.Int).DivMod(&t.amtDBT, big.NewInt(int64(t.amount)), new(big.Int))
	days := int(q.Int64())
	if r.Sign() == 0 {
		return []receivables.PaidGroup{{ClientID: key, DBT: days, Count: t.count, Amount: t.amount}}
	}
	rest := ledger.Money(r.Int64())
	return []receivables.PaidGroup{
		{ClientID: key, DBT: days, Count: t.count - 1, Amount: t.amount - rest},
		{ClientID: key, DBT: days + 1, Count: 1, Amount: rest},
	}
}
