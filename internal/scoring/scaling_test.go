package scoring

import (
	"math"
	"testing"
)

func near(a, b float64) bool { return math.Abs(a-b) <= 1e-12*math.Max(1, math.Abs(b)) }

func TestScaling(t *testing.T) {
	scalings := []Scaling{
		{BaseScore: 600, BaseOdds: 50, PDO: 20},
		{BaseScore: 500, BaseOdds: 20, PDO: 40},
		{BaseScore: 200, BaseOdds: 1.5, PDO: 10},
	}
	for _, s := range scalings {
		if got, want := s.Factor(), s.PDO/math.Ln2; !near(got, want) {
			t.Errorf("%+v factor %v, want %v", s, got, want)
		}
		tests := []struct {
			name     string
			score    float64
			wantOdds float64
		}{
			{"base score gives base odds", s.BaseScore, s.BaseOdds},
			{"pdo more doubles the odds", s.BaseScore + s.PDO, 2 * s.BaseOdds},
			{"pdo less halves the odds", s.BaseScore - s.PDO, s.BaseOdds / 2},
			{"three pdo more: 8 times", s.BaseScore + 3*s.PDO, 8 * s.BaseOdds},
			{"offset gives even odds", s.Offset(), 1},
		}
		for _, tt := range tests {
			if got := s.Odds(tt.score); !near(got, tt.wantOdds) {
				t.Errorf("%+v %s: odds(%v) = %v, want %v", s, tt.name, tt.score, got, tt.wantOdds)
			}
			if got, want := s.PD(tt.score), 1/(1+tt.wantOdds); !near(got, want) {
				t.Errorf("%+v %s: pd(%v) = %v, want %v", s, tt.name, tt.score, got, want)
			}
		}
	}
}

// The default scaling worked by hand: factor = 20 / ln 2 = 28.8539..., offset = 600 - factor *
// ln 50 = 487.1229...; 600 gives PD 1/51.
func TestScalingByHand(t *testing.T) {
	s := Scaling{BaseScore: 600, BaseOdds: 50, PDO: 20}
	if math.Abs(s.Factor()-28.853900817779268) > 1e-9 || math.Abs(s.Offset()-487.1228762045055) > 1e-9 {
		t.Errorf("factor %v offset %v", s.Factor(), s.Offset())
	}
	if got := s.PD(600); math.Abs(got-1.0/51) > 1e-15 {
		t.Errorf("pd(600) = %v, want 1/51", got)
	}
	if got := roundPD(s.PD(600)); got != 0.01960784 {
		t.Errorf("rounded pd(600) = %v, want 0.01960784", got)
	}
	if got := roundPD(s.PD(640)); got != 0.00497512 { // odds 200: 1/201
		t.Errorf("rounded pd(640) = %v, want 0.00497512", got)
	}
}

// PD falls as the score rises, everywhere on the range a model can reach.
func TestPDDecreasing(t *testing.T) {
	s := Scaling{BaseScore: 600, BaseOdds: 50, PDO: 20}
	prev := s.PD(-1000)
	for score := -999.0; score <= 2000; score++ {
		pd := s.PD(score)
		if pd > prev || pd < 0 || pd > 1 {
			t.Fatalf("pd(%v) = %v after %v", score, pd, prev)
		}
		prev = pd
	}
}
