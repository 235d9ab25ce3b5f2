package postgres

import (
	"cmp"
	"context"
	"slices"

	"github.com/jackc/pgx/v5"

	"github.com/credorisk/credo/internal/ledger"
	"github.com/credorisk/credo/internal/receivables"
)

// Metrics builds receivables.Facts from the ledger with a few set-based queries, for one client,
// the portfolio (optionally one country or sector), or many clients at once (the scorer).
//
// It relies on the ledger's settlement invariant: allocations never exceed an invoice's balance,
// and settled_on is the date of the last allocation once they add up to the amount. So an
// invoice is open at D exactly when it is issued on or before D and settled_on is NULL or after
// D, and the balances of open invoices sum to their amounts minus their allocations dated on or
// before D: no per-invoice balance has to be computed. The cross-check tests compare every fact
// with receivables.BuildFacts over the same ledger read back invoice by invoice.
type Metrics struct {
	db *DB
}

// NewMetrics returns the facts builder over db.
func NewMetrics(db *DB) *Metrics { return &Metrics{db: db} }

// scope says whose invoices a query covers and how its results are keyed.
type scope struct {
	clientID        string   // one client
	country, sector string   // portfolio filters; empty matches every client
	ids             []string // batch: these clients
	batch           bool     // batch: ids, or every client when ids is nil
	// perClient keys the groups by client_id; otherwise every row has the key "" (a merged
	// portfolio: the same metrics from far fewer rows).
	perClient bool
}

// key is the SQL expression results are keyed by, over invoices i.
func (s scope) key() string {
	if s.perClient {
		return "i.client_id"
	}
	return "''::text"
}

// filtered reports whether the scope is less than every client.
func (s scope) filtered() bool {
	return s.clientID != "" || s.country != "" || s.sector != "" || (s.batch && s.ids != nil)
}

// clientCond is the condition on clients c selecting the scope's clients.
func (s scope) clientCond() string {
	switch {
	case s.clientID != "":
		return "c.client_id = @client"
	case s.batch && s.ids != nil:
		return "c.client_id = ANY(@ids)"
	}
	cond := "true"
	if s.country != "" {
		cond += " AND c.country = @country"
	}
	if s.sector != "" {
		cond += " AND c.sector = @sector"
	}
	return cond
}

// invoiceCond is the condition on invoices i (with a leading AND) selecting the scope's invoices.
func (s scope) invoiceCond() string {
	switch {
	case s.clientID != "":
		return "AND i.client_id = @client"
	case s.batch && s.ids != nil:
		return "AND i.client_id = ANY(@ids)"
	case s.country != "" || s.sector != "":
		return "AND i.client_id IN (SELECT c.client_id FROM clients c WHERE " + s.clientCond() + ")"
	}
	return ""
}

// args are the named arguments of every facts query as of d; a query uses the ones it names.
func (s scope) args(d ledger.Date) pgx.NamedArgs {
	return pgx.NamedArgs{
		"d":          dateArg(d),
		"before":     dateArg(receivables.WindowStart(d) - 1),
		"yearAgo":    dateArg(receivables.YearAgo(d)),
		"recent":     dateArg(receivables.RecentStart(d)),
		"firstMonth": dateArg(receivables.FirstSalesMonth(d)),
		"buckets":    salesBuckets(d),
		"client":     s.clientID,
		"country":    s.country,
		"sector":     s.sector,
		"ids":        s.ids,
	}
}

// salesBuckets are the first days (as day numbers, ascending) of the 24 months ending with d's
// month, plus the day after d.AddMonths(-12) when it falls inside a month: see salesSQL.
func salesBuckets(d ledger.Date) []int32 {
	var out []int32
	split := receivables.YearAgo(d) + 1
	for month := receivables.FirstSalesMonth(d); month <= d; month = month.AddMonths(1) {
		if split > month && split < month.AddMonths(1) {
			out = append(out, dateArg(month), dateArg(split))
		} else {
			out = append(out, dateArg(month))
		}
	}
	return out
}

// ClientFacts builds one client's facts as of asOf, as receivables.BuildFacts defines them. With
// forecast, FallbackDBT holds the whole portfolio's weighted dbt (one more query, which only
// receivables.Forecast reads); without it FallbackDBT is nil. An unknown client is a
// fault.NotFound.
func (m *Metrics) ClientFacts(ctx context.Context, clientID string, asOf ledger.Date, forecast bool) (receivables.Facts, error) {
	// Keyed by a constant rather than client_id: the same rows with less work per row.
	all, err := m.collect(ctx, scope{clientID: clientID}, asOf, forecast)
	if err != nil {
		return receivables.Facts{}, err
	}
	f := all.merged(asOf)
	for i := range f.Open {
		f.Open[i].ClientID = clientID
	}
	for i := range f.Paid {
		f.Paid[i].ClientID = clientID
	}
	if forecast {
		f.FallbackDBT = receivables.WeightedDBT(all.portfolioPaid)
	}
	return f, nil
}

// PortfolioFacts builds the facts of every client, or of the clients of one country and/or
// sector (empty matches all), as of asOf, for one use. Without forecast: what
// receivables.Compute reads, as receivables.BuildFacts gives them over those clients' invoices
// but with the Open and Paid groups merged across clients (ClientID empty), the same metrics
// from far fewer rows; FallbackDBT is nil. With forecast: what receivables.Forecast reads (see
// forecastFacts): Open exactly as BuildFacts gives it, each client's paid invoices reduced to
// groups with the same count, amount and weighted dbt, and the whole portfolio's weighted dbt as
// FallbackDBT; the other fields are zero.
func (m *Metrics) PortfolioFacts(ctx context.Context, asOf ledger.Date, country, sector string, forecast bool) (receivables.Facts, error) {
	s := scope{country: country, sector: sector}
	if forecast {
		return m.forecastFacts(ctx, s, asOf)
	}
	all, err := m.collect(ctx, s, asOf, false)
	if err != nil {
		return receivables.Facts{}, err
	}
	return all.merged(asOf), nil
}

// FactsByClient builds the facts of many clients as of asOf in one pass of set-based queries:
// the listed clients, or every client when clientIDs is nil. Each entry is what ClientFacts gives
// with forecast (FallbackDBT is the whole portfolio's, computed once). A client with no invoices
// has an entry with empty facts; listed ids that are no client are absent from the map.
func (m *Metrics) FactsByClient(ctx context.Context, asOf ledger.Date, clientIDs []string) (map[string]receivables.Facts, error) {
	s := scope{batch: true, ids: clientIDs, perClient: true}
	if s.ids != nil && len(s.ids) == 0 {
		return map[string]receivables.Facts{}, nil
	}
	all, err := m.collect(ctx, s, asOf, s.filtered())
	if err != nil {
		return nil, err
	}
	fallback := receivables.WeightedDBT(all.portfolioPaid)
	if !s.filtered() {
		fallback = receivables.WeightedDBT(all.merged(asOf).Paid)
	}
	out := make(map[string]receivables.Facts, len(all.clients))
	for _, id := range all.clients {
		f := all.facts(id, asOf)
		f.FallbackDBT = fallback
		out[id] = f
	}
	return out, nil
}

// PortfolioDBT is the whole portfolio's weighted_dbt_12m as of asOf, unrounded: the forecast's
// FallbackDBT (receivables.WeightedDBT over the portfolio's paid invoices); nil when no invoice
// was paid in the year.
func (m *Metrics) PortfolioDBT(ctx context.Context, asOf ledger.Date) (*float64, error) {
	fs, err := m.runShared(ctx, fallbackQueries(asOf))
	if err != nil {
		return nil, unavailable(err, "portfolio dbt")
	}
	return receivables.WeightedDBT(fs.portfolioPaid), nil
}

// factSet accumulates query results by key (a client id, or "" for a merged portfolio).
type factSet struct {
	byKey   map[string]*receivables.Facts
	clients []string // the scope's clients, in client_id order (from the first-invoice query)
	exists  bool     // the one client asked for exists
	// portfolioPaid is the whole portfolio's paid groups merged across clients, for FallbackDBT.
	portfolioPaid []receivables.PaidGroup
	// unpaid holds, by key, paid groups to take off Paid (see writeOffsSQL).
	unpaid map[string][]receivables.PaidGroup
	// totals holds each client's paid totals, for forecasts (see forecastFacts).
	totals map[string]*paidTotal
}

// settle takes the unpaid groups off the paid ones (dropping groups left empty) and off the paid
// totals, and moves the portfolio's paid groups out of byKey.
func (fs *factSet) settle() {
	type gk struct {
		dbt    int
		recent bool
	}
	for key, off := range fs.unpaid {
		if t := fs.totals[key]; t != nil {
			for _, u := range off {
				t.takeOff(u)
			}
		}
		f := fs.at(key)
		at := map[gk]int{}
		for i, g := range f.Paid {
			at[gk{g.DBT, g.Recent}] = i
		}
		for _, u := range off {
			if i, ok := at[gk{u.DBT, u.Recent}]; ok {
				g := &f.Paid[i]
				g.Count -= u.Count
				g.Amount -= u.Amount
				g.SumDaysToPay -= u.SumDaysToPay
			}
		}
		f.Paid = slices.DeleteFunc(f.Paid, func(g receivables.PaidGroup) bool { return g.Count == 0 })
	}
	fs.unpaid = map[string][]receivables.PaidGroup{}
	if p, ok := fs.byKey[portfolioKey]; ok {
		fs.portfolioPaid = p.Paid
		delete(fs.byKey, portfolioKey)
	}
}

func (fs *factSet) at(key string) *receivables.Facts {
	f := fs.byKey[key]
	if f == nil {
		f = &receivables.Facts{}
		fs.byKey[key] = f
	}
	return f
}

// facts returns the facts of one key, sorted as receivables.BuildFacts sorts them.
func (fs *factSet) facts(key string, asOf ledger.Date) receivables.Facts {
	f := receivables.Facts{}
	if p := fs.byKey[key]; p != nil {
		f = *p
	}
	f.AsOf = asOf
	sortFacts(&f)
	return f
}

// merged returns the facts of every key added together, sorted.
func (fs *factSet) merged(asOf ledger.Date) receivables.Facts {
	f := receivables.Facts{AsOf: asOf}
	months := map[ledger.Date]ledger.Money{}
	for _, p := range fs.byKey {
		f.Open = append(f.Open, p.Open...)
		f.Paid = append(f.Paid, p.Paid...)
		for _, ms := range p.Months {
			months[ms.Month] += ms.Sales
		}
		f.OpenBeforeWindow += p.OpenBeforeWindow
		f.Issued12m += p.Issued12m
		f.Disputed12m += p.Disputed12m
		f.WrittenOff12m += p.WrittenOff12m
		if p.FirstInvoice != nil && (f.FirstInvoice == nil || *p.FirstInvoice < *f.FirstInvoice) {
			first := *p.FirstInvoice
			f.FirstInvoice = &first
		}
	}
	for month, sales := range months {
		f.Months = append(f.Months, receivables.MonthSales{Month: month, Sales: sales})
	}
	sortFacts(&f)
	return f
}

// sortFacts orders groups as receivables.BuildFacts does, so that facts compare equal.
func sortFacts(f *receivables.Facts) {
	slices.SortFunc(f.Open, func(a, b receivables.OpenItem) int {
		return cmp.Or(cmp.Compare(a.ClientID, b.ClientID), cmp.Compare(a.DueDate, b.DueDate))
	})
	slices.SortFunc(f.Paid, func(a, b receivables.PaidGroup) int {
		return cmp.Or(cmp.Compare(a.ClientID, b.ClientID), cmp.Compare(a.DBT, b.DBT), compareBool(a.Recent, b.Recent))
	})
	slices.SortFunc(f.Months, func(a, b receivables.MonthSales) int { return cmp.Compare(a.Month, b.Month) })
}

func compareBool(a, b bool) int {
	switch {
	case a == b:
		return 0
	case !a:
		return -1
	}
	return 1
}
