package receivables

import (
	"math"
	"math/big"
	"math/bits"
)

// Decimals of each kind of figure in Metrics: the values are rounded once, from their exact
// rational value, so that the API, the terminal report and the tests agree to the last digit.
const (
	dayDecimals   = 2 // dso, best_possible_dso, add, dso_countback, days to pay, dbt, dbt_trend
	rateDecimals  = 4 // overdue_rate, late_share_12m, dispute_rate_12m, bad_debt_rate_12m
	indexDecimals = 2 // cei (a percentage) and payment_index_12m
)

// int128 is a signed 128-bit accumulator in two's complement. Sums of amount x days over a
// million invoices can pass the int64 range, and big.Int per invoice would be slow.
type int128 struct {
	hi int64
	lo uint64
}

// addMul adds x*y to a.
func (a *int128) addMul(x, y int64) {
	neg := (x < 0) != (y < 0)
	ux, uy := absU64(x), absU64(y)
	hi, lo := bits.Mul64(ux, uy)
	if neg && (hi != 0 || lo != 0) {
		// Negate the 128-bit product: invert and add one.
		lo = ^lo + 1
		hi = ^hi
		if lo == 0 {
			hi++
		}
	}
	var carry uint64
	a.lo, carry = bits.Add64(a.lo, lo, 0)
	a.hi = int64(uint64(a.hi) + hi + carry)
}

// add adds an int64 to a.
func (a *int128) add(x int64) { a.addMul(x, 1) }

// isZero reports whether a is 0.
func (a int128) isZero() bool { return a.hi == 0 && a.lo == 0 }

// big returns a as a big.Int.
func (a int128) big() *big.Int {
	v := new(big.Int).SetInt64(a.hi)
	v.Lsh(v, 64)
	return v.Add(v, new(big.Int).SetUint64(a.lo))
}

func absU64(x int64) uint64 {
	if x < 0 {
		return uint64(-(x + 1)) + 1 // exact for math.MinInt64 too
	}
	return uint64(x)
}

// ratio is num/den rounded half away from zero to the given decimals; nil when den <= 0. Every
// denominator here is an amount or a count that is positive whenever the figure has a meaning, so
// a zero (and, for net sales, a negative) denominator gives null rather than a number.
func ratio(num, den *big.Int, decimals int) *float64 {
	if den.Sign() <= 0 {
		return nil
	}
	v := roundQuo(num, den, decimals)
	return &v
}

// roundQuo is num/den (den > 0) rounded half away from zero to the given decimals, as the
// float64 nearest that decimal (q / 10^d with q and 10^d exact, so the division is exact-rounded).
func roundQuo(num, den *big.Int, decimals int) float64 {
	scale := new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(decimals)), nil)
	n := new(big.Int).Mul(num, scale)
	neg := n.Sign() < 0
	n.Abs(n)
	// q = floor((2n + den) / (2den)) rounds half up on the magnitude.
	n.Lsh(n, 1).Add(n, den)
	d2 := new(big.Int).Lsh(den, 1)
	q := n.Quo(n, d2)
	f, _ := new(big.Float).SetInt(q).Float64()
	f /= float64(scale.Int64())
	if neg && f != 0 {
		f = -f
	}
	return f
}

// roundDays is num/den (den > 0) rounded half away from zero to whole days.
func roundDays(num, den *big.Int) int {
	return int(roundQuo(num, den, 0))
}

// roundFloatDays rounds a day count given as a float to whole days, half away from zero.
func roundFloatDays(v float64) int { return int(math.Round(v)) }

// bi is a short big.Int constructor for int64 operands.
func bi(v int64) *big.Int { return big.NewInt(v) }

// mul returns the product of its operands as a new big.Int.
func mul(vs ...*big.Int) *big.Int {
	p := big.NewInt(1)
	for _, v := range vs {
		p.Mul(p, v)
	}
	return p
}

// sub returns a - b as a new big.Int.
func sub(a, b *big.Int) *big.Int { return new(big.Int).Sub(a, b) }
