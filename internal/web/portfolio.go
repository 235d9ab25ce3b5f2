package web

import (
	"github.com/credorisk/credo/internal/ledger"
	"github.com/credorisk/credo/internal/receivables"
)

// forecastWeeks is the portfolio page's collection forecast: thirteen weeks, a quarter.
const forecastWeeks = 13

// worsenedDays is the window of the clients whose class worsened, ending at the as-of date.
const worsenedDays = 30

// amountRow is one labelled amount of a table beside a chart, with its share of the total.
type amountRow struct {
	Label  string
	Amount ledger.Money
	Count  int
	Share  *float64
}

type portfolioView struct {
	AsOf          ledger.Date
	Today         ledger.Date
	M             receivables.Metrics
	Aging         []amountRow
	AgingChart    chartSVG
	Forecast      receivables.ForecastResult
	Weeks         []amountRow
	ForecastChart chartSVG
	Classes       []classRow
	Total         ClassExposure
	Worsened      []Worsening
	WorsenedFrom  ledger.Date
	Model         string
}

// classRow is a risk class with the label shown for it ("not scored" for class "").
type classRow struct {
	ClassExposure
	Label string
	Share *float64
}

func share(part, total ledger.Money) *float64 {
	if total == 0 {
		return nil
	}
	s := float64(part) / float64(total)
	return &s
}

// agingRows lists the aged balance's buckets, in age order.
func agingRows(v *view, a receivables.Aging, total ledger.Money) []amountRow {
	rows := []amountRow{
		{Label: v.T("aging.current"), Amount: a.Current},
		{Label: v.T("aging.d1_30"), Amount: a.D1to30},
		{Label: v.T("aging.d31_60"), Amount: a.D31to60},
		{Label: v.T("aging.d61_90"), Amount: a.D61to90},
		{Label: v.T("aging.d90_plus"), Amount: a.D90Plus},
	}
	for i := range rows {
		rows[i].Share = share(rows[i].Amount, total)
	}
	return rows
}

func amountBars(v *view, rows []amountRow) []bar {
	out := make([]bar, len(rows))
	for i, r := range rows {
		out[i] = bar{Label: r.Label, Value: float64(r.Amount), Text: v.Money(r.Amount)}
	}
	return out
}

func (c *Console) portfolio(q *req) error {
	if c.Metrics == nil || c.Board == nil || c.Scores == nil {
		return errNotConfigured("the portfolio")
	}
	ctx, v := q.r.Context(), q.v
	today := ledger.DateFromTime(c.Now())
	asOf, err := receivables.ParseAsOf(q.r.URL.Query().Get("as_of"), today)
	if err != nil {
		return err
	}
	pv := portfolioView{AsOf: asOf, Today: today, Model: c.Scores.ModelVersion()}
	pv.WorsenedFrom = asOf.AddDays(-(worsenedDays - 1))
	// The board's queries run beside the receivables facts: with a database that has cores to
	// spare the page waits for the longer one, not their sum (on this 2-core machine, where both
	// are CPU-bound there, it makes no difference).
	var classes []ClassExposure
	var boardErr error
	boardDone := make(chan struct{})
	go func() {
		defer close(boardDone)
		if classes, boardErr = c.Board.RiskClasses(ctx, pv.Model, asOf); boardErr == nil {
			pv.Worsened, boardErr = c.Board.Worsened(ctx, pv.Model, pv.WorsenedFrom.Time(), asOf.AddDays(1).Time(), 50)
		}
	}()
	facts, err := c.Metrics.PortfolioFacts(ctx, asOf, "", "", true)
	<-boardDone
	if err != nil {
		return err
	}
	if boardErr != nil {
		return boardErr
	}
	pv.M = receivables.Compute(facts)
	if pv.Forecast, err = receivables.Forecast(facts, forecastWeeks*7); err != nil {
		return err
	}
	pv.Aging = agingRows(v, pv.M.Aging, pv.M.OpenAR)
	pv.AgingChart = barChart("aging-chart", v.T("portfolio.aging"), amountBars(v, pv.Aging))
	for _, b := range pv.Forecast.Buckets {
		pv.Weeks = append(pv.Weeks, amountRow{Label: v.loc.shortDate(b.From), Amount: b.Amount, Count: b.InvoiceCount})
	}
	pv.ForecastChart = barChart("forecast-chart", v.T("portfolio.forecast"), amountBars(v, pv.Weeks))
	for _, cl := range classes {
		pv.Total.Clients += cl.Clients
		pv.Total.Exposure += cl.Exposure
	}
	for _, cl := range classes {
		label := cl.Class
		if label == "" {
			label = v.T("class.none")
		}
		pv.Classes = append(pv.Classes, classRow{ClassExposure: cl, Label: label, Share: share(cl.Exposure, pv.Total.Exposure)})
	}
	v.Title = v.T("nav.portfolio")
	v.Data = pv
	c.render(q.w, q.r, v, 200, "portfolio")
	return nil
}
