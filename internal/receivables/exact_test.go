package receivables

import (
	"math"
	"math/big"
	"testing"
)

// TestInt128 compares the accumulator with big.Int on sums that leave the int64 range.
func TestInt128(t *testing.T) {
	tests := []struct {
		name  string
		terms [][2]int64
	}{
		{"small", [][2]int64{{3, 4}, {-5, 6}, {7, -8}}},
		{"past int64", [][2]int64{{math.MaxInt64, 4}, {math.MaxInt64, math.MaxInt64}, {1, 1}}},
		{"negative past int64", [][2]int64{{math.MinInt64, 3}, {math.MaxInt64, -math.MaxInt64}}},
		{"back to zero", [][2]int64{{math.MaxInt64, 7}, {-math.MaxInt64, 7}}},
		{"min int64", [][2]int64{{math.MinInt64, 1}, {math.MinInt64, -1}, {math.MinInt64, math.MinInt64}}},
		{"zero products", [][2]int64{{0, -5}, {-5, 0}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var a int128
			want := new(big.Int)
			for _, term := range tt.terms {
				a.addMul(term[0], term[1])
				want.Add(want, new(big.Int).Mul(big.NewInt(term[0]), big.NewInt(term[1])))
				if got := a.big(); got.Cmp(want) != 0 {
					t.Fatalf("after %d x %d: %s, want %s", term[0], term[1], got, want)
				}
			}
			if a.isZero() != (want.Sign() == 0) {
				t.Errorf("isZero = %v for %s", a.isZero(), want)
			}
		})
	}
}

func TestRoundQuo(t *testing.T) {
	tests := []struct {
		num, den int64
		decimals int
		want     float64
	}{
		{1, 8, 2, 0.13},   // 0.125: half away from zero
		{-1, 8, 2, -0.13}, // -0.125
		{1, 3, 4, 0.3333}, // 0.33333...
		{2, 3, 4, 0.6667}, // 0.66666...
		{-1, 1000, 2, 0},  // -0.001 rounds to 0, not -0
		{5, 2, 0, 3},      // 2.5
		{-5, 2, 0, -3},    // -2.5
		{2318, 100, 2, 23.18},
	}
	for _, tt := range tests {
		got := roundQuo(big.NewInt(tt.num), big.NewInt(tt.den), tt.decimals)
		if got != tt.want || math.Signbit(got) != math.Signbit(tt.want) {
			t.Errorf("roundQuo(%d, %d, %d) = %v, want %v", tt.num, tt.den, tt.decimals, got, tt.want)
		}
	}
	if got := ratio(big.NewInt(1), big.NewInt(0), 2); got != nil {
		t.Errorf("ratio with a zero denominator = %v, want nil", *got)
	}
	if got := ratio(big.NewInt(1), big.NewInt(-3), 2); got != nil {
		t.Errorf("ratio with a negative denominator = %v, want nil", *got)
	}
}
