package scoring_test

import (
	"fmt"

	"github.com/credorisk/credo/internal/scoring"
	"github.com/credorisk/credo/models"
)

func Example() {
	all, err := scoring.LoadModels(models.FS)
	if err != nil {
		panic(err)
	}
	// The service passes CREDO_MODEL, where empty picks the newest; the example pins a version
	// so that its output stays true when a newer model is added.
	m, err := scoring.Select(all, "2026.1")
	if err != nil {
		panic(err)
	}
	f := scoring.Features{
		scoring.FeatureWeightedDBT12m:     scoring.Number(23.4),
		scoring.FeatureLateShare12m:       scoring.Number(0.4),
		scoring.FeatureMaxDaysOverdue:     scoring.Int(0),
		scoring.FeatureOverdueRate:        scoring.Missing(), // nothing open
		scoring.FeatureDBTTrend:           scoring.Number(-1),
		scoring.FeatureDisputeRate12m:     scoring.Number(0),
		scoring.FeatureRelationshipMonths: scoring.Int(30),
		scoring.FeaturePaidCount12m:       scoring.Int(14),
	}
	if err := f.Validate(); err != nil {
		panic(err)
	}
	r := scoring.Score(m, f)
	fmt.Println(r.ModelVersion, r.Score, r.RiskClass, r.PD)
	for _, l := range r.Lines {
		fmt.Printf("%-20s %-6s %-22s %4d / %d\n", l.Feature, l.Value, l.Bin, l.Points, l.MaxPoints)
	}
	for _, rs := range scoring.Reasons(r, "fr") {
		fmt.Printf("%s -%d: %s\n", rs.Code, rs.PointsLost, rs.Text)
	}
	// Output:
	// 2026.1 610 B 0.01394492
	// weighted_dbt_12m     23.4   16 to 30 days late       72 / 110
	// late_share_12m       0.4    30% to under 50%         34 / 60
	// max_days_overdue     0      nothing overdue          95 / 95
	// overdue_rate         null   no open receivables      56 / 60
	// dbt_trend            -1     stable                   38 / 40
	// dispute_rate_12m     0      under 2%                 35 / 35
	// relationship_months  30     2 to 5 years             39 / 45
	// paid_count_12m       14     12 to 23                 46 / 50
	// bureau_grade         null   no grade                 66 / 90
	// company_age_months   null   unknown                  26 / 40
	// open_insolvency      null   unknown                  74 / 80
	// negative_equity      null   unknown                  29 / 35
	// PAYMENT_DELAY -38: paie en moyenne 23 jours après l'échéance sur 12 mois
	// LATE_SHARE -26: 40 % des factures payées en retard sur 12 mois
	// BUREAU_GRADE -24: aucune note de bureau de crédit disponible
	// YOUNG_COMPANY -14: ancienneté de la société inconnue
}
