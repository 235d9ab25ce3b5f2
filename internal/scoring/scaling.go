package scoring

import "math"

// Scaling ties scores to odds: base_odds (good:bad) at base_score, and every pdo points double the
// odds. With factor = pdo / ln 2 and offset = base_score - factor * ln(base_odds):
// odds = exp((score - offset) / factor) and PD = 1 / (1 + odds).
type Scaling struct {
	BaseScore float64 `json:"base_score"`
	BaseOdds  float64 `json:"base_odds"`
	PDO       float64 `json:"pdo"`
}

// Factor is the number of points per unit of log-odds.
func (s Scaling) Factor() float64 { return s.PDO / math.Ln2 }

// Offset is the score at odds 1:1 (log-odds zero).
func (s Scaling) Offset() float64 { return s.BaseScore - s.Factor()*math.Log(s.BaseOdds) }

// Odds returns the good:bad odds of a score.
func (s Scaling) Odds(score float64) float64 {
	return math.Exp((score - s.Offset()) / s.Factor())
}

// PD returns the probability of default of a score, 1 / (1 + odds), at full precision.
func (s Scaling) PD(score float64) float64 { return 1 / (1 + s.Odds(score)) }

// pdDecimals is how many decimals Result.PD keeps: enough for any class boundary, few enough that
// a last-bit difference of math.Exp between CPU architectures cannot change the bytes served.
const pdDecimals = 1e8

// roundPD rounds a PD to 8 decimals.
func roundPD(pd float64) float64 { return math.Round(pd*pdDecimals) / pdDecimals }
