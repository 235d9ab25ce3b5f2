package scoring

import (
	"encoding/json"
	"errors"
	"math"
	"testing"

	"github.com/credorisk/credo/internal/fault"
)

func TestFeaturesValidate(t *testing.T) {
	tests := []struct {
		name  string
		f     Features
		field string // "" when valid
		msg   string
	}{
		{"empty", Features{}, "", ""},
		{"all fine", Features{FeatureWeightedDBT12m: Number(-4.5), FeatureLateShare12m: Number(1),
			FeatureMaxDaysOverdue: Int(0), FeatureBureauGrade: Int(10), FeatureOpenInsolvency: Bool(false),
			FeatureOverdueRate: Missing()}, "", ""},
		{"unknown", Features{"weighted_dbt_24m": Number(1)}, "weighted_dbt_24m", "is not a known feature"},
		{"wrong kind", Features{FeatureOpenInsolvency: Int(1)}, FeatureOpenInsolvency, "must be a boolean, got a number"},
		{"boolean for a number", Features{FeaturePaidCount12m: Bool(true)}, FeaturePaidCount12m, "must be a number, got a boolean"},
		{"not whole", Features{FeatureRelationshipMonths: Number(3.5)}, FeatureRelationshipMonths, "must be a whole number, got 3.5"},
		{"share above 1", Features{FeatureLateShare12m: Number(1.01)}, FeatureLateShare12m, "must be between 0 and 1, got 1.01"},
		{"grade 0", Features{FeatureBureauGrade: Int(0)}, FeatureBureauGrade, "must be between 1 and 10, got 0"},
		{"negative count", Features{FeaturePaidCount12m: Int(-1)}, FeaturePaidCount12m, "must be between 0 and +inf, got -1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.f.Validate()
			if tt.field == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			var fe *fault.Error
			if !errors.As(err, &fe) || fe.Code != fault.Invalid || len(fe.Fields) != 1 {
				t.Fatalf("want one invalid field, got %v", err)
			}
			if got := fe.Fields[0]; got.Field != tt.field || got.Message != tt.msg {
				t.Errorf("field %q %q, want %q %q", got.Field, got.Message, tt.field, tt.msg)
			}
		})
	}
}

// Several bad fields come back sorted by name, whatever the map order.
func TestFeaturesValidateOrder(t *testing.T) {
	f := Features{FeaturePaidCount12m: Int(-1), FeatureBureauGrade: Int(11), FeatureDBTTrend: Bool(true)}
	var fe *fault.Error
	if err := f.Validate(); !errors.As(err, &fe) || len(fe.Fields) != 3 ||
		fe.Fields[0].Field != FeatureBureauGrade || fe.Fields[1].Field != FeatureDBTTrend || fe.Fields[2].Field != FeaturePaidCount12m {
		t.Fatalf("got %v", err)
	}
}

func TestValueJSON(t *testing.T) {
	tests := []struct {
		v    Value
		json string
	}{
		{Missing(), "null"},
		{Number(23.5), "23.5"},
		{Number(-0.125), "-0.125"},
		{Int(40), "40"},
		{Number(1e-7), "0.0000001"},
		{Bool(true), "true"},
		{Bool(false), "false"},
	}
	for _, tt := range tests {
		data, err := json.Marshal(tt.v)
		if err != nil || string(data) != tt.json {
			t.Errorf("marshal %v: %s %v, want %s", tt.v, data, err, tt.json)
		}
		var back Value
		if err := json.Unmarshal([]byte(tt.json), &back); err != nil || back != tt.v {
			t.Errorf("unmarshal %s: %v %v, want %v", tt.json, back, err, tt.v)
		}
	}
	var v Value
	if err := json.Unmarshal([]byte(`"12"`), &v); err == nil {
		t.Error("a string was accepted as a feature value")
	}
	var f Features
	if err := json.Unmarshal([]byte(`{"bureau_grade": 3, "open_insolvency": null}`), &f); err != nil ||
		f[FeatureBureauGrade] != Int(3) || !f[FeatureOpenInsolvency].IsMissing() {
		t.Errorf("features from JSON: %v %v", f, err)
	}
}

func TestValueConstructors(t *testing.T) {
	x, n, b := 2.5, 7, true
	tests := []struct {
		name string
		got  Value
		kind Kind
	}{
		{"NaN", Number(math.NaN()), KindMissing},
		{"+Inf", Number(math.Inf(1)), KindMissing},
		{"nil float", NumberPtr(nil), KindMissing},
		{"nil int", IntPtr(nil), KindMissing},
		{"nil bool", BoolPtr(nil), KindMissing},
		{"float", NumberPtr(&x), KindNumber},
		{"int", IntPtr(&n), KindNumber},
		{"bool", BoolPtr(&b), KindBool},
	}
	for _, tt := range tests {
		if tt.got.Kind() != tt.kind {
			t.Errorf("%s: kind %s, want %s", tt.name, tt.got.Kind(), tt.kind)
		}
	}
	if f, ok := NumberPtr(&x).Float(); !ok || f != 2.5 {
		t.Errorf("Float() = %v %v", f, ok)
	}
	if v, ok := BoolPtr(&b).BoolValue(); !ok || !v {
		t.Errorf("BoolValue() = %v %v", v, ok)
	}
	if _, ok := Int(1).BoolValue(); ok {
		t.Error("a number reads as a boolean")
	}
}
