package receivables

import (
	"math/big"
)

// pointsScale makes every payment point an integer: between anchors the slope is 10 points over
// 10, 20, 15, 7, 8 or 30 days, and 84 (= lcm of 1, 2, 3, 7, 4) times each is a whole number.
const pointsScale = 84

// paymentAnchors are the (dbt, points) pairs of the payment index, in increasing dbt.
var paymentAnchors = [...]struct{ dbt, points int64 }{
	{-30, 100}, {-20, 90}, {0, 80}, {15, 70}, {22, 60}, {30, 50}, {60, 40}, {90, 30}, {120, 20},
}

// paymentPoints84 is PaymentPoints(dbt) x 84, exact.
func paymentPoints84(dbt int) int64 {
	x := int64(dbt)
	first, last := paymentAnchors[0], paymentAnchors[len(paymentAnchors)-1]
	if x <= first.dbt {
		return first.points * pointsScale
	}
	if x >= last.dbt {
		return last.points * pointsScale
	}
	for i := 1; i < len(paymentAnchors); i++ {
		hi := paymentAnchors[i]
		if x <= hi.dbt {
			lo := paymentAnchors[i-1]
			return lo.points*pointsScale + (hi.points-lo.points)*pointsScale*(x-lo.dbt)/(hi.dbt-lo.dbt)
		}
	}
	return last.points * pointsScale // unreachable: x < last.dbt is inside some segment
}

// PaymentPoints is the Paydex-like score of one invoice paid dbt days beyond terms: linear between
// the anchors (-30 -> 100, -20 -> 90, 0 -> 80, 15 -> 70, 22 -> 60, 30 -> 50, 60 -> 40, 90 -> 30,
// 120 -> 20), 100 below -30 and 20 above 120.
func PaymentPoints(dbt int) float64 {
	return float64(paymentPoints84(dbt)) / pointsScale
}

// paidTotals accumulates count, amount and amount x dbt over a set of paid invoices.
type paidTotals struct {
	count  int64
	amount int128
	amtDBT int128
}

func (t *paidTotals) add(g PaidGroup) {
	t.count += int64(g.Count)
	t.amount.add(int64(g.Amount))
	t.amtDBT.addMul(int64(g.Amount), int64(g.DBT))
}

// weightedDBT is the amount-weighted mean dbt, rounded to 2 decimals; nil with no amount.
func (t paidTotals) weightedDBT() *float64 {
	return ratio(t.amtDBT.big(), t.amount.big(), dayDecimals)
}

// paidSummary is Paid reduced to what the payment-behaviour metrics need.
type paidSummary struct {
	all, recent, prior paidTotals
	sumDaysToPay       int64
	late               int64  // invoices paid after their due date (dbt > 0)
	points84           int128 // sum of amount x PaymentPoints(dbt) x 84
}

func summarisePaid(groups []PaidGroup) paidSummary {
	var s paidSummary
	for _, g := range groups {
		s.all.add(g)
		if g.Recent {
			s.recent.add(g)
		} else {
			s.prior.add(g)
		}
		s.sumDaysToPay += g.SumDaysToPay
		if g.DBT > 0 {
			s.late += int64(g.Count)
		}
		s.points84.addMul(int64(g.Amount), paymentPoints84(g.DBT))
	}
	return s
}

// dbtTrend is recent weighted dbt minus prior weighted dbt, from the exact fractions
// (a/b - c/e = (a*e - c*b) / (b*e)); nil when either period has no paid amount.
func dbtTrend(recent, prior paidTotals) *float64 {
	b, e := recent.amount.big(), prior.amount.big()
	if b.Sign() <= 0 || e.Sign() <= 0 {
		return nil
	}
	num := sub(mul(recent.amtDBT.big(), e), mul(prior.amtDBT.big(), b))
	return ratio(num, new(big.Int).Mul(b, e), dayDecimals)
}
