package scoring

import (
	"encoding/json"
	"testing"
)

// benchClient is a typical client: some late payments, a little overdue, no solvency data yet.
var benchClient = Features{
	FeatureWeightedDBT12m: Number(12.7), FeatureLateShare12m: Number(0.35), FeatureMaxDaysOverdue: Int(20),
	FeatureOverdueRate: Number(0.15), FeatureDBTTrend: Number(1.5), FeatureDisputeRate12m: Number(0.01),
	FeatureRelationshipMonths: Int(48), FeaturePaidCount12m: Int(20),
}

func BenchmarkScore(b *testing.B) {
	m := MustDefaultModel(b)
	b.ReportAllocs()
	for b.Loop() {
		Score(m, benchClient)
	}
}

func BenchmarkScoreProspect(b *testing.B) {
	m := MustDefaultModel(b)
	f := Features{}
	b.ReportAllocs()
	for b.Loop() {
		Score(m, f)
	}
}

func BenchmarkReasons(b *testing.B) {
	r := Score(MustDefaultModel(b), benchClient)
	for _, lang := range []string{"fr", "fr-FR,fr;q=0.9,en;q=0.8"} {
		b.Run(lang, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				Reasons(r, lang)
			}
		})
	}
}

// BenchmarkResultJSON is the cost of writing a result to the cache.
func BenchmarkResultJSON(b *testing.B) {
	r := Score(MustDefaultModel(b), benchClient)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := json.Marshal(r); err != nil {
			b.Fatal(err)
		}
	}
}
