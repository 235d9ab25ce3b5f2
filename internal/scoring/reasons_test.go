package scoring

import (
	"encoding/json"
	"reflect"
	"testing"
)

func TestReasonsOrder(t *testing.T) {
	m := MustTestModel(t)
	best := Features{FeatureWeightedDBT12m: Number(-3), FeatureLateShare12m: Number(0),
		FeatureRelationshipMonths: Int(24), FeatureOpenInsolvency: Bool(false), FeatureDisputeRate12m: Number(0)}
	with := func(changes Features) Features {
		f := Features{}
		for k, v := range best {
			f[k] = v
		}
		for k, v := range changes {
			f[k] = v
		}
		return f
	}
	tests := []struct {
		name string
		f    Features
		want []ReasonText // English
	}{
		{"nothing lost, no reason", best, []ReasonText{}},
		{"one reason", with(Features{FeatureDisputeRate12m: Number(0.06)}),
			[]ReasonText{{"DISPUTES", "6% disputed", 5}}},
		// YOUNG and INSOLVENCY both lose 20: the earlier characteristic of the model comes first;
		// DISPUTES, fifth, is left out.
		{"ties and the top four", with(Features{FeatureWeightedDBT12m: Number(5), FeatureLateShare12m: Number(0.2),
			FeatureRelationshipMonths: Int(3), FeatureOpenInsolvency: Missing(), FeatureDisputeRate12m: Number(0.1)}),
			[]ReasonText{
				{"LATE", "20% of invoices late", 30},
				{"YOUNG", "client for 3 months", 20},
				{"INSOLVENCY", "insolvency status unknown", 20},
				{"DELAY", "pays 5 days late", 10},
			}},
		{"a larger loss passes earlier ones", with(Features{FeatureDisputeRate12m: Number(0.5),
			FeatureWeightedDBT12m: Number(1), FeatureOpenInsolvency: Bool(true)}),
			[]ReasonText{
				{"INSOLVENCY", "insolvency proceeding open: yes", 100},
				{"DELAY", "pays 1 day late", 10},
				{"DISPUTES", "50% disputed", 5},
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Reasons(Score(m, tt.f), "en")
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("reasons\n got %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

func TestReasonsLanguages(t *testing.T) {
	m := MustTestModel(t)
	r := Score(m, Features{FeatureWeightedDBT12m: Number(12.4), FeatureLateShare12m: Number(0.125),
		FeatureRelationshipMonths: Int(1), FeatureOpenInsolvency: Bool(true), FeatureDisputeRate12m: Number(0)})
	en := []string{"insolvency proceeding open: yes", "pays 12 days late", "12.5% of invoices late", "client for 1 month"}
	fr := []string{"procédure collective ouverte : oui", "paie avec 12 jours de retard", "12,5 % des factures en retard", "client depuis 1 mois"}
	tests := []struct {
		lang string
		want []string
	}{
		{"en", en}, {"", en}, {"de", en}, {"en-GB", en},
		{"fr", fr}, {"fr-FR", fr}, {"FR", fr}, {"fr-CA,en;q=0.5", fr}, {"de, fr;q=0.8, en;q=0.5", fr},
		{"en;q=0.9, fr", fr}, {"fr;q=0.2, en", en},
	}
	for _, tt := range tests {
		t.Run(tt.lang, func(t *testing.T) {
			got := Reasons(r, tt.lang)
			texts := make([]string, len(got))
			for i, g := range got {
				texts[i] = g.Text
			}
			if !reflect.DeepEqual(texts, tt.want) {
				t.Errorf("texts %q, want %q", texts, tt.want)
			}
		})
	}
}

// The texts survive the cache: a result read back from JSON gives the same reasons.
func TestReasonsFromJSON(t *testing.T) {
	m := MustTestModel(t)
	r := Score(m, Features{FeatureLateShare12m: Number(0.3)})
	data, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	var back Result
	if err := json.Unmarshal(data, &back); err != nil {
		t.Fatal(err)
	}
	for _, lang := range []string{"en", "fr"} {
		if a, b := Reasons(r, lang), Reasons(back, lang); !reflect.DeepEqual(a, b) {
			t.Errorf("%s: %+v after JSON, want %+v", lang, b, a)
		}
	}
}

func TestFormatValue(t *testing.T) {
	tests := []struct {
		format Format
		v      Value
		en, fr string
	}{
		{FormatDays, Number(23.4), "23 days", "23 jours"},
		{FormatDays, Number(2.5), "3 days", "3 jours"}, // half away from zero
		{FormatDays, Number(-2.5), "-3 days", "-3 jours"},
		{FormatDays, Int(1), "1 day", "1 jour"},
		{FormatDays, Int(-1), "-1 day", "-1 jour"},
		{FormatDays, Int(0), "0 days", "0 jour"},
		{FormatDays, Number(-0.4), "0 days", "0 jour"}, // never "-0"
		{FormatDays, Int(2), "2 days", "2 jours"},
		{FormatPercent, Number(0.125), "12.5%", "12,5 %"},
		{FormatPercent, Number(0.2), "20%", "20 %"},
		{FormatPercent, Number(0.07251), "7.3%", "7,3 %"},
		{FormatPercent, Number(1), "100%", "100 %"},
		{FormatPercent, Number(0), "0%", "0 %"},
		{FormatPercent, Number(0.00001), "0%", "0 %"},
		{FormatMonths, Int(14), "14 months", "14 mois"},
		{FormatMonths, Int(1), "1 month", "1 mois"},
		{FormatCount, Int(3), "3", "3"},
		{FormatCount, Int(0), "0", "0"},
		{FormatGrade, Int(7), "7", "7"},
		{FormatYesNo, Bool(true), "yes", "oui"},
		{FormatYesNo, Bool(false), "no", "non"},
	}
	for _, tt := range tests {
		if got := formatValue(tt.format, langEN, tt.v); got != tt.en {
			t.Errorf("%s %s in English: %q, want %q", tt.format, tt.v, got, tt.en)
		}
		if got := formatValue(tt.format, langFR, tt.v); got != tt.fr {
			t.Errorf("%s %s in French: %q, want %q", tt.format, tt.v, got, tt.fr)
		}
	}
}

func TestMatchLanguage(t *testing.T) {
	tests := map[string]string{
		"": "en", "en": "en", "fr": "fr", "fr-BE": "fr", "*": "en", "es, de": "en",
		"es, fr;q=0.1": "fr", "garbage;;;": "en",
	}
	for header, want := range tests {
		if got := MatchLanguage(header); got != want {
			t.Errorf("MatchLanguage(%q) = %q, want %q", header, got, want)
		}
	}
}
